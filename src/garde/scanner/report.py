"""Writes the scan output: findings, records, persons and files as Parquet, summary.json, report.html,
and manifest.json last (it holds the SHA-256 of every other output). Format: docs/scan-format.md."""

import json
import platform
import shutil
from collections import Counter, defaultdict
from importlib import metadata
from itertools import batched, groupby
from operator import itemgetter
from pathlib import Path, PurePosixPath

import pyarrow as pa
import pyarrow.parquet as pq

from garde.scanner.detect import DETECTORS
from garde.scanner.extract import REGISTRY
from garde.scanner.html_report import MAX_ERRORS, render
from garde.scanner.ledger import Ledger
from garde.scanner.link import REASONS, link_store
from garde.scanner.mask import key_fingerprint
from garde.scanner.model import CATEGORIES
from garde.scanner.recordstore import RecordStore
from garde.scanner.walk import sha256_file
from garde.scanner.worker import PART_FINDINGS, read_part

FORMAT_VERSION = 1
MAX_LOCATIONS = 50
_REASON_BITS = [(reason, 1 << index) for index, reason in enumerate(REASONS)]

FINDINGS_SCHEMA = pa.schema(
    [("path", pa.string()), ("sha256", pa.string()), ("occurrences", pa.int32()), ("person_id", pa.string())]
    + list(PART_FINDINGS)
)
RECORDS_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("sha256", pa.string()),
        ("path", pa.string()),
        ("locator", pa.string()),
        ("person_id", pa.string()),
        ("categories", pa.list_(pa.string())),
        ("detectors", pa.list_(pa.string())),
    ]
)
PERSONS_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("records", pa.int32()),
        ("files", pa.int32()),
        ("categories", pa.list_(pa.string())),
        ("detectors", pa.list_(pa.string())),
        ("linked_on", pa.list_(pa.string())),
        ("match_probability", pa.float64()),
        ("lower_bound_group", pa.string()),
        ("locations", pa.list_(pa.string())),
        ("record_ids", pa.list_(pa.string())),
    ]
)
FILES_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("sha256", pa.string()),
        ("size", pa.int64()),
        ("depth", pa.int16()),
        ("type", pa.string()),
        ("status", pa.string()),
        ("duplicate_of", pa.string()),
        ("records", pa.int32()),
        ("findings", pa.int32()),
        ("error", pa.string()),
    ]
)


def _folder(path: str) -> str:
    parent = str(PurePosixPath(path.replace("!/", "/")).parent)
    return parent if parent != "." else "/"


def write_report(out: Path, parts: Path, ledger: Ledger, run: dict) -> tuple[dict, dict]:
    """The outputs of a scan from its parts and its ledger (what the walk met, ledger.py). The
    records go through a DuckDB database in `parts` (recordstore.py), files are read from the
    ledger in walk order, and every table is written in batches: memory grows neither with the
    number of records nor with the number of files."""
    store_path = parts / "records.duckdb"
    _remove_store(store_path)  # left by a killed run: rebuilt from the parts
    store = RecordStore(store_path)
    try:
        return _write(out, parts, store, ledger, run)
    finally:
        store.close()
        _remove_store(store_path)


