"""End to end: a small dump in, persons and categories out."""

import json

import pyarrow.parquet as pq
import pytest

from garde.scanner import ScanInputError, ScanSettings, report_persons, scan
from garde.scanner.recordstore import RecordStore

from .helpers import write_dump


@pytest.fixture
def dump(tmp_path):
    return write_dump(tmp_path / "dump")


def test_it_counts_persons_and_categories(dump, tmp_path):
    result = scan([dump], tmp_path / "out", ScanSettings(jobs=0))
    # Jean Dupont (CSV + HL7, linked on NIR/IPP), Claire Martin (CSV + letter, linked on name and
    # birth date), Yann Le Goff (CSV), Marie Dupont (next of kin in the HL7 message).
    assert result.summary["persons"] == {"lower": 4, "best": 4, "upper": 6}
    categories = result.summary["categories"]
    for category in ("identity", "national_identifier", "contact", "health"):
        assert categories[category]["findings"] > 0, category
    assert categories["national_identifier"]["persons"] == 2
    assert categories["financial"]["findings"] == 0


def test_it_writes_the_documented_outputs_with_hashes(dump, tmp_path):
    out = tmp_path / "out"
    scan([dump], out, ScanSettings(jobs=0))
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["outputs"]) == {"findings.parquet", "records.parquet", "persons.parquet", "files.parquet", "summary.json", "report.html"}
    assert manifest["reveal"] is False and manifest["hash"]["algorithm"] == "HMAC-SHA256"
    findings = pq.read_table(out / "findings.parquet").to_pylist()
    assert all(f["value"] is None for f in findings)
    assert not any("DUPONT" in f["masked"] for f in findings)
    assert not (out / ".parts").exists() and not (out / ".work").exists()


def test_it_keeps_clear_values_only_with_reveal(dump, tmp_path):
    scan([dump], tmp_path / "out", ScanSettings(jobs=0, reveal=True))
    values = {f["value"] for f in pq.read_table(tmp_path / "out" / "findings.parquet").to_pylist()}
    assert "DUPONT" in values


def test_it_scans_identical_files_once_and_counts_them_everywhere(dump, tmp_path):
    (dump / "copie").mkdir()
    (dump / "copie" / "patients.csv").write_bytes((dump / "patients.csv").read_bytes())
    result = scan([dump], tmp_path / "out", ScanSettings(jobs=0))
    files = pq.read_table(tmp_path / "out" / "files.parquet").to_pylist()
    copies = [f for f in files if f["path"].endswith("patients.csv")]
    assert [(f["path"], f["status"]) for f in copies] == [("dump/patients.csv", "scanned"), ("dump/copie/patients.csv", "duplicate")]
    assert result.summary["persons"]["best"] == 4
    assert result.summary["folders"]["dump/copie"]["findings"] == copies[0]["findings"] > 0
    # each person of the table is where both copies are, in walk order
    persons = pq.read_table(tmp_path / "out" / "persons.parquet").to_pylist()
    in_table = [p for p in persons if any(place.startswith("dump/patients.csv#") for place in p["locations"])]
    assert in_table and all(p["files"] >= 2 for p in in_table)
    for person in in_table:
        places = [place.split("#")[0] for place in person["locations"]]
        assert places.index("dump/patients.csv") < places.index("dump/copie/patients.csv")
    records = pq.read_table(tmp_path / "out" / "records.parquet").to_pylist()
    assert {r["path"] for r in records if r["record_id"] in in_table[0]["record_ids"]} >= {"dump/patients.csv"}
    assert all(isinstance(r["categories"], list) and r["categories"] for r in records)


def test_it_makes_the_same_persons_when_they_are_read_a_few_rows_at_a_time(dump, tmp_path, monkeypatch):
    # persons.parquet reads its sorted records and places in chunks of whole persons: a person
    # whose rows straddle two batches, or a content whose places are joined a slice at a time,
    # must come out as when everything fits in one batch.
    (dump / "copie").mkdir()
    (dump / "copie" / "patients.csv").write_bytes((dump / "patients.csv").read_bytes())
    scan([dump], tmp_path / "whole", ScanSettings(jobs=0))
    whole = pq.read_table(tmp_path / "whole" / "persons.parquet")
    reading = RecordStore.batches
    monkeypatch.setattr(RecordStore, "batches", lambda store, query, rows=50_000: reading(store, query, rows=2))
    monkeypatch.setattr(report_persons, "_PLACES_AT_ONCE", 1)
    scan([dump], tmp_path / "bits", ScanSettings(jobs=0))
    assert pq.read_table(tmp_path / "bits" / "persons.parquet").equals(whole)
    in_both = [p for p in whole.to_pylist() if p["files"] >= 2]
    assert in_both and all(len(p["locations"]) >= 2 for p in in_both)


