"""A real `kill -9` in the middle of a scan, then --resume: the result equals an uninterrupted scan."""

import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq

from garde.scanner import ScanSettings, packs, scan
from garde.scanner.corpus import write_corpus

KEY = "kill-test-key-0123456789abcdef"
SCRIPT = (
    "import sys\n"
    "from garde.scanner import ScanSettings, scan\n"
    "scan([sys.argv[1]], sys.argv[2], ScanSettings(jobs=1, resume=sys.argv[3] == 'resume'))\n"
)


def _parts_written(parts) -> int:
    """Entries of the packs (small files) and outcome files (large files, failures)."""
    if not parts.is_dir():
        return 0
    return len(list(packs.index(parts))) + len(list(parts.glob("*.json")))


def _rows(folder, name, sort):
    return sorted(pq.read_table(folder / name).to_pylist(), key=lambda row: tuple(str(row[k]) for k in sort))


def test_it_resumes_after_kill_9_to_the_result_of_an_uninterrupted_scan(tmp_path, monkeypatch):
    monkeypatch.setenv("GARDE_SCAN_KEY", KEY)
    write_corpus(tmp_path / "corpus", 400, 11)
    dump, out = tmp_path / "corpus" / "dump", tmp_path / "killed"
    env = {**os.environ, "GARDE_SCAN_KEY": KEY}
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, str(dump), str(out), "first"], env=env, start_new_session=True)
    parts = out / ".parts"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if _parts_written(parts) >= 5:
                break
            time.sleep(0.01)
        assert process.poll() is None, "the scan ended before it could be killed"
        os.killpg(process.pid, signal.SIGKILL)  # the scan and its worker, in their own session
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (out / "manifest.json").exists()
    assert _parts_written(parts) >= 5

    resumed = subprocess.run([sys.executable, "-c", SCRIPT, str(dump), str(out), "resume"], env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    complete = scan([dump], tmp_path / "complete", ScanSettings(jobs=0))

    killed_summary = __import__("json").loads((out / "summary.json").read_text())
    assert killed_summary == complete.summary
    finding_key = ("record_id", "detector", "start", "field")
    assert _rows(out, "findings.parquet", finding_key) == _rows(tmp_path / "complete", "findings.parquet", finding_key)
    assert _rows(out, "persons.parquet", ("person_id",)) == _rows(tmp_path / "complete", "persons.parquet", ("person_id",))
    assert _rows(out, "files.parquet", ("path",)) == _rows(tmp_path / "complete", "files.parquet", ("path",))
    assert not parts.exists()


def test_its_worker_processes_stop_when_the_scan_is_killed(tmp_path):
    # Only the scanning process is killed: the processes it started (the fork server and the workers
    # forked from it) must not scan on without a time limit.
    write_corpus(tmp_path / "corpus", 400, 11)
    dump, out = tmp_path / "corpus" / "dump", tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-c", SCRIPT.replace("jobs=1", "jobs=2"), str(dump), str(out), "first"], start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (out / ".parts").is_dir():
            time.sleep(0.01)
        time.sleep(0.5)
        assert process.poll() is None, "the scan ended before it could be killed"
        process.kill()
        process.wait()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _group_alive(process.pid):
            time.sleep(0.1)
        assert not _group_alive(process.pid), "worker processes outlived the scan"
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_it_resumes_after_a_crash_while_writing_the_report(tmp_path, monkeypatch):
    """A run killed while linking leaves its record store (a DuckDB file) in .parts: --resume
    builds it again from the parts and gives the result of an uninterrupted scan."""
    from garde.scanner import report

    from .helpers import write_dump

    dump = write_dump(tmp_path / "dump")
    whole = scan([dump], tmp_path / "whole", ScanSettings(jobs=0))

    def crash(store, *args, **kwargs):
        store.flush()
        raise SystemExit("killed while linking")

    with monkeypatch.context() as patched:
        patched.setattr(report, "link_store", crash)
        patched.setattr(report, "_remove_store", lambda path: None)  # a kill runs no clean-up
        try:
            scan([dump], tmp_path / "out", ScanSettings(jobs=0))
        except SystemExit:
            pass
    assert (tmp_path / "out" / ".parts" / "records.duckdb").exists()
    resumed = scan([dump], tmp_path / "out", ScanSettings(jobs=0, resume=True))
    assert resumed.summary == whole.summary
    for name in ("persons", "records"):
        assert pq.read_table(tmp_path / "out" / f"{name}.parquet").equals(pq.read_table(tmp_path / "whole" / f"{name}.parquet"))
    assert not (tmp_path / "out" / ".parts").exists()


def test_it_scans_into_a_folder_whose_name_holds_a_quote(tmp_path):
    from .helpers import write_dump

    dump = write_dump(tmp_path / "dump")
    result = scan([dump], tmp_path / "centre de l'hôpital" / "scan", ScanSettings(jobs=0, ner=False))
    assert result.summary["persons"]["best"] >= 1