def _remove_store(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(path.with_suffix(".spill"), ignore_errors=True)


def _write(out: Path, parts: Path, store: RecordStore, ledger: Ledger, run: dict):
    _store_paths(store, ledger)
    notes: Counter = Counter()  # pages and images read by OCR or not, over the scanned contents
    for sha256, _path, _copies, outcome in ledger.contents():  # in walk order: the output does not depend on --jobs
        notes.update(outcome.get("notes", {}))
        part = read_part(parts, sha256)
        if part is None:
            continue
        for batch in part.record_batches():
            store.add_batch(batch, sha256)
        if part.outcome.get("findings"):
            ledger.set_findings(sha256, part.outcome["findings"])  # read again below, a batch at a time
    result = link_store(store)
    _assign_persons(store, result)
    run = {**run, "linkage": result.info}
    counts = {"lower": result.lower_count, "best": result.best_count, "upper": result.upper}

    category_findings, category_distinct, detector_findings = Counter(), Counter(), Counter()
    person_of = _PersonOf(store)
    with _RowGroups(out / "findings.parquet", FINDINGS_SCHEMA) as writer:
        for sha256, path, copies, _outcome in ledger.contents(with_findings=True):  # the store's order, which _PersonOf follows
            for batch in read_part(parts, sha256).finding_batches():
                rows = batch.num_rows
                extra = {
                    "path": pa.array([path] * rows, pa.string()),
                    "sha256": pa.array([sha256] * rows, pa.string()),
                    "occurrences": pa.array([copies] * rows, pa.int32()),
                    "person_id": pa.array(person_of.of(batch.column("record_id").to_pylist()), pa.string()),
                }
                columns = [extra[name] if name in extra else batch.column(name) for name in FINDINGS_SCHEMA.names]
                writer.write_table(pa.Table.from_arrays(columns, schema=FINDINGS_SCHEMA))
                for category, detector in zip(batch.column("category").to_pylist(), batch.column("detector").to_pylist(), strict=True):
                    category_distinct[category] += 1
                    category_findings[category] += copies
                    detector_findings[detector] += copies

    _write_batches(
        out / "records.parquet",
        RECORDS_SCHEMA,
        store.batches(
            "SELECT r.record_id, r.sha256, f.path, r.locator, m.person_id, r.categories, r.detectors "
            "FROM records r JOIN first_paths f USING (sha256) LEFT JOIN person_of m USING (idx) ORDER BY r.idx"
        ),
    )
    persons_per_category = _write_persons(out / "persons.parquet", store)

    issue_kinds = ledger.issue_counts()  # the walk's (files found unreadable are added below)
    folders: dict[str, Counter] = defaultdict(Counter)
    types: dict[str, Counter] = defaultdict(Counter)
    statuses: Counter = Counter()
    bytes_scanned = 0
    with _RowGroups(out / "files.parquet", FILES_SCHEMA) as writer:
        for chunk in batched(ledger.occurrences(), 5_000):  # as dicts: a few KB each with their outcome
            file_rows = [_file_row(o, ledger) for o in chunk]
            writer.write_table(pa.Table.from_pylist(file_rows, schema=FILES_SCHEMA))
            for occurrence, row in zip(chunk, file_rows, strict=True):
                statuses[row["status"]] += 1
                bytes_scanned += occurrence["size"] if occurrence["status"] == "scanned" else 0
                folder = folders[_folder(occurrence["path"])]
                folder["files"] += 1
                folder["findings"] += row["findings"]
                types[row["type"]]["files"] += 1
                types[row["type"]]["findings"] += row["findings"]
    seen, distinct = ledger.counts()

    summary = {
        "format_version": FORMAT_VERSION,
        "persons": counts,
        "records": {"with_findings": store.size, "person_records": counts["upper"]},
        "files": {
            "seen": seen,
            "distinct_scanned": distinct,
            "duplicates": statuses["duplicate"],
            "archives_opened": statuses["opened"],
            "errors": statuses["error"] + issue_kinds.get("error", 0),
            "encrypted": issue_kinds.get("encrypted", 0),
            "skipped": statuses["skipped"] + issue_kinds.get("skipped", 0),
            "bytes_scanned": bytes_scanned,
            # PDF pages without a text layer: read by OCR (tesseract installed) or counted as not read
            "pdf_pages_ocr": notes["pdf_pages_ocr"],
            "pdf_pages_needing_ocr": notes["pdf_pages_needing_ocr"],
            "images_ocr": notes["images_ocr"],
            "images_needing_ocr": notes["images_needing_ocr"],
        },
        "categories": {
            category: {
                "findings": category_findings[category],
                "distinct_findings": category_distinct[category],
                "persons": persons_per_category[category],
            }
            for category in CATEGORIES
        },
        "detectors": dict(sorted(detector_findings.items())),
        "folders": {name: dict(counter) for name, counter in sorted(folders.items())},
        "file_types": {name: dict(counter) for name, counter in sorted(types.items())},
    }
    _write_json(out / "summary.json", summary)
    all_issues = sum(ledger.issue_counts().values())
    (out / "report.html").write_text(render(summary, run, list(ledger.issues(MAX_ERRORS)), all_issues), encoding="utf-8")
    manifest = _manifest(out, run, ledger, summary)
    return summary, manifest


def _file_row(occurrence: dict, ledger: Ledger) -> dict:
    """The files.parquet row of one occurrence (Ledger.occurrences); an error of its file goes to
    the ledger's issues."""
    outcome = occurrence["outcome"]
    status = occurrence["status"]
    if status == "scanned" and outcome.get("error"):
        status = "error"
        ledger.add_issue(occurrence["key"], occurrence["path"], "error", outcome["error"])
    elif status == "scanned" and outcome.get("skipped"):
        status = "skipped"
    return {
        "path": occurrence["path"],
        "sha256": occurrence["sha256"],
        "size": occurrence["size"],
        "depth": occurrence["depth"],
        "type": occurrence.get("type") or outcome.get("extractor") or "unknown",
        "status": status,
        "duplicate_of": occurrence.get("duplicate_of"),
        "records": outcome.get("records", 0),
        "findings": occurrence["findings"],
        "error": outcome.get("error") if occurrence["status"] == "scanned" else None,
    }


def _store_paths(store: RecordStore, ledger: Ledger) -> None:
    """Tables `paths` (every path of each scanned content, in walk order) and `first_paths`."""
    store.run("CREATE TABLE paths (sha256 VARCHAR, path VARCHAR, ord BIGINT)")
    store.run("CREATE TABLE first_paths (sha256 VARCHAR, path VARCHAR)")
    start = 0
    for chunk in batched(ledger.located(), 50_000):
        table = pa.table(
            {
                "sha256": [sha256 for sha256, _ in chunk],
                "path": [path for _, path in chunk],
                "ord": pa.array(range(start, start + len(chunk)), pa.int64()),
            }
        )
        store.fetch("INSERT INTO paths SELECT * FROM batch", {"batch": table})
        start += len(chunk)
    store.run("INSERT INTO first_paths SELECT sha256, arg_min(path, ord) FROM paths GROUP BY sha256")


def _assign_persons(store: RecordStore, result) -> None:
    """Table `person_of`: each person record with its person (best estimate) and lower-bound group,
    both named by person_id() of their records, the reasons it was linked on and its probability."""
    import numpy as np

    assignment = pa.table(
        {
            "pidx": pa.array(np.arange(result.upper, dtype=np.int64)),
            "best": pa.array(np.frombuffer(result.best, dtype=np.int64) if result.upper else np.zeros(0, np.int64)),
            "lower": pa.array(np.frombuffer(result.lower, dtype=np.int64) if result.upper else np.zeros(0, np.int64)),
            "reasons": pa.array(np.frombuffer(bytes(result.reasons), dtype=np.uint8)),
            "probability": pa.array(
                np.frombuffer(result.probability, dtype=np.float64) if result.upper else np.zeros(0), from_pandas=True
            ),
        }
    )
    store.fetch("CREATE TABLE assignment AS SELECT * FROM batch", {"batch": assignment})
    # One table at a time, with the columns the outputs read only (not the link fields): DuckDB
    # keeps a CTE read three times in memory, which ran out of its limit at 800,000 records.
    for statement in (
        "CREATE TABLE linked AS SELECT p.idx, p.pidx, p.record_id, p.sha256, p.locator, p.categories, p.detectors, "
        "a.best, a.lower, a.reasons, a.probability FROM persons p JOIN assignment a USING (pidx)",
        "CREATE TABLE best_ids AS SELECT best, 'p' || left(sha256(min(record_id)), 15) AS person_id FROM linked GROUP BY best",
        "CREATE TABLE lower_ids AS SELECT lower, 'p' || left(sha256(min(record_id)), 15) AS lower_id FROM linked GROUP BY lower",
        "CREATE TABLE person_of AS SELECT l.*, b.person_id, w.lower_id FROM linked l "
        "JOIN best_ids b USING (best) JOIN lower_ids w USING (lower)",
        "DROP TABLE linked",
        "DROP TABLE best_ids",
        "DROP TABLE lower_ids",
        "DROP TABLE assignment",
    ):
        store.run(statement)


class _PersonOf:
    """The person of each record, read in the store's order alongside the findings, which come in
    the same order (by file, then record): nothing is held but the current record."""

    def __init__(self, store: RecordStore):
        self.rows = _rows(
            store.batches("SELECT r.record_id, m.person_id FROM records r LEFT JOIN person_of m USING (idx) ORDER BY r.idx")
        )
        self.current: tuple[str | None, str | None] = (None, None)

    def of(self, record_ids: list[str]) -> list[str | None]:
        persons = []
        for record_id in record_ids:
            while self.current[0] != record_id:
                self.current = next(self.rows)
            persons.append(self.current[1])
        return persons


def _write_persons(path: Path, store: RecordStore) -> Counter:
    """persons.parquet, one row per person ordered by person_id; persons per category. Two sorted
    streams (the person records, and their paths) are read side by side, one person at a time:
    DuckDB sorts out of memory, where aggregating lists would not. Each stream is sorted into a table
    first: two sorts read at once would each hold blocks in memory (out of memory at 800,000
    records), two table scans hold next to nothing (a table is read in the order it was filled)."""
    store.run(
        "CREATE TABLE person_records AS SELECT person_id, record_id, categories, detectors, reasons, probability, lower_id "
        "FROM person_of ORDER BY person_id, pidx"
    )
    store.run(
        "CREATE TABLE person_places AS SELECT m.person_id, p.path, p.path || '#' || m.locator AS place "
        "FROM person_of m JOIN paths p USING (sha256) ORDER BY m.person_id, m.pidx, p.ord"
    )
    records = _rows(store.batches("SELECT * FROM person_records"))
    places = _rows(store.batches("SELECT * FROM person_places"))
    per_category: Counter = Counter()
    with _RowGroups(path, PERSONS_SCHEMA) as writer:
        batch: list[dict] = []
        for person in _persons(records, places):
            per_category.update(person["categories"])
            batch.append(person)
            if len(batch) >= 10_000:
                writer.write_table(pa.Table.from_pylist(batch, schema=PERSONS_SCHEMA))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=PERSONS_SCHEMA))
    return per_category


