"""`garde map check|import|export` (mounted from garde.systems.cli)."""

from typer.testing import CliRunner

from garde.systems.cli import app
from garde.systems.models import MapVersion
from tests.systems.helpers import DEMO

runner = CliRunner()


def test_it_checks_a_valid_map(tmp_path):
    result = runner.invoke(app, ["check", str(DEMO)])
    assert result.exit_code == 0 and "valid" in result.output


def test_it_reports_every_error_with_its_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nnodes:\n  - {id: a, kind: nope}\n  - {id: c, kind: application, owner: 5}\n")
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml line 3" in result.output and "bad.yaml line 4" in result.output


def test_it_imports_and_exports(db, tmp_path):
    assert runner.invoke(app, ["import", str(DEMO)]).exit_code == 0
    assert MapVersion.objects.get().source == "chu_demo.yaml"
    out = tmp_path / "map.svg"
    result = runner.invoke(app, ["export", "--format", "svg", "--out", str(out), "--scenario", "Coupure d'Internet"])
    assert result.exit_code == 0 and out.read_text().startswith("<svg")
    assert runner.invoke(app, ["export", "--format", "pdf"]).exit_code == 2


def test_it_imports_nothing_from_a_broken_map(db, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nnodes:\n  - {id: a, kind: application, requires: [b]}\n")
    assert runner.invoke(app, ["import", str(bad)]).exit_code == 1
    assert not MapVersion.objects.exists()
