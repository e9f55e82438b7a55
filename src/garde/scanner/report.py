"""Writes the scan output: findings, records, persons and files as Parquet, summary.json, report.html,
and manifest.json last (it holds the SHA-256 of every other output). Format: docs/scan-format.md."""

import json
import platform
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from importlib import metadata
from itertools import batched
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from garde.scanner import freed_memory
from garde.scanner.detect import DETECTORS
from garde.scanner.extract import REGISTRY
from garde.scanner.html_report import MAX_ERRORS, render
from garde.scanner.ledger import Ledger
from garde.scanner.link import link_store
from garde.scanner.mask import key_fingerprint
from garde.scanner.model import CATEGORIES
from garde.scanner.parquet_writer import RowGroupWriter
from garde.scanner.recordstore import NAME_LISTS, RecordStore, split_names
from garde.scanner.report_persons import assign_persons, records_with_persons, write_persons
from garde.scanner.walk import sha256_file
from garde.scanner.worker import PART_FINDINGS, PART_RECORDS, PART_SCHEMAS, Part, read_part

FORMAT_VERSION = 1

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


UNREADABLE_PART = "its scan result could not be read back (damaged on disk): not counted; scan the file again"


def _write(out: Path, parts: Path, store: RecordStore, ledger: Ledger, run: dict):
    _store_paths(store, ledger)
    notes: Counter = Counter()  # pages and images read by OCR or not, over the scanned contents
    unreadable: list[tuple[str, dict]] = []  # contents whose part was damaged on disk since it was written

    def record_parts():
        for sha256, _path, _copies, outcome in ledger.contents():  # in walk order: the output does not depend on --jobs
            notes.update(outcome.get("notes", {}))
            part = read_part(parts, sha256, outcome.get("part"), kinds=("records",))
            if part is None:
                if outcome.get("records") or outcome.get("findings"):
                    unreadable.append((sha256, outcome))
                continue
            if part.outcome.get("findings"):
                ledger.set_findings(sha256, part.outcome["findings"])  # read again below, a batch at a time
            yield part, {"sha256": sha256}

    store.add_batches(_in_batches(record_parts(), "records", _RECORDS_OF_PARTS))
    for sha256, outcome in unreadable:  # counted as errors, not silently left out
        ledger.set_outcome(sha256, {**outcome, "records": 0, "findings": 0, "error": UNREADABLE_PART})
    linkage, counts = _link_persons(store)
    run = {**run, "linkage": linkage}

    category_findings, category_distinct, detector_findings = Counter(), Counter(), Counter()
    person_of = _PersonOf(store)
    finding_parts = (
        (read_part(parts, sha256, outcome.get("part"), kinds=("findings",)), {"path": path, "sha256": sha256, "occurrences": copies})
        for sha256, path, copies, outcome in ledger.contents(with_findings=True)  # the store's order, which _PersonOf follows
    )
    with RowGroupWriter(out / "findings.parquet", FINDINGS_SCHEMA) as writer:
        for batch in _in_batches(finding_parts, "findings", _FINDINGS_OF_PARTS):
            person_ids = pa.array(person_of.of(batch.column("record_id").to_pylist()), pa.string())
            columns = [person_ids if name == "person_id" else batch.column(name) for name in FINDINGS_SCHEMA.names]
            writer.write_table(pa.Table.from_arrays(columns, schema=FINDINGS_SCHEMA))
            categories, detectors, occurrences = (batch.column(name).to_pylist() for name in ("category", "detector", "occurrences"))
            for category, detector, copies in zip(categories, detectors, occurrences, strict=True):
                category_distinct[category] += 1
                category_findings[category] += copies
                detector_findings[detector] += copies
    person_of.close()

    _write_records(out / "records.parquet", store, ledger)
    persons_per_category = write_persons(out / "persons.parquet", store)

    issue_kinds = ledger.issue_counts()  # the walk's (files found unreadable are added below)
    folders: dict[str, Counter] = defaultdict(Counter)
    types: dict[str, Counter] = defaultdict(Counter)
    statuses: Counter = Counter()
    bytes_scanned = 0
    with RowGroupWriter(out / "files.parquet", FILES_SCHEMA) as writer:
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


def _link_persons(store: RecordStore) -> tuple[dict, dict]:
    """Links the records into persons (table `person_of`): what the linkage did, for the manifest,
    and the person counts. Its arrays (25 bytes a person record) are freed on return, before the
    outputs are written."""
    result = link_store(store)
    assign_persons(store, result)
    info, counts = result.info, {"lower": result.lower_count, "best": result.best_count, "upper": result.upper}
    del result
    freed_memory.give_back()  # the arrays and Splink's working memory, before the outputs are written
    return info, counts


