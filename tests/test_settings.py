"""Settings come from the environment; a bad value stops Garde with a message naming the variable."""

import subprocess
import sys

import pytest

from garde.lib.env import SettingError, env_bool, env_int, env_list, secret_from_env_or_file


def test_it_reads_booleans_and_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("GARDE_X", "oui")
    with pytest.raises(SettingError, match="GARDE_X"):
        env_bool("GARDE_X", False)
    monkeypatch.setenv("GARDE_X", "yes")
    assert env_bool("GARDE_X", False) is True


def test_it_refuses_a_number_out_of_range(monkeypatch):
    monkeypatch.setenv("GARDE_N", "0")
    with pytest.raises(SettingError, match="GARDE_N=0 is below the minimum 1"):
        env_int("GARDE_N", 5, minimum=1)
    monkeypatch.setenv("GARDE_N", "cinq")
    with pytest.raises(SettingError, match="GARDE_N"):
        env_int("GARDE_N", 5)


def test_it_splits_lists(monkeypatch):
    monkeypatch.setenv("GARDE_HOSTS", "garde.chu.local, 10.0.0.5 ,")
    assert env_list("GARDE_HOSTS", []) == ["garde.chu.local", "10.0.0.5"]


def test_it_generates_a_secret_once_and_keeps_it(tmp_path, monkeypatch):
    monkeypatch.delenv("GARDE_SECRET_KEY", raising=False)
    first = secret_from_env_or_file("GARDE_SECRET_KEY", tmp_path / "key", lambda: "generated")
    second = secret_from_env_or_file("GARDE_SECRET_KEY", tmp_path / "key", lambda: "other")
    assert first == second == "generated"
    assert oct((tmp_path / "key").stat().st_mode)[-3:] == "600"


def test_it_reads_a_secret_from_a_file(tmp_path, monkeypatch):
    (tmp_path / "s").write_text("from-file\n")
    monkeypatch.setenv("GARDE_SECRET_KEY_FILE", str(tmp_path / "s"))
    monkeypatch.delenv("GARDE_SECRET_KEY", raising=False)
    assert secret_from_env_or_file("GARDE_SECRET_KEY", tmp_path / "gen", lambda: "x") == "from-file"


def run_garde(env_extra, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GARDE_DATA_DIR": str(tmp_path / "data"), **env_extra}
    return subprocess.run([sys.executable, "-m", "garde.cli", "crises"], capture_output=True, text=True, env=env)


def test_it_starts_with_no_variable_at_all_on_sqlite_in_wal_mode(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='garde.settings'; django.setup();" \
           "from django.db import connection; c=connection.cursor(); c.execute('PRAGMA journal_mode');" \
           "print(c.fetchone()[0]); from django.conf import settings; print(settings.DATA_DIR)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    mode, data_dir = result.stdout.split()
    assert mode == "wal" and data_dir.startswith(str(tmp_path))


def test_it_stops_with_the_variable_named_when_a_value_is_bad(tmp_path):
    result = run_garde({"GARDE_DEBUG": "peut-être"}, tmp_path)
    assert result.returncode == 2
    assert "GARDE_DEBUG" in result.stderr and "Traceback" not in result.stderr


def test_it_refuses_an_unsupported_database_url(tmp_path):
    result = run_garde({"DATABASE_URL": "mysql://root@localhost/garde"}, tmp_path)
    assert result.returncode == 2 and "DATABASE_URL" in result.stderr
