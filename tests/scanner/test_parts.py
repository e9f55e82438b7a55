"""A scanned file's part: a small one is one packed file (outcome, records, findings), a large one
streams its records and findings to two Arrow files and writes its outcome last. Both read back the
same, and a part is done only once its last file is in place."""

from garde.scanner import worker
from garde.scanner.detect import prefilter
from garde.scanner.worker import Config, Task, part_done, process_file, read_part

from .helpers import NIR_DUPONT

KEY = b"a-test-key-of-enough-length"
SHA = "cd" * 32


def _config(folder) -> Config:
    for name in ("parts", "work"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return Config(str(folder / "parts"), str(folder / "work"), KEY, False, 0.5, 600.0, 4 << 30, prefilter.serialized())


def _table(path, rows: int):
    lines = ["IPP;Nom;Prénom;NIR;Téléphone"]
    lines += [f"{100000 + n};DUPONT;Jean;{NIR_DUPONT};06 12 34 56 {n % 100:02d}" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _contents(folder) -> tuple:
    part = read_part(folder / "parts", SHA)
    records = [row for batch in part.record_batches() for row in batch.to_pylist()]
    findings = [row for batch in part.finding_batches() for row in batch.to_pylist()]
    return {k: v for k, v in part.outcome.items() if k != "seconds"}, records, findings


def test_a_small_file_leaves_one_packed_part(tmp_path):
    path = _table(tmp_path / "patients.csv", 20)
    outcome = process_file(Task(str(path), path.name, SHA), _config(tmp_path / "a"))
    assert [p.name for p in (tmp_path / "a" / "parts").iterdir()] == [f"{SHA}.part"]
    assert part_done(tmp_path / "a" / "parts", SHA)
    read, records, findings = _contents(tmp_path / "a")
    assert read["records"] == outcome["records"] == len(records) == 20
    assert read["findings"] == len(findings) == 100
    assert {row["detector"] for row in findings} == {"ipp", "last_name", "first_name", "nir", "phone"}


def test_a_large_file_streams_its_part_and_reads_back_the_same(tmp_path, monkeypatch):
    path = _table(tmp_path / "patients.csv", 3000)
    process_file(Task(str(path), path.name, SHA), _config(tmp_path / "packed"))
    monkeypatch.setattr(worker, "PACKED_BYTES", 10_000)
    process_file(Task(str(path), path.name, SHA), _config(tmp_path / "streamed"))
    names = sorted(p.name for p in (tmp_path / "streamed" / "parts").iterdir())
    assert names == [f"{SHA}.findings.arrow", f"{SHA}.json", f"{SHA}.records.arrow"]
    assert _contents(tmp_path / "streamed") == _contents(tmp_path / "packed")
    assert _contents(tmp_path / "packed")[0]["findings"] == 15000


def test_a_part_is_done_only_once_written_whole(tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / f"{SHA}.part.tmp").write_bytes(b"cut short by a kill")
    (parts / f"{SHA}.records.arrow").write_bytes(b"left by a killed run")
    assert not part_done(parts, SHA) and read_part(parts, SHA) is None


def test_a_packed_part_that_is_not_whole_is_read_as_no_part(tmp_path):
    """Renamed into place once written, a packed part is whole; one cut short anyway (a crash of the
    machine) or of another format makes its file scanned again, never a wrong result."""
    path = _table(tmp_path / "patients.csv", 20)
    process_file(Task(str(path), path.name, SHA), _config(tmp_path / "a"))
    packed = tmp_path / "a" / "parts" / f"{SHA}.part"
    whole = packed.read_bytes()
    for damaged in (whole[:-10], whole[:20], b"GARDEPT0" + whole[8:], whole[:33] + b"}" + whole[34:]):
        packed.write_bytes(damaged)
        assert read_part(tmp_path / "a" / "parts", SHA) is None


def test_a_file_scanned_again_reads_its_newest_part(tmp_path, monkeypatch):
    """A packed part left by an earlier run is replaced when the file is scanned again with a
    streamed part (and the reverse reads the packed one, written last)."""
    small = _table(tmp_path / "small.csv", 5)
    config = _config(tmp_path / "run")
    process_file(Task(str(small), small.name, SHA), config)
    monkeypatch.setattr(worker, "PACKED_BYTES", 1_000)
    large = _table(tmp_path / "large.csv", 300)
    process_file(Task(str(large), large.name, SHA), config)
    assert not (tmp_path / "run" / "parts" / f"{SHA}.part").exists()
    assert _contents(tmp_path / "run")[0]["records"] == 300
    monkeypatch.setattr(worker, "PACKED_BYTES", 1 << 20)
    process_file(Task(str(small), small.name, SHA), config)
    assert _contents(tmp_path / "run")[0]["records"] == 5
