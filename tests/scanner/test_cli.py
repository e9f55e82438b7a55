from typer.testing import CliRunner

from garde.scanner.cli import app

from .helpers import write_dump

runner = CliRunner()


def test_it_scans_and_prints_a_summary(tmp_path):
    dump = write_dump(tmp_path / "dump")
    result = runner.invoke(app, ["scan", str(dump), "--out", str(tmp_path / "out"), "--jobs", "0"])
    assert result.exit_code == 0, result.output
    assert "Persons concerned: 4 (range 4 to 6)" in result.output
    assert (tmp_path / "out" / "manifest.json").exists()


def test_it_exits_2_with_one_line_on_a_missing_input(tmp_path):
    result = runner.invoke(app, ["scan", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "input not found" in result.output and "Traceback" not in result.output


def test_it_exits_2_when_the_output_folder_is_in_use(tmp_path):
    dump = write_dump(tmp_path / "dump")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "other").write_text("x")
    result = runner.invoke(app, ["scan", str(dump), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "--resume" in result.output


def test_it_refuses_a_time_limit_below_one_second(tmp_path):
    dump = write_dump(tmp_path / "dump")
    result = runner.invoke(app, ["scan", str(dump), "--out", str(tmp_path / "out"), "--file-timeout", "0"])
    assert result.exit_code == 2 and "--file-timeout" in result.output
    result = runner.invoke(app, ["scan", str(dump), "--out", str(tmp_path / "out"), "--file-timeout-per-mb", "-1"])
    assert result.exit_code == 2 and "--file-timeout-per-mb" in result.output
    assert not (tmp_path / "out").exists()


def test_it_documents_every_command_and_option():
    from pathlib import Path

    import typer.main

    docs = (Path(__file__).resolve().parents[2] / "docs" / "scanner.md").read_text()
    command = typer.main.get_command(app)
    for name, sub in command.commands.items():
        assert f"garde {name}" in docs
        for option in (opt for param in sub.params for opt in param.opts if opt.startswith("--")):
            assert option in docs, option


def test_without_jobs_it_runs_as_many_workers_as_the_memory_holds(tmp_path, monkeypatch):
    import json

    from garde.scanner import worker

    monkeypatch.setattr(worker.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(worker.psutil, "virtual_memory", lambda: type("Memory", (), {"available": 1_100 << 20})())
    assert worker.default_jobs(ner_on=True) == 2  # (1,100 - 600) MB / 250 MB a worker
    assert worker.default_jobs(ner_on=False) == 4  # (1,100 - 400) / 150
    monkeypatch.setattr(worker.psutil, "virtual_memory", lambda: type("Memory", (), {"available": 64 << 30})())
    assert worker.default_jobs(ner_on=True) == 8  # one per core
    monkeypatch.setattr(worker.psutil, "virtual_memory", lambda: type("Memory", (), {"available": 300 << 20})())
    assert worker.default_jobs(ner_on=True) == 1  # never none

    dump = write_dump(tmp_path / "dump")
    result = runner.invoke(app, ["scan", str(dump), "--out", str(tmp_path / "out"), "--no-ner"])
    assert result.exit_code == 0, result.output
    assert "1 worker process (--jobs to choose)." in result.output
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["settings"]["jobs"] == 1
