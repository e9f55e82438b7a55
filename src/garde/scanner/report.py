"""Writes the scan output: findings, records, persons and files as Parquet, summary.json, report.html,
and manifest.json last (it holds the SHA-256 of every other output). Format: docs/scan-format.md."""

import hashlib
import json
import platform
from collections import Counter, defaultdict
from importlib import metadata
from pathlib import Path, PurePosixPath

import pyarrow as pa
import pyarrow.parquet as pq

from garde.scanner.detect import DETECTORS
from garde.scanner.extract import REGISTRY
from garde.scanner.html_report import render
from garde.scanner.link import group, link, person_id
from garde.scanner.mask import key_fingerprint
from garde.scanner.model import CATEGORIES
from garde.scanner.worker import PART_FINDINGS, part_path, read_part

FORMAT_VERSION = 1
MAX_LOCATIONS = 50

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


def write_report(out: Path, parts: Path, occurrences, first_path, outcomes, issues, run: dict) -> tuple[dict, dict]:
    paths_of: dict[str, list[str]] = defaultdict(list)
    for occurrence in occurrences:
        if occurrence["status"] in ("scanned", "duplicate"):
            paths_of[occurrence["sha256"]].append(occurrence["path"])
    contents = list(first_path)  # in walk order: the output does not depend on --jobs

    records = []
    with_findings = set()
    for sha256 in contents:
        part = read_part(part_path(parts, sha256))
        if part is None:
            continue
        for row in part[1]:
            row["sha256"] = sha256
            records.append(row)
        if part[2].num_rows:
            with_findings.add(sha256)  # read again below, one file at a time: memory stays bounded
    persons_rows, person_of, counts, linkage = _persons(records, first_path, paths_of)
    run = {**run, "linkage": linkage}

    findings_per_content: Counter = Counter()
    category_findings, category_distinct, detector_findings = Counter(), Counter(), Counter()
    with pq.ParquetWriter(out / "findings.parquet", FINDINGS_SCHEMA) as writer:
        for sha256 in contents:
            if sha256 not in with_findings:
                continue
            table = read_part(part_path(parts, sha256))[2]
            occurrences_count = len(paths_of[sha256])
            ids = table.column("record_id").to_pylist()
            extra = {
                "path": pa.array([first_path[sha256]] * table.num_rows, pa.string()),
                "sha256": pa.array([sha256] * table.num_rows, pa.string()),
                "occurrences": pa.array([occurrences_count] * table.num_rows, pa.int32()),
                "person_id": pa.array([person_of.get(i) for i in ids], pa.string()),
            }
            columns = [extra[name] if name in extra else table.column(name) for name in FINDINGS_SCHEMA.names]
            writer.write_table(pa.Table.from_arrays(columns, schema=FINDINGS_SCHEMA))
            findings_per_content[sha256] = table.num_rows
            for category, detector in zip(table.column("category").to_pylist(), table.column("detector").to_pylist(), strict=True):
                category_distinct[category] += 1
                category_findings[category] += occurrences_count
                detector_findings[detector] += occurrences_count

    record_rows = [
        {
            "record_id": r["record_id"],
            "sha256": r["sha256"],
            "path": first_path[r["sha256"]],
            "locator": r["locator"],
            "person_id": person_of.get(r["record_id"]),
            "categories": r["categories"],
            "detectors": r["detectors"],
        }
        for r in records
    ]
    pq.write_table(pa.Table.from_pylist(record_rows, schema=RECORDS_SCHEMA), out / "records.parquet")
    pq.write_table(pa.Table.from_pylist(persons_rows, schema=PERSONS_SCHEMA), out / "persons.parquet")

    file_rows, errors = [], [dict(issue) for issue in issues]
    folders: dict[str, Counter] = defaultdict(Counter)
    types: dict[str, Counter] = defaultdict(Counter)
    for occurrence in occurrences:
        outcome = outcomes.get(occurrence["sha256"], {}) if occurrence["status"] != "opened" else {}
        file_type = occurrence.get("type") or outcome.get("extractor") or "unknown"
        findings = findings_per_content[occurrence["sha256"]] if occurrence["status"] != "opened" else 0
        status = occurrence["status"]
        if status == "scanned" and outcome.get("error"):
            status = "error"
            errors.append({"path": occurrence["path"], "kind": "error", "reason": outcome["error"]})
        elif status == "scanned" and outcome.get("skipped"):
            status = "skipped"
        file_rows.append(
            {
                "path": occurrence["path"],
                "sha256": occurrence["sha256"],
                "size": occurrence["size"],
                "depth": occurrence["depth"],
                "type": file_type,
                "status": status,
                "duplicate_of": occurrence.get("duplicate_of"),
                "records": outcome.get("records", 0),
                "findings": findings,
                "error": outcome.get("error") if occurrence["status"] == "scanned" else None,
            }
        )
        folder = folders[_folder(occurrence["path"])]
        folder["files"] += 1
        folder["findings"] += findings
        types[file_type]["files"] += 1
        types[file_type]["findings"] += findings
    pq.write_table(pa.Table.from_pylist(file_rows, schema=FILES_SCHEMA), out / "files.parquet")

    persons_per_category = Counter(c for row in persons_rows for c in row["categories"])
    statuses = Counter(row["status"] for row in file_rows)
    issue_kinds = Counter(issue["kind"] for issue in issues)
    summary = {
        "format_version": FORMAT_VERSION,
        "persons": counts,
        "records": {"with_findings": len(records), "person_records": counts["upper"]},
        "files": {
            "seen": len(file_rows),
            "distinct_scanned": len(contents),
            "duplicates": statuses["duplicate"],
            "archives_opened": statuses["opened"],
            "errors": statuses["error"] + issue_kinds["error"],
            "encrypted": issue_kinds["encrypted"],
            "skipped": statuses["skipped"] + issue_kinds["skipped"],
            "bytes_scanned": sum(o["size"] for o in occurrences if o["status"] == "scanned"),
            # PDF pages without a text layer: read by OCR (tesseract installed) or counted as not read
            "pdf_pages_ocr": sum(o.get("notes", {}).get("pdf_pages_ocr", 0) for o in outcomes.values()),
            "pdf_pages_needing_ocr": sum(o.get("notes", {}).get("pdf_pages_needing_ocr", 0) for o in outcomes.values()),
            "images_ocr": sum(o.get("notes", {}).get("images_ocr", 0) for o in outcomes.values()),
            "images_needing_ocr": sum(o.get("notes", {}).get("images_needing_ocr", 0) for o in outcomes.values()),
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
    (out / "report.html").write_text(render(summary, run, errors), encoding="utf-8")
    manifest = _manifest(out, run, errors, summary)
    return summary, manifest


def _persons(records: list[dict], first_path: dict, paths_of: dict) -> tuple[list[dict], dict, dict, dict]:
    person_records = [r for r in records if r["identifies"]]
    result = link(person_records)
    lower_ids = {root: person_id([person_records[i]["record_id"] for i in members]) for root, members in group(result.lower).items()}
    rows, person_of = [], {}
    for root, members in group(result.best).items():
        ids = [person_records[i]["record_id"] for i in members]
        pid = person_id(ids)
        locations, files = [], set()
        for i in members:
            record = person_records[i]
            for path in paths_of[record["sha256"]]:
                files.add(path)
                if len(locations) < MAX_LOCATIONS:
                    locations.append(f"{path}#{record['locator']}")
        for record_id in ids:
            person_of[record_id] = pid
        rows.append(
            {
                "person_id": pid,
                "records": len(members),
                "files": len(files),
                "categories": sorted({c for i in members for c in person_records[i]["categories"]}),
                "detectors": sorted({d for i in members for d in person_records[i]["detectors"]}),
                "linked_on": sorted({reason for i in members for reason in result.linked_on[i]}),
                "match_probability": min((p for i in members if (p := result.probability[i]) is not None), default=None),
                "lower_bound_group": lower_ids[result.lower[root]],
                "locations": locations,
                "record_ids": ids,
            }
        )
    rows.sort(key=lambda row: row["person_id"])
    counts = {"lower": result.lower_count, "best": result.best_count, "upper": result.upper}
    return rows, person_of, counts, result.info


def _write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(out: Path, run: dict, errors: list, summary: dict) -> dict:
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
        "errors": errors,
        "outputs": {name: _sha256(out / name) for name in outputs},
    }
    _write_json(out / "manifest.json", manifest)
    return manifest
