"""The Dask engine: same result as the local engine, --resume, hostile files, bad engine input."""

import json
import os
import socket
import time
from email.message import EmailMessage

import psutil
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from garde.scanner import ScanInputError, ScanSettings, dask_engine, scan
from garde.scanner.cli import app
from garde.scanner.corpus import write_corpus
from garde.scanner.detect import prefilter
from garde.scanner.worker import Config, Task, process_file

from .helpers import PATIENTS_CSV, write_dump

KEY = "dask-test-key-0123456789abcdef"


@pytest.fixture(autouse=True, scope="module")
def quiet_distributed():
    """The module's cluster runs in this process: its scheduler logs connection errors from its
    own threads while later tests run, through a handler whose stream (a CliRunner capture) may be
    closed by then; that noise ("--- Logging error ---" and a traceback) would land in the output of
    whichever CLI test runs at that moment. These tests check what the scan reports, not Dask's logs."""
    import logging

    import distributed  # noqa: F401 - its loggers exist from here on

    names = ["distributed", *(name for name in logging.root.manager.loggerDict if name.startswith("distributed."))]
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _settings(**options) -> ScanSettings:
    """Without spaCy NER: it takes seconds to load in every scan process, and these tests are about engines."""
    return ScanSettings(ner=False, **options)


OUTPUTS = (
    "summary.json",
    "manifest.json",
    "findings.parquet",
    "persons.parquet",
    "records.parquet",
    "files.parquet",
)


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster of 2 workers for the tests that reach an existing scheduler; closed after."""
    executor = dask_engine.DaskExecutor.open(2, None)
    try:
        yield executor
    finally:
        executor.close()


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("GARDE_SCAN_KEY", KEY)  # same key in every scan: hashes can be compared


def _rows(folder, name):
    rows = pq.read_table(folder / name).to_pylist()
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))


TIMINGS = {"started", "duration_s", "seconds", "seconds_by_step"}


def _manifest(folder):
    """The manifest without timings (at any depth) and the engine's own settings."""

    def untimed(value):
        if isinstance(value, dict):
            return {k: untimed(v) for k, v in value.items() if k not in TIMINGS}
        return [untimed(v) for v in value] if isinstance(value, list) else value

    manifest = untimed(json.loads((folder / "manifest.json").read_text()))
    for field in ("engine", "scheduler", "jobs"):
        manifest["settings"].pop(field)
    manifest["outputs"].pop("report.html")  # it prints the duration and the settings
    return manifest