def _write_records(path: Path, store: RecordStore, ledger: Ledger) -> None:
    """records.parquet, in the store's order: each record with the first path of its content (from
    the ledger, whose contents come in the same order) and its person."""
    first_paths = ((sha256, first) for sha256, first, _copies, _outcome in ledger.contents())
    content, content_path = None, None
    with RowGroupWriter(path, RECORDS_SCHEMA) as writer:
        for batch in records_with_persons(store, "record_id, sha256, locator, categories, detectors"):
            paths = []
            for sha256 in batch.column("sha256").to_pylist():
                while content != sha256:
                    content, content_path = next(first_paths)
                paths.append(content_path)
            columns = {name: batch.column(name) for name in batch.schema.names}
            columns["path"] = pa.array(paths, pa.string())
            for name in NAME_LISTS:
                columns[name] = split_names(columns[name])
            writer.write_table(pa.Table.from_arrays([columns[name] for name in RECORDS_SCHEMA.names], schema=RECORDS_SCHEMA))


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
    """Table `paths`: every path of each scanned content, numbered in walk order."""
    store.run("CREATE TABLE paths (sha256 VARCHAR, path VARCHAR, ord BIGINT)")
    start = 0
    for chunk in batched(ledger.located(), 50_000):
        table = pa.table(
            {
                "sha256": [sha256 for sha256, _ in chunk],
                "path": [path for _, path in chunk],
                "ord": pa.array(range(start, start + len(chunk)), pa.int64()),
            }
        )
        store.append("paths", table)
        start += len(chunk)


# The rows of parts with the columns the report adds before it stores or writes them.
_RECORDS_OF_PARTS = PART_RECORDS.append(pa.field("sha256", pa.string()))
_FINDINGS_OF_PARTS = pa.schema([field for field in FINDINGS_SCHEMA if field.name != "person_id"])
GATHERED_ROWS = 5_000


def _in_batches(parts: Iterable[tuple[Part, dict]], kind: str, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The "records" or "findings" of each part, in order, with the values of its dict (the file's
    sha256...) added to each row, as batches of `schema`. The rows of packed parts (most files) are
    gathered across files and converted GATHERED_ROWS at a time: a conversion costs 150-650 µs
    however few its rows."""
    rows: list[dict] = []
    runs: list[tuple[dict, int]] = []  # the added values of each gathered part, and its number of rows
    for part, added in parts:
        if part.packed:
            part_rows = getattr(part, kind)
            if part_rows:
                rows.extend(part_rows)
                runs.append((added, len(part_rows)))
            if len(rows) < GATHERED_ROWS:
                continue
        if rows:
            yield _gathered_batch(rows, runs, kind, schema)
            rows, runs = [], []
        if not part.packed:
            for batch in part.batches(kind):
                columns = {name: pa.array([value] * batch.num_rows, schema.field(name).type) for name, value in added.items()}
                yield _with_columns(batch, columns, schema)
    if rows:
        yield _gathered_batch(rows, runs, kind, schema)


def _gathered_batch(rows: list[dict], runs: list[tuple[dict, int]], kind: str, schema: pa.Schema) -> pa.RecordBatch:
    """The rows of several parts as one batch, each part's added values repeated over its rows."""
    batch = pa.RecordBatch.from_pylist(rows, schema=PART_SCHEMAS[kind])
    run_of_row = pa.array(np.repeat(np.arange(len(runs)), [count for _added, count in runs]))
    columns = {
        name: pc.take(pa.array([added[name] for added, _count in runs], schema.field(name).type), run_of_row) for name in runs[0][0]
    }
    return _with_columns(batch, columns, schema)


def _with_columns(batch: pa.RecordBatch, columns: dict[str, pa.Array], schema: pa.Schema) -> pa.RecordBatch:
    """`batch` with `columns` added, in the order of `schema`. The batch's own columns keep their
    type: a streamed part written by an earlier version (names as lists) is converted where it is
    stored (RecordStore.add_batch)."""
    return pa.RecordBatch.from_arrays([columns[f.name] if f.name in columns else batch.column(f.name) for f in schema], names=schema.names)


class _PersonOf:
    """The person of each record, read in the store's order alongside the findings, which come in
    the same order (by file, then record): nothing is held but the current batch of records."""

    def __init__(self, store: RecordStore):
        self.batches = records_with_persons(store, "record_id")
        self.rows = (row for batch in self.batches for row in zip(*batch.to_pydict().values(), strict=True))
        self.current: tuple[str | None, str | None] = (None, None)

    def of(self, record_ids: list[str]) -> list[str | None]:
        persons = []
        for record_id in record_ids:
            while self.current[0] != record_id:
                self.current = next(self.rows)
            persons.append(self.current[1])
        return persons

    def close(self) -> None:
        """Ends the reading of the store (its cursors), which the findings may leave unfinished:
        the stages after them must not run beside it."""
        self.batches.close()


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