def test_it_lists_at_most_max_locations_places_of_a_person_but_counts_every_file(dump, tmp_path, monkeypatch):
    (dump / "copie").mkdir()
    (dump / "copie" / "patients.csv").write_bytes((dump / "patients.csv").read_bytes())
    monkeypatch.setattr(report_persons, "MAX_LOCATIONS", 1)
    scan([dump], tmp_path / "out", ScanSettings(jobs=0))
    persons = pq.read_table(tmp_path / "out" / "persons.parquet").to_pylist()
    in_table = [p for p in persons if p["locations"] and p["locations"][0].startswith("dump/patients.csv#")]
    assert in_table and all(p["files"] >= 2 and len(p["locations"]) == 1 for p in in_table)
    assert all(len(p["locations"]) <= 1 for p in persons)


def test_it_hashes_values_the_same_when_its_cache_of_hashes_is_cleared(dump, tmp_path, monkeypatch):
    # The worker forgets the keyed hashes of earlier batches past MAX_CACHED_HASHES (a patient table
    # has a distinct value per cell): the hashes written must not depend on it.
    from garde.scanner import worker
    from garde.scanner.mask import KEY_ENV

    monkeypatch.setenv(KEY_ENV, "0123456789abcdef0123456789abcdef")
    (dump / "big.csv").write_text("nom;prenom;telephone\n" + "".join(f"NOM{i};Jean;06 12 34 {i // 100:02d} {i % 100:02d}\n" for i in range(3_000)))
    scan([dump], tmp_path / "a", ScanSettings(jobs=0, ner=False))
    monkeypatch.setattr(worker, "MAX_CACHED_HASHES", 10)
    monkeypatch.setattr(worker, "BATCH_RECORDS", 100)
    scan([dump], tmp_path / "b", ScanSettings(jobs=0, ner=False))
    hashes = [pq.read_table(tmp_path / out / "findings.parquet", columns=["value_hash"]).column(0).to_pylist() for out in ("a", "b")]
    assert len(hashes[0]) > 6_000 and hashes[0] == hashes[1]


def test_it_gives_the_same_result_with_worker_processes(dump, tmp_path):
    local = scan([dump], tmp_path / "a", ScanSettings(jobs=0))
    pooled = scan([dump], tmp_path / "b", ScanSettings(jobs=2))
    assert local.summary == pooled.summary


def test_it_records_a_file_over_the_time_limit_and_goes_on(dump, tmp_path):
    # 60 MB of identifiers take tens of seconds to scan on any machine; the small files of the dump take
    # well under the limit even on a loaded one (a 0.5 s limit failed at load 8-13 on 2 cores).
    (dump / "huge.txt").write_text("Mme Claire Martin, née le 01/02/1980, tél. 06 12 34 56 78\n" * 1_000_000)
    settings = ScanSettings(jobs=1, ner=False)
    settings.limits.file_seconds = 3
    settings.limits.file_seconds_per_mb = 0
    result = scan([dump], tmp_path / "out", settings)
    errors = {e["path"]: e["reason"] for e in json.loads((result.out / "manifest.json").read_text())["errors"]}
    assert errors["dump/huge.txt"] == "time limit exceeded (3 s for this file): file not scanned"
    assert result.summary["persons"]["best"] == 4


def test_a_large_file_is_allowed_time_in_proportion_to_its_size(tmp_path):
    """A legitimate large export (a patient table of hundreds of MB) must not hit the time limit of a
    small file: each MB adds file_seconds_per_mb. 6 MB of identifiers take several seconds (about
    20 s at load 10): over a 1 s limit, well under 1 s + 60 s a MB."""
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "big.txt").write_text("Mme Claire Martin, née le 01/02/1980, tél. 06 12 34 56 78\n" * 100_000)
    settings = ScanSettings(jobs=1, ner=False)
    settings.limits.file_seconds = 1
    settings.limits.file_seconds_per_mb = 60
    result = scan([dump], tmp_path / "out", settings)
    manifest = json.loads((result.out / "manifest.json").read_text())
    assert manifest["errors"] == []
    assert result.summary["files"]["distinct_scanned"] == 1 and result.summary["files"]["errors"] == 0
    assert result.summary["categories"]["contact"]["findings"] == 100_000
    assert manifest["settings"]["limits"]["file_seconds_per_mb"] == 60


def test_it_resumes_an_interrupted_scan_to_the_same_result(dump, tmp_path):
    complete = scan([dump], tmp_path / "complete", ScanSettings(jobs=0))
    out = tmp_path / "resumed"
    partial = scan([dump / "patients.csv"], out, ScanSettings(jobs=0))
    assert partial.summary["persons"]["best"] == 3
    # Simulate a kill: a first run left parts and state behind, then --resume with the full input.
    for name in ("findings.parquet", "records.parquet", "persons.parquet", "files.parquet", "summary.json", "manifest.json"):
        (out / name).unlink()
    resumed = scan([dump], out, ScanSettings(jobs=0, resume=True))
    assert resumed.summary == complete.summary


def test_it_refuses_bad_input(dump, tmp_path):
    with pytest.raises(ScanInputError, match="not found"):
        scan([tmp_path / "missing"], tmp_path / "out")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    with pytest.raises(ScanInputError, match="not empty"):
        scan([dump], tmp_path / "used")
