"""A scanned file's part: a small one is an entry appended to its worker's pack (outcome, records,
findings), a large one streams its records and findings to two Arrow files and writes its outcome
last. Both read back the same; a part is done only once whole, and one that is not whole makes its
file scanned again."""

import os

import pyarrow.parquet as pq
import pytest

from garde.scanner import ScanSettings, packs, report, scan, worker
from garde.scanner.detect import prefilter
from garde.scanner.worker import Config, Task, part_done, process_file, read_part

from .helpers import NIR_DUPONT

KEY = b"a-test-key-of-enough-length"
SHA = "cd" * 32
OTHER = "ef" * 32


def _config(folder) -> Config:
    for name in ("parts", "work"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return Config(str(folder / "parts"), str(folder / "work"), KEY, False, 0.5, 600.0, 4 << 30, prefilter.serialized())


def _table(path, rows: int):
    lines = ["IPP;Nom;Prénom;NIR;Téléphone"]
    lines += [f"{100000 + n};DUPONT;Jean;{NIR_DUPONT};06 12 34 56 {n % 100:02d}" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _scan(path, folder, sha256=SHA) -> dict:
    outcome = process_file(Task(str(path), path.name, sha256), _config(folder))
    packs.close(str(folder / "parts"))
    return outcome


def _contents(folder, outcome: dict, sha256=SHA) -> tuple:
    part = read_part(folder / "parts", sha256, outcome.get("part"))
    records = [row for batch in part.record_batches() for row in batch.to_pylist()]
    findings = [row for batch in part.finding_batches() for row in batch.to_pylist()]
    return {k: v for k, v in part.outcome.items() if k not in ("seconds", "part")}, records, findings


def test_a_small_file_leaves_an_entry_in_its_workers_pack(tmp_path):
    outcome = _scan(_table(tmp_path / "patients.csv", 20), tmp_path / "a")
    assert [p.name for p in (tmp_path / "a" / "parts").iterdir()] == [outcome["part"]["pack"]]
    assert outcome["part"]["pack"].endswith(".pack") and part_done(tmp_path / "a" / "parts", outcome)
    read, records, findings = _contents(tmp_path / "a", outcome)
    assert read["records"] == outcome["records"] == len(records) == 20
    assert read["findings"] == len(findings) == 100
    assert {row["detector"] for row in findings} == {"ipp", "last_name", "first_name", "nir", "phone"}


def test_one_process_appends_every_small_file_to_the_same_pack(tmp_path):
    config = _config(tmp_path / "a")
    outcomes = [
        process_file(Task(str(_table(tmp_path / f"t{n}.csv", n + 1)), f"t{n}.csv", f"{n:064x}"), config) for n in range(5)
    ]
    packs.close(config.parts_dir)
    assert len({outcome["part"]["pack"] for outcome in outcomes}) == 1
    assert len(list((tmp_path / "a" / "parts").iterdir())) == 1
    indexed = dict(packs.index(tmp_path / "a" / "parts"))
    assert indexed == {f"{n:064x}": outcomes[n]["part"] for n in range(5)}
    assert [_contents(tmp_path / "a", o, f"{n:064x}")[0]["records"] for n, o in enumerate(outcomes)] == [1, 2, 3, 4, 5]


def test_a_large_file_streams_its_part_and_reads_back_the_same(tmp_path, monkeypatch):
    path = _table(tmp_path / "patients.csv", 3000)
    packed = _scan(path, tmp_path / "packed")
    monkeypatch.setattr(worker, "PACKED_BYTES", 10_000)
    streamed = _scan(path, tmp_path / "streamed")
    names = sorted(p.name for p in (tmp_path / "streamed" / "parts").iterdir())
    assert names == [f"{SHA}.findings.arrow", f"{SHA}.json", f"{SHA}.records.arrow"]
    assert "part" not in streamed and part_done(tmp_path / "streamed" / "parts", streamed)
    assert _contents(tmp_path / "streamed", streamed) == _contents(tmp_path / "packed", packed)
    assert _contents(tmp_path / "packed", packed)[0]["findings"] == 15000


def test_a_part_is_done_only_once_written_whole(tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / f"{SHA}.records.arrow").write_bytes(b"left by a killed run")
    outcome = {"sha256": SHA, "records": 1}
    assert not part_done(parts, outcome) and read_part(parts, SHA) is None


def test_an_entry_that_is_not_whole_is_read_as_no_part(tmp_path):
    """An entry cut short (a worker killed while writing it), damaged, of another format or of
    another file makes its file scanned again, never a wrong result."""
    outcome = _scan(_table(tmp_path / "patients.csv", 20), tmp_path / "a")
    location = outcome["part"]
    pack = tmp_path / "a" / "parts" / location["pack"]
    whole = pack.read_bytes()
    assert read_part(tmp_path / "a" / "parts", SHA, location) is not None
    assert read_part(tmp_path / "a" / "parts", OTHER, location) is None
    assert read_part(tmp_path / "a" / "parts", SHA, {**location, "pack": "missing.pack"}) is None
    head = packs.HEAD.size
    findings_start = len(whole) - packs.HEAD.unpack_from(whole)[4]  # the last section, compressed
    middle = (findings_start + len(whole)) // 2
    flipped = whole[:middle] + bytes([whole[middle] ^ 0xFF]) + whole[middle + 1 :]
    for damaged in (whole[:-10], whole[:20], b"GARDEPK1" + whole[8:], whole[:head] + b"}" + whole[head + 1 :], flipped):
        pack.write_bytes(damaged)
        assert read_part(tmp_path / "a" / "parts", SHA, location) is None


def test_an_entry_stores_its_rows_compressed(tmp_path):
    """A part's JSON is about as large as the file scanned (keyed hashes): stored compressed, the
    parts of a scan take about a third of the room."""
    (tmp_path / "parts").mkdir()
    findings = [b'[{"detector": "phone", "masked": "0* ** ** ** %02d", "value_hash": "%064x"}]' % (n % 100, n) for n in range(2000)]
    location = packs.append(tmp_path / "parts", SHA, {"sha256": SHA}, [], findings)
    packs.close(tmp_path / "parts")
    assert location["size"] < sum(map(len, findings)) / 2
    outcome, rows = packs.read(tmp_path / "parts", SHA, location, kinds=("records", "findings"))
    assert outcome == {"sha256": SHA} and rows["records"] == []
    assert rows["findings"][1999] == {"detector": "phone", "masked": "0* ** ** ** 99", "value_hash": f"{1999:064x}"}


def test_the_index_stops_at_an_entry_cut_short(tmp_path):
    config = _config(tmp_path / "a")
    first = process_file(Task(str(_table(tmp_path / "a.csv", 2)), "a.csv", SHA), config)
    second = process_file(Task(str(_table(tmp_path / "b.csv", 2)), "b.csv", OTHER), config)
    packs.close(config.parts_dir)
    pack = tmp_path / "a" / "parts" / first["part"]["pack"]
    assert dict(packs.index(tmp_path / "a" / "parts")) == {SHA: first["part"], OTHER: second["part"]}
    os.truncate(pack, pack.stat().st_size - 1)  # killed while writing the second entry
    assert dict(packs.index(tmp_path / "a" / "parts")) == {SHA: first["part"]}
    os.truncate(pack, 7)  # killed while writing the first
    assert dict(packs.index(tmp_path / "a" / "parts")) == {}


def test_the_index_stops_at_an_entry_of_another_version(tmp_path):
    """Entries written by an earlier version (other head, uncompressed rows) are not read: their files
    are scanned again by --resume."""
    config = _config(tmp_path / "a")
    first = process_file(Task(str(_table(tmp_path / "a.csv", 2)), "a.csv", SHA), config)
    second = process_file(Task(str(_table(tmp_path / "b.csv", 2)), "b.csv", OTHER), config)
    packs.close(config.parts_dir)
    pack = tmp_path / "a" / "parts" / first["part"]["pack"]
    whole = bytearray(pack.read_bytes())
    whole[second["part"]["offset"] : second["part"]["offset"] + 8] = b"GARDEPK1"
    pack.write_bytes(bytes(whole))
    assert dict(packs.index(tmp_path / "a" / "parts")) == {SHA: first["part"]}


def test_a_binary_file_leaves_an_entry_without_records(tmp_path):
    path = tmp_path / "image.bin"
    path.write_bytes(bytes(range(256)) * 40)
    outcome = _scan(path, tmp_path / "a")
    assert outcome["skipped"] == "binary file of an unsupported type"
    assert [p.suffix for p in (tmp_path / "a" / "parts").iterdir()] == [".pack"]
    read, records, findings = _contents(tmp_path / "a", outcome)
    assert read["skipped"] == outcome["skipped"] and records == findings == []


def test_a_part_read_for_its_records_only_does_not_hand_out_findings(tmp_path):
    outcome = _scan(_table(tmp_path / "patients.csv", 4), tmp_path / "a")
    part = read_part(tmp_path / "a" / "parts", SHA, outcome["part"], kinds=("records",))
    assert sum(batch.num_rows for batch in part.record_batches()) == 4
    with pytest.raises(ValueError, match="not read"):
        list(part.finding_batches())


def test_the_report_is_the_same_from_packed_and_from_streamed_parts(tmp_path, monkeypatch):
    """The report gathers the rows of packed parts across files: mixed with streamed parts, in walk
    order, it writes what it writes from streamed parts alone."""
    monkeypatch.setenv("GARDE_SCAN_KEY", KEY.decode())
    dump = tmp_path / "dump"
    dump.mkdir()
    for n in range(12):
        _table(dump / f"t{n:02d}.csv", 1 + 40 * (n % 4))
    (dump / "lettre.txt").write_text("Madame Claire MARTIN, née le 01/02/1980, tél. 06 12 34 56 78.\n", encoding="utf-8")
    monkeypatch.setattr(report, "GATHERED_ROWS", 50)  # several gathered batches, cut inside and between files
    monkeypatch.setattr(worker, "PACKED_BYTES", 150_000)  # tables of 1 and 41 rows packed, of 81 and 121 streamed
    mixed = scan([dump], tmp_path / "mixed", ScanSettings(jobs=0))
    monkeypatch.setattr(worker, "PACKED_BYTES", 0)
    streamed = scan([dump], tmp_path / "streamed", ScanSettings(jobs=0))
    assert mixed.summary == streamed.summary
    for name in ("findings.parquet", "records.parquet", "persons.parquet", "files.parquet"):
        assert pq.read_table(tmp_path / "mixed" / name).equals(pq.read_table(tmp_path / "streamed" / name)), name


def test_a_streamed_part_of_an_earlier_version_is_stored_like_a_new_one(tmp_path):
    """A scan resumed after an upgrade may hold a streamed part written when a record's categories
    and detectors were lists: the report stores it as it stores a part written now."""
    import pyarrow as pa

    from garde.scanner.recordstore import RecordStore

    old_schema = pa.schema([pa.field(f.name, pa.list_(pa.string())) if f.name in ("categories", "detectors") else f for f in worker.PART_RECORDS])
    path = tmp_path / "old.records.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, old_schema) as writer:
        writer.write_batch(pa.RecordBatch.from_pylist([{"record_id": "c#0", "identifies": True, "categories": ["contact", "identity"]}], schema=old_schema))
    old_part = worker.Part({"records": 1}, path, path)
    store = RecordStore()
    try:
        for batch in report._in_batches([(old_part, {"sha256": OTHER})], "records", report._RECORDS_OF_PARTS):
            store.add_batch(batch, None)
        store.flush()
        assert store.fetch("SELECT record_id, sha256, categories, detectors FROM records") == [("c#0", OTHER, "contact,identity", None)]
    finally:
        store.close()


def test_a_part_damaged_on_disk_before_the_report_is_an_error_not_a_silent_gap(tmp_path, monkeypatch):
    """If a file's part can no longer be read when the report runs (the disk damaged it), the file is
    reported as an error with the reason, and nothing of it is counted."""
    import json

    dump = tmp_path / "dump"
    dump.mkdir()
    _table(dump / "a.csv", 3)
    (dump / "lettre.txt").write_text("Madame Claire MARTIN, née le 01/02/1980, tél. 06 12 34 56 78.\n", encoding="utf-8")
    damaged = []
    read = report.read_part

    def read_but_a_csv(parts, sha256, location=None, kinds=("records", "findings")):
        part = read(parts, sha256, location, kinds)
        if part is not None and part.outcome.get("extractor") == "csv":
            damaged.append(sha256)
            return None
        return part

    monkeypatch.setattr(report, "read_part", read_but_a_csv)
    result = scan([dump], tmp_path / "out", ScanSettings(jobs=0, ner=False))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert damaged and manifest["errors"] == [{"path": "dump/a.csv", "kind": "error", "reason": report.UNREADABLE_PART}]
    assert result.summary["files"]["errors"] == 1 and result.summary["records"]["with_findings"] == 1
    files = {row["path"]: row for row in pq.read_table(tmp_path / "out" / "files.parquet").to_pylist()}
    assert files["dump/a.csv"]["status"] == "error" and files["dump/a.csv"]["findings"] == 0
    assert {row["detector"] for row in pq.read_table(tmp_path / "out" / "findings.parquet").to_pylist()} == {"person_name", "birth_date", "phone"}