def _add_mail(dump):
    """An e-mail whose attachment the worker extracts and the walker then scans as a file of its own."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = (
        "secretariat@chu.example",
        "dim@chu.example",
        "Export patients",
    )
    mail.set_content("Ci-joint l'export demandé.")
    mail.add_attachment(PATIENTS_CSV.encode(), maintype="text", subtype="csv", filename="export.csv")
    (dump / "messagerie").mkdir()
    (dump / "messagerie" / "export.eml").write_bytes(bytes(mail))


def test_it_gives_the_same_result_as_the_local_engine_on_the_synthetic_corpus(tmp_path):
    write_corpus(tmp_path / "corpus", 20, 5)
    dump = tmp_path / "corpus" / "dump"
    _add_mail(dump)
    local = scan([dump], tmp_path / "local", _settings(jobs=0))
    events = []
    dask = scan(
        [dump],
        tmp_path / "dask",
        _settings(jobs=2, engine="dask"),
        lambda event, **info: events.append((event, info)),
    )

    assert dask.summary == local.summary
    assert local.summary["files"]["errors"] == 0 and local.summary["persons"]["best"] > 20
    assert any(
        row["path"].endswith("export.eml!/export.csv") for row in _rows(tmp_path / "dask", "files.parquet")
    )
    for name in OUTPUTS[2:]:
        assert _rows(tmp_path / "dask", name) == _rows(tmp_path / "local", name), name
    assert _manifest(tmp_path / "dask") == _manifest(tmp_path / "local")
    assert dask.manifest["settings"]["engine"] == "dask"
    # The same progress as the local engine: the bytes of the inputs, one event per file.
    start = next(info for event, info in events if event == "start")
    assert start["engine"] == "dask" and start["workers"] == 2
    assert sum(info["size"] for event, info in events if event == "advance") == start["total"] > 0
    assert (
        sum(1 for event, _ in events if event == "file")
        == local.summary["files"]["seen"] - local.summary["files"]["archives_opened"]
    )
    assert not (tmp_path / "dask" / ".parts").exists() and not (tmp_path / "dask" / ".work").exists()


def test_with_ner_it_scans_small_files_in_bundles_with_the_same_result(cluster, tmp_path, monkeypatch):
    from garde.scanner.detect import ner

    if ner.installed():
        pytest.skip(ner.installed())
    write_corpus(tmp_path / "corpus", 20, 5)
    dump = tmp_path / "corpus" / "dump"
    _add_mail(dump)  # an attachment: found by a bundled file's scan, then scanned on its own
    submitted = []
    submit = dask_engine.DaskPool._submit
    monkeypatch.setattr(dask_engine.DaskPool, "_submit", lambda pool, tasks: (submitted.append(len(tasks)), submit(pool, tasks)))
    local = scan([dump], tmp_path / "local", ScanSettings(jobs=0, ner=True))
    dask = scan([dump], tmp_path / "dask", ScanSettings(jobs=2, engine="dask", scheduler=cluster.address, ner=True))
    assert max(submitted) > 1  # bundles went to the workers
    assert dask.summary == local.summary
    for name in OUTPUTS[2:]:
        assert _rows(tmp_path / "dask", name) == _rows(tmp_path / "local", name), name


def test_a_bundle_whose_dask_worker_died_is_submitted_again_file_by_file():
    from distributed.scheduler import KilledWorker

    class DeadFuture:
        status = "error"

        def exception(self):
            return KilledWorker("garde-scan-bundle", "tcp://127.0.0.1:1", 3)

    pool = object.__new__(dask_engine.DaskPool)  # no cluster: only what it does with a failed future
    again = []
    pool._submit = again.append
    tasks = [Task(f"/dump/lettre-{n}.txt", f"lettre-{n}.txt", f"{n}" * 64, 2_000) for n in range(3)]
    assert pool._outcomes(tasks, DeadFuture()) == []
    assert again == [[task] for task in tasks]
    outcome = pool._outcomes(tasks[:1], DeadFuture())  # alone, it is recorded as lost
    assert outcome[0][0] == tasks[0] and "Dask worker died" in outcome[0][1]["error"]


def test_it_resumes_an_interrupted_dask_scan_to_the_same_result(cluster, tmp_path):
    dump = write_dump(tmp_path / "dump")
    complete = scan([dump], tmp_path / "complete", _settings(jobs=0))
    out = tmp_path / "resumed"
    settings = _settings(engine="dask", scheduler=cluster.address)
    partial = scan([dump / "patients.csv"], out, settings)
    assert partial.summary["persons"]["best"] == 3
    for name in OUTPUTS:  # as if killed before the report: parts and state stay
        (out / name).unlink()
    resumed = scan([dump], out, _settings(engine="dask", scheduler=cluster.address, resume=True))
    assert resumed.summary == complete.summary
    assert _rows(out, "findings.parquet") == _rows(tmp_path / "complete", "findings.parquet")


def test_it_records_a_file_over_the_time_limit_and_goes_on(cluster, tmp_path):
    dump = write_dump(tmp_path / "dump")
    (dump / "huge.txt").write_text("Mme Claire Martin, née le 01/02/1980, tél. 06 12 34 56 78\n" * 100_000)
    settings = _settings(engine="dask", scheduler=cluster.address)
    settings.limits.file_seconds = 3  # huge.txt needs 20 s, the others well under a second
    settings.limits.file_seconds_per_mb = 0
    result = scan([dump], tmp_path / "out", settings)
    errors = {e["path"]: e["reason"] for e in json.loads((result.out / "manifest.json").read_text())["errors"]}
    assert "time limit" in errors["dump/huge.txt"]
    assert result.summary["persons"]["best"] == 4 and result.summary["files"]["errors"] == 1


def test_it_records_a_file_that_kills_its_dask_worker_and_goes_on(cluster, tmp_path):
    """A file whose Dask worker dies (killed here with its scan subprocess, as the OOM killer would)
    is retried once, then recorded as an error; the next files are scanned on the restarted workers."""
    (tmp_path / "parts").mkdir()
    (tmp_path / "work").mkdir()
    killer, fine = tmp_path / "killer.txt", tmp_path / "patients.csv"
    killer.write_text("Mme Claire Martin, née le 01/02/1980, tél. 06 12 34 56 78\n" * 100_000)  # 20 s to scan
    fine.write_text(PATIENTS_CSV)
    config = Config(
        str(tmp_path / "parts"),
        str(tmp_path / "work"),
        KEY.encode(),
        False,
        0.5,
        120.0,
        4 << 30,
        prefilter.serialized(),
    )
    pool = cluster.pool(config)
    deadline = time.monotonic() + 60

    def outcome_of(task: Task, kill: bool = False) -> tuple[dict, int]:
        pool.submit(task)
        kills, done = 0, []
        while not done and time.monotonic() < deadline:
            done = pool.collect(timeout=0.2)
            running = [
                worker
                for worker, keys in cluster.client.processing().items()
                if any(task.sha256 in str(k) for k in keys)
            ]
            if kill and running and not done:
                pid = cluster.client.run(os.getpid, workers=running)[running[0]]
                worker = psutil.Process(pid)
                for process in [*worker.children(recursive=True), worker]:
                    process.kill()
                kills += 1
                time.sleep(0.5)
        assert [t for t, _ in done] == [task]
        return done[0][1], kills

    try:
        killed, kills = outcome_of(Task(str(killer), "killer.txt", "k" * 64), kill=True)
        assert "Dask worker died" in killed["error"]
        assert kills == 1 + dask_engine.LOCAL_ALLOWED_FAILURES
        after, _ = outcome_of(Task(str(fine), "patients.csv", "f" * 64))
        assert (
            after["error"] is None
            and after["findings"]
            == process_file(Task(str(fine), "here.csv", "h" * 64), config)["findings"]
            > 10
        )
    finally:
        pool.close()


# -- bad input: one line naming the problem, exit code 2, nothing written ---------------------------

runner = CliRunner()


def test_the_cli_scans_on_an_existing_scheduler(cluster, tmp_path):
    dump = write_dump(tmp_path / "dump")
    result = runner.invoke(
        app,
        [
            "scan",
            str(dump),
            "--out",
            str(tmp_path / "out"),
            "--engine",
            "dask",
            "--scheduler",
            cluster.address,
            "--no-ner",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Persons concerned: 4 (range 4 to 6)" in result.output
    assert (
        json.loads((tmp_path / "out" / "manifest.json").read_text())["settings"]["scheduler"]
        == cluster.address
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--engine", "spark"], "unknown engine 'spark'"),
        (["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler tcp://127.0.0.1:8786 needs --engine dask"),
        (["--engine", "dask", "--jobs", "0"], "--jobs must be 1 or more"),
    ],
)
def test_the_cli_refuses_a_bad_engine(tmp_path, options, message):
    dump = write_dump(tmp_path / "dump")
    result = runner.invoke(app, ["scan", str(dump), "--out", str(tmp_path / "out"), *options])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_the_cli_names_an_unreachable_scheduler_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(dask_engine, "CONNECT_SECONDS", 1.0)
    with socket.socket() as probe:  # a local port nobody listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    dump = write_dump(tmp_path / "dump")
    result = runner.invoke(
        app, ["scan", str(dump), "--out", str(tmp_path / "out"), "--engine", "dask", "--scheduler", address]
    )
    assert result.exit_code == 2, result.output
    assert (
        f"cannot reach the Dask scheduler at {address}" in result.output and "Traceback" not in result.output
    )
    assert not (tmp_path / "out").exists()
    with pytest.raises(ScanInputError, match="cannot reach the Dask scheduler at tcp://127.0.0.1"):
        scan([dump], tmp_path / "out", _settings(engine="dask", scheduler=address))


def test_it_names_a_scheduler_without_workers_and_writes_nothing(tmp_path, monkeypatch):
    from distributed import LocalCluster

    monkeypatch.setattr(dask_engine, "CONNECT_SECONDS", 1.0)
    dump = write_dump(tmp_path / "dump")
    with LocalCluster(
        n_workers=0, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address=None
    ) as empty:
        with pytest.raises(
            ScanInputError, match=f"the Dask scheduler at {empty.scheduler_address} has no worker"
        ):
            scan([dump], tmp_path / "out", _settings(engine="dask", scheduler=empty.scheduler_address))
    assert not (tmp_path / "out").exists()
