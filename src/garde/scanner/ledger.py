"""What a scan has met, file by file, kept on disk (SQLite in the scan's work folder) rather than in
Python: a dump holds millions of files, and one dict per file would make the scan's memory grow with
the dump (about 1.5 KB per file).

Five tables:
- `occurrences`: every file, archive and attachment the walk met, with its walk key (`walk_key`) and
  its status as the walk saw it (`opened` archive, `scanned`, `duplicate` of a content already met);
- `contents`: each distinct content (by SHA-256) once, with the outcome of its scan
  (worker.process_file) once it is known;
- `findings`: the number of findings of each content's part that holds some (set by the report,
  which reads the parts);
- `issues`: what the walk reported instead of a file (encrypted archive, refused member...), and the
  files the report found unreadable (an error in their outcome), by walk key;
- `packed`: for a resumed scan, where the packed parts of the killed run are (packs.index).

Files are scanned in parallel and attachments are met when their file's scan ends, so the order of
arrival is not the walk order. Each event has a walk key (engine._Source: (3,) for the third event
of the walk, (3, 1) for the first attachment of that file); `walk_key` encodes it as text that sorts
in the same order. Read back in walk order, the first occurrence of a content is the scanned one,
whatever the engine and --jobs.
"""

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

_SCHEMA = """
CREATE TABLE occurrences (
    walk_key TEXT PRIMARY KEY, path TEXT, sha256 TEXT, size INTEGER, depth INTEGER, type TEXT, status TEXT
);
CREATE TABLE contents (sha256 TEXT PRIMARY KEY, outcome TEXT);
CREATE TABLE findings (sha256 TEXT PRIMARY KEY, count INTEGER);
CREATE TABLE issues (walk_key TEXT, path TEXT, kind TEXT, reason TEXT);
CREATE TABLE packed (sha256 TEXT PRIMARY KEY, location TEXT);
CREATE INDEX issues_key ON issues (walk_key);
"""
_LOCATED = "('scanned', 'duplicate')"  # occurrences that stand for a content (not an opened archive)
_PENDING = 5_000  # rows written per transaction


def walk_key(key: tuple[int, ...]) -> str:
    """(3, 1) -> "0000000003.0000000001": sorts as the tuples do, a prefix before its extensions."""
    return ".".join(f"{number:010d}" for number in key)


