"""The `garde` command line, as an operator uses it."""

import pytest
from typer.testing import CliRunner

from garde.cell import journal
from garde.cell.models import Crisis, LogEntry
from garde.cli import app

runner = CliRunner()


@pytest.fixture
def cli_db(transactional_db):
    """The CLI opens its own connections: it needs committed data."""


def test_it_verifies_the_log_and_names_a_broken_entry(cli_db, cast):
    crisis, _users = cast
    result = runner.invoke(app, ["log", "verify", str(crisis.pk)])
    assert result.exit_code == 0 and "OK" in result.output
    target = journal.record(crisis, "texte d'origine")
    LogEntry.objects.filter(pk=target.pk).update(text="texte modifié")
    result = runner.invoke(app, ["log", "verify", "Rançongiciel"])
    assert result.exit_code == 1
    assert "BROKEN" in result.output and f"#{target.seq}" in result.output


def test_it_names_an_unknown_crisis(cli_db, cast):
    result = runner.invoke(app, ["log", "verify", "inexistante"])
    assert result.exit_code == 2 and "inexistante" in result.output


def test_it_backs_up_and_refuses_to_overwrite(cli_db, cast, tmp_path):
    crisis, _users = cast
    out = tmp_path / "c.tar.gz"
    assert runner.invoke(app, ["backup", str(crisis.pk), "--out", str(out)]).exit_code == 0
    again = runner.invoke(app, ["backup", str(crisis.pk), "--out", str(out)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_it_refuses_a_bad_archive_on_restore(cli_db, tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not an archive")
    result = runner.invoke(app, ["restore", str(bad)])
    assert result.exit_code == 2 and "Nothing was restored" in result.output


def test_it_loads_the_demo_and_prints_passwords(cli_db):
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0
    for username in ("directrice", "dpo", "accueil", "observateur"):
        assert username in result.output
    crisis = Crisis.objects.get(title__startswith="Rançongiciel — CHU de Démo")
    assert crisis.sitreps.filter(status="published").exists()
    assert crisis.decisions.count() >= 2 and journal.verify(crisis).ok
    assert runner.invoke(app, ["demo"]).exit_code == 0
    assert Crisis.objects.filter(title__startswith="Rançongiciel — CHU de Démo").count() == 1


def test_it_lists_crises(cli_db, cast):
    result = runner.invoke(app, ["crises"])
    assert "Rançongiciel test" in result.output
