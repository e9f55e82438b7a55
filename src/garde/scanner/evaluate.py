"""Scores a scan against the ground truth of a synthetic corpus (`garde scan-eval RESULT TRUTH`).

A truth value is a personal value written in one file (`path`, `category`, clear `value`). It is
found when the scan has a finding of the same category in the same file whose keyed hash equals the
hash of the value as one of that category's detectors normalises it (the scan's key comes from
`GARDE_SCAN_KEY` or `RESULT/scan.key`). Counting distinct (file, category, value):
- recall = truth values found / truth values;
- precision = scan values that are truth values / scan values (a finding in a decoy file, a partial
  value or a value of the wrong category counts against it).
A file present twice counts in both places. The person count is compared with the truth: error of
the best estimate, and whether the truth lies in the lower-upper range.
"""

import json
import os
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

from garde.scanner.corpus import TRUTH_FILE, TRUTH_FORMAT
from garde.scanner.detect import DETECTORS
from garde.scanner.mask import KEY_ENV, KEY_FILE, key_fingerprint, keyed_hash
from garde.scanner.model import CATEGORIES


class EvalInputError(Exception):
    """RESULT or TRUTH cannot be read; the message says why."""


def _load_truth(path: Path) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / TRUTH_FILE
    if not path.is_file():
        raise EvalInputError(f"truth not found: {path} (the truth.json written by garde scan-corpus)")
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise EvalInputError(f"truth {path} is not JSON") from None
    if not isinstance(truth, dict) or truth.get("format") != TRUTH_FORMAT:
        raise EvalInputError(f"truth {path} was not written by garde scan-corpus (no format {TRUTH_FORMAT!r})")
    return truth


def _load_key(result: Path, manifest: dict) -> bytes:
    from_env = os.environ.get(KEY_ENV, "").strip()
    if from_env:
        key = from_env.encode()
    elif (result / KEY_FILE).is_file():
        key = bytes.fromhex((result / KEY_FILE).read_text().strip())
    else:
        raise EvalInputError(f"no key to hash the truth: set {KEY_ENV} to the scan's key, or keep {KEY_FILE} in {result}")
    if key_fingerprint(key) != manifest.get("hash", {}).get("key_fingerprint"):
        raise EvalInputError(f"the key ({KEY_ENV} or {KEY_FILE}) is not the one the scan in {result} used")
    return key


def _load_result(result: Path) -> dict:
    result = Path(result)
    manifest_path = result / "manifest.json"
    if not manifest_path.is_file():
        raise EvalInputError(f"no scan result in {result}: manifest.json missing (run garde scan first, and let it finish)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        summary = json.loads((result / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise EvalInputError(f"scan result in {result} is unreadable (manifest.json or summary.json)") from None
    return {"manifest": manifest, "summary": summary}


def _relative(path: str) -> str:
    """`dump/exports/a.csv` -> `exports/a.csv`: truth paths are relative to the scanned folder."""
    return path.split("/", 1)[1] if "/" in path else path


def _truth_hashes(key: bytes, category: str, value: str, cache: dict) -> frozenset[str]:
    cached = cache.get((category, value))
    if cached is None:
        hashes = set()
        for detector in DETECTORS:
            if detector.category != category:
                continue
            valid = detector.validate(value)
            if valid is not None:
                hashes.add(keyed_hash(key, detector.name, valid.normalized))
        cached = cache[(category, value)] = frozenset(hashes)
    return cached


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def evaluate(result: Path, truth_path: Path) -> dict:
    result = Path(result)
    loaded = _load_result(result)
    truth = _load_truth(truth_path)
    key = _load_key(result, loaded["manifest"])
    summary = loaded["summary"]

    paths_of: dict[str, list[str]] = defaultdict(list)
    for row in pq.read_table(result / "files.parquet", columns=["path", "sha256", "status"]).to_pylist():
        if row["status"] in ("scanned", "duplicate"):
            paths_of[row["sha256"]].append(_relative(row["path"]))
    found: dict[str, set] = defaultdict(set)  # category -> {(path, hash)}
    findings = pq.read_table(result / "findings.parquet", columns=["sha256", "category", "value_hash"])
    for sha256, category, value_hash in zip(*(findings.column(c).to_pylist() for c in findings.column_names), strict=True):
        for path in paths_of[sha256]:
            found[category].add((path, value_hash))

    cache: dict = {}
    expected: dict[str, dict[tuple[str, frozenset], None]] = defaultdict(dict)  # category -> distinct truth values
    truth_hashes: dict[str, set] = defaultdict(set)  # category -> {(path, hash)}
    for value in truth["values"]:
        hashes = _truth_hashes(key, value["category"], value["value"], cache)
        expected[value["category"]][(value["path"], hashes)] = None
        truth_hashes[value["category"]].update((value["path"], h) for h in hashes)

    decoys = set(truth.get("decoys", []))
    categories, totals = {}, {"truth": 0, "found": 0, "true_positives": 0, "recalled": 0}
    for category in CATEGORIES:
        items, scan_values = expected.get(category, {}), found.get(category, set())
        recalled = sum(1 for path, hashes in items if any((path, h) in scan_values for h in hashes))
        true_positives = sum(1 for item in scan_values if item in truth_hashes[category])
        categories[category] = {
            "truth": len(items),
            "found": len(scan_values),
            "true_positives": true_positives,
            "recalled": recalled,
            "precision": _ratio(true_positives, len(scan_values)),
            "recall": _ratio(recalled, len(items)),
            "in_decoys": sum(1 for path, _ in scan_values if path in decoys),
        }
        for name in totals:
            totals[name] += categories[category][name] if name != "truth" else len(items)
    totals["precision"] = _ratio(totals["true_positives"], totals["found"])
    totals["recall"] = _ratio(totals["recalled"], totals["truth"])

    persons = summary["persons"]
    expected_persons = truth["persons_count"]
    truth_per_category = {c: sum(1 for p in truth["persons"] if c in p["categories"]) for c in CATEGORIES}
    return {
        "result": str(result),
        "truth": {"seed": truth.get("seed"), "generator": truth.get("generator"), "persons": expected_persons},
        "categories": categories,
        "overall": totals,
        "persons": {
            "truth": expected_persons,
            "lower": persons["lower"],
            "best": persons["best"],
            "upper": persons["upper"],
            "best_error": persons["best"] - expected_persons,
            "best_error_ratio": _ratio(persons["best"] - expected_persons, expected_persons),
            "within_range": persons["lower"] <= expected_persons <= persons["upper"],
        },
        "persons_per_category": {
            c: {"truth": truth_per_category[c], "scan": summary["categories"][c]["persons"]} for c in CATEGORIES
        },
    }