def _rows(batches):
    for batch in batches:
        yield from zip(*(column.to_pylist() for column in batch.columns), strict=True)


def _persons(records, places):
    """Person rows from the two streams of _write_persons (both sorted by person_id)."""
    place = next(places, None)
    for person_id, rows in groupby(records, key=itemgetter(0)):
        rows = list(rows)
        files, locations = set(), []
        while place is not None and place[0] == person_id:
            files.add(place[1])
            if len(locations) < MAX_LOCATIONS:
                locations.append(place[2])
            place = next(places, None)
        reasons = 0
        for row in rows:
            reasons |= row[4]
        probabilities = [row[5] for row in rows if row[5] is not None]  # NaN (no link) was stored as NULL
        yield {
            "person_id": person_id,
            "records": len(rows),
            "files": len(files),
            "categories": sorted({c for row in rows for c in row[2] or ()}),
            "detectors": sorted({d for row in rows for d in row[3] or ()}),
            "linked_on": sorted(reason for reason, bit in _REASON_BITS if reasons & bit),
            "match_probability": min(probabilities, default=None),
            "lower_bound_group": rows[0][6],
            "locations": locations,
            "record_ids": [row[1] for row in rows],
        }


class _RowGroups:
    """A Parquet writer that gathers small tables (the findings of one file) into row groups of
    about ROW_GROUP rows: one row group per file would keep the metadata of every file in memory
    until the footer is written, and make a footer as large."""

    ROW_GROUP = 100_000

    def __init__(self, path: Path, schema: pa.Schema):
        self.writer = pq.ParquetWriter(path, schema)
        self.pending: list[pa.Table] = []
        self.rows = 0

    def write_table(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.rows += table.num_rows
        if self.rows >= self.ROW_GROUP:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.writer.write_table(pa.concat_tables(self.pending))
            self.pending, self.rows = [], 0

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.flush()
        self.writer.close()


def _write_batches(path: Path, schema: pa.Schema, batches) -> None:
    with pq.ParquetWriter(path, schema) as writer:
        for batch in batches:
            if batch.num_rows:
                writer.write_table(pa.Table.from_batches([batch]).cast(schema))
        # an empty table still has its schema: ParquetWriter writes it on close


def _write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")


def _write_json_with_list(path: Path, value: dict, key: str, items) -> None:
    """As _write_json, with `key` added last: a list written from `items` one at a time."""
    opening = json.dumps(value, indent=2, ensure_ascii=False)[:-2] + ",\n" if value else "{\n"  # without its "\n}"
    with path.open("w", encoding="utf-8") as stream:
        stream.write(opening + f"  {json.dumps(key)}: [")
        for index, item in enumerate(items):
            stream.write(("," if index else "") + "\n    " + json.dumps(item, ensure_ascii=False))
        stream.write("\n  ]\n}\n")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _manifest(out: Path, run: dict, ledger: Ledger, summary: dict) -> dict:
    """Writes manifest.json and returns it without its `errors`, which are written one at a time from
    the ledger (a dump of corrupt files can hold millions)."""
    outputs = ["findings.parquet", "records.parquet", "persons.parquet", "files.parquet", "summary.json", "report.html"]
    manifest = {
        "format_version": FORMAT_VERSION,
        "tool": "garde scan",
        "versions": {
            "garde": _version("garde"),
            "python": platform.python_version(),
            **{
                name: _version(name)
                for name in ("python-stdnum", "phonenumbers", "pyarrow", "charset-normalizer", "python-calamine", "py7zr", "splink", "duckdb")
            },
        },
        "started": run["started"],
        "duration_s": run["duration_s"],
        "inputs": run["inputs"],
        "settings": run["settings"],
        "reveal": run["settings"]["reveal"],
        "hash": {"algorithm": "HMAC-SHA256", "key_source": run["key_source"], "key_fingerprint": key_fingerprint(run["key"])},
        "detectors": [d.name for d in DETECTORS],
        "extractors": [e.name for e in REGISTRY],
        "persons": summary["persons"],
        "linkage": run["linkage"],
        "outputs": {name: sha256_file(out / name) for name in outputs},
    }
    _write_json_with_list(out / "manifest.json", manifest, "errors", ledger.issues())
    return manifest
