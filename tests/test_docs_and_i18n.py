"""Meta-tests that keep the documentation and the French catalogue complete."""

import ast
import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "garde"
PO = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def command_names():
    from garde.cli import app

    names = []
    for command in app.registered_commands:
        names.append(command.name or command.callback.__name__.replace("_", "-"))
    for group in app.registered_groups:
        for command in group.typer_instance.registered_commands:
            names.append(f"{group.name} {command.name or command.callback.__name__}")
    return names


def test_it_documents_every_cli_command_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in command_names() if f"`garde {name}" not in readme]
    assert missing == []


def test_it_keeps_exactly_two_setup_commands_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def parse_po(text: str) -> list[dict]:
    """Entries of a .po file: msgid, msgid_plural, msgstr list, and flags."""
    entries, current, key = [], None, None
    for line in text.splitlines() + [""]:
        if not line.strip():
            if current:
                entries.append(current)
            current, key = None, None
            continue
        current = current or {"flags": "", "msgid": "", "msgid_plural": None, "msgstr": {}}
        if line.startswith("#,"):
            current["flags"] += line
        elif line.startswith("#"):
            continue
        elif match := re.match(r'(msgid|msgid_plural|msgstr(?:\[(\d+)\])?) "(.*)"$', line):
            word, index, value = match.groups()
            key = ("msgstr", int(index or 0)) if word.startswith("msgstr") else (word, None)
            if key[0] == "msgstr":
                current["msgstr"][key[1]] = value
            else:
                current[key[0]] = value
        elif line.startswith('"') and key:
            value = line[1:-1]
            if key[0] == "msgstr":
                current["msgstr"][key[1]] += value
            else:
                current[key[0]] += value
    return [e for e in entries if e["msgid"] or e["msgstr"]]


def unescape(value: str) -> str:
    return ast.literal_eval(f'"{value}"')


def translatable(entries):
    return [e for e in entries if e["msgid"]]


# Each app may keep its own catalogue (src/garde/<app>/locale); all of them are checked.
CATALOGUES = sorted(PACKAGE.glob("**/locale/fr/LC_MESSAGES/django.po"))


def catalogue_id(path: Path) -> str:
    app = path.relative_to(PACKAGE).parents[3]
    return "garde" if app == Path(".") else str(app)


@pytest.mark.parametrize("po", CATALOGUES, ids=catalogue_id)
def test_it_translates_every_entry_of_the_french_catalogue(po):
    entries = translatable(parse_po(po.read_text()))
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert entries and untranslated == [] and fuzzy == []


@pytest.mark.parametrize("po", CATALOGUES, ids=catalogue_id)
def test_it_ships_the_compiled_catalogue_up_to_date(po):
    with po.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in translatable(parse_po(po.read_text())):
        if entry["msgid_plural"] is None:
            msgid, expected = unescape(entry["msgid"]), unescape(entry["msgstr"][0])
            assert compiled.gettext(msgid) == expected, f"{po} is not compiled for {msgid!r}: run make messages"


@pytest.fixture(scope="module")
def fresh_extraction(tmp_path_factory):
    """The package copied aside and its strings extracted again, as `make messages` would."""
    if shutil.which("xgettext") is None:
        pytest.skip("gettext is installed by scripts/system-deps")
    tmp_path = tmp_path_factory.mktemp("messages")
    copy = tmp_path / "garde"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "fr", "--no-obsolete", "--no-location",
         "--settings=garde.settings"],
        cwd=copy, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "GARDE_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT / "src")},
    )
    assert result.returncode == 0, result.stderr
    return copy


@pytest.mark.parametrize("po", CATALOGUES, ids=catalogue_id)
def test_it_has_every_string_of_the_code_in_the_catalogue(po, fresh_extraction):
    fresh = {e["msgid"] for e in translatable(parse_po((fresh_extraction / po.relative_to(PACKAGE)).read_text()))}
    committed = {e["msgid"] for e in translatable(parse_po(po.read_text()))}
    assert sorted(fresh - committed) == [], f"strings missing from {po}: run `make messages` and translate them"


def test_it_has_a_migration_for_every_model_change(db):
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