class Ledger:
    def __init__(self, path: Path):
        path.unlink(missing_ok=True)
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode = OFF")  # rebuilt by the walk of a resumed scan
        self.connection.execute("PRAGMA synchronous = OFF")
        self.connection.execute("PRAGMA cache_size = -16000")  # 16 MB
        self.connection.executescript(_SCHEMA)
        self._pending = 0
        self._firsts_ready = False

    # Written during the walk

    def add_issue(self, key: tuple | str, path: str, kind: str, reason: str) -> None:
        """`key`: the walk key, or its text (Ledger.occurrences gives it as `key`)."""
        self._write("INSERT INTO issues VALUES (?, ?, ?, ?)", (key if isinstance(key, str) else walk_key(key), path, kind, reason))

    def add_occurrence(self, key: tuple, path: str, sha256: str, size: int, depth: int, status: str, type_: str | None = None) -> None:
        self._write("INSERT INTO occurrences VALUES (?, ?, ?, ?, ?, ?, ?)", (walk_key(key), path, sha256, size, depth, type_, status))

    def knows(self, sha256: str) -> bool:
        """Whether this content was met already (in any order): it is then a copy, not scanned again."""
        return self.connection.execute("SELECT 1 FROM contents WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def add_content(self, sha256: str) -> None:
        self._write("INSERT INTO contents (sha256) VALUES (?)", (sha256,))

    def set_outcome(self, sha256: str, outcome: dict) -> None:
        self._write("UPDATE contents SET outcome = ? WHERE sha256 = ?", (json.dumps(outcome), sha256))

    def add_packed(self, entries) -> None:
        """(sha256, location) of packed parts; a later entry of a content replaces an earlier one."""
        for sha256, location in entries:
            self._write("INSERT OR REPLACE INTO packed VALUES (?, ?)", (sha256, json.dumps(location)))
        self.commit()

    def packed(self, sha256: str) -> dict | None:
        row = self.connection.execute("SELECT location FROM packed WHERE sha256 = ?", (sha256,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_findings(self, sha256: str, findings: int) -> None:
        self._write("INSERT INTO findings VALUES (?, ?)", (sha256, findings))

    def _write(self, statement: str, values: tuple) -> None:
        if not self.connection.in_transaction:
            self.connection.execute("BEGIN")
        self.connection.execute(statement, values)
        self._pending += 1
        if self._pending >= _PENDING:
            self.commit()

    # Read in walk order, once the walk is over

    def finish(self) -> None:
        """Ends the walk: the first occurrence of each content in walk order and its number of
        copies (table `firsts`)."""
        self.commit()
        self.connection.executescript(
            f"""
            CREATE TABLE firsts AS
                SELECT sha256, MIN(walk_key) AS walk_key, COUNT(*) AS copies
                FROM occurrences WHERE status IN {_LOCATED} GROUP BY sha256;
            CREATE UNIQUE INDEX firsts_key ON firsts (walk_key);
            CREATE UNIQUE INDEX firsts_sha ON firsts (sha256);
            """
        )
        self._firsts_ready = True

    def commit(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute("COMMIT")
        self._pending = 0

    def contents(self, with_findings: bool = False) -> Iterator[tuple[str, str, int, dict]]:
        """(sha256, first path, copies, outcome) of each scanned content, in walk order of its first
        path; `with_findings`: only those whose part holds findings (set_findings)."""
        self.commit()
        query = (
            "SELECT f.sha256, o.path, f.copies, c.outcome FROM firsts f JOIN occurrences o USING (walk_key) "
            "JOIN contents c ON c.sha256 = f.sha256 " + ("JOIN findings n ON n.sha256 = f.sha256 " if with_findings else "") + "ORDER BY f.walk_key"
        )
        for sha256, path, copies, outcome in self._rows(query):
            yield sha256, path, copies, json.loads(outcome or "{}")

    def located(self) -> Iterator[tuple[str, str]]:
        """(sha256, path) of every occurrence of a scanned content (copies included), in walk order."""
        yield from self._rows(f"SELECT sha256, path FROM occurrences WHERE status IN {_LOCATED} ORDER BY walk_key")

    def occurrences(self) -> Iterator[dict]:
        """Every occurrence in walk order, with its final status (the first occurrence of a content
        in walk order is `scanned`, the others `duplicate` of its path), its content's outcome and
        findings (none for an opened archive)."""
        self.commit()
        query = (
            "SELECT o.walk_key, o.path, o.sha256, o.size, o.depth, o.type, o.status, "
            "f.walk_key, p.path, c.outcome, n.count FROM occurrences o "
            "LEFT JOIN firsts f ON f.sha256 = o.sha256 AND o.status IN " + _LOCATED + " "
            "LEFT JOIN occurrences p ON p.walk_key = f.walk_key "
            "LEFT JOIN contents c ON c.sha256 = o.sha256 LEFT JOIN findings n ON n.sha256 = o.sha256 ORDER BY o.walk_key"
        )
        for key, path, sha256, size, depth, type_, status, first_key, first_path, outcome, findings in self._rows(query):
            occurrence = {"key": key, "path": path, "sha256": sha256, "size": size, "depth": depth, "type": type_, "status": status}
            if first_key is not None:
                occurrence["status"] = "scanned" if first_key == key else "duplicate"
                occurrence["duplicate_of"] = None if first_key == key else first_path
            opened = status == "opened"
            occurrence["outcome"] = json.loads(outcome) if outcome and not opened else {}
            occurrence["findings"] = findings if findings and not opened else 0
            yield occurrence

    def issues(self, limit: int | None = None) -> Iterator[dict]:
        """The issues in walk order, the first `limit` of them or all (a dump of corrupt files can
        hold millions: they are read a block at a time)."""
        self.commit()
        query = "SELECT path, kind, reason FROM issues ORDER BY walk_key" + (f" LIMIT {int(limit)}" if limit is not None else "")
        for path, kind, reason in self._rows(query):
            yield {"path": path, "kind": kind, "reason": reason}

    def issue_counts(self) -> dict[str, int]:
        """How many issues of each kind."""
        self.commit()
        return dict(self.connection.execute("SELECT kind, COUNT(*) FROM issues GROUP BY kind").fetchall())

    def counts(self) -> tuple[int, int]:
        """Occurrences met, distinct contents scanned."""
        self.commit()
        occurrences = self.connection.execute("SELECT COUNT(*) FROM occurrences").fetchone()[0]
        return occurrences, self.connection.execute("SELECT COUNT(*) FROM firsts").fetchone()[0]

    def _rows(self, query: str) -> Iterator[tuple]:
        """The rows of a query, read a block at a time, on a cursor of its own."""
        assert self._firsts_ready, "Ledger.finish() first"
        cursor = self.connection.execute(query)
        try:
            while rows := cursor.fetchmany(5_000):
                yield from rows
        finally:
            cursor.close()

    def close(self) -> None:
        self.connection.close()
