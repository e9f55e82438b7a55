"""The front desk's French catalogue (src/garde/frontdesk/locale) is complete and compiled."""

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_docs_and_i18n import parse_po, translatable, unescape

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "garde"
PO = PACKAGE / "frontdesk" / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def test_it_translates_and_compiles_every_entry():
    entries = translatable(parse_po(PO.read_text()))
    assert entries and [e["msgid"] for e in entries if not all(e["msgstr"].values())] == []
    with PO.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in entries:
        if entry["msgid_plural"] is None:
            assert compiled.gettext(unescape(entry["msgid"])) == unescape(entry["msgstr"][0]), entry["msgid"]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is installed by scripts/system-deps")
def test_it_has_every_string_of_the_front_desk_in_its_catalogue(tmp_path):
    copy = tmp_path / "garde"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "fr", "--no-obsolete", "--no-location",
         "--settings=garde.settings"],
        cwd=copy, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "GARDE_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT / "src")},
    )
    assert result.returncode == 0, result.stderr
    fresh = {e["msgid"] for e in translatable(parse_po((copy / PO.relative_to(PACKAGE)).read_text()))}
    committed = {e["msgid"] for e in translatable(parse_po(PO.read_text()))}
    assert sorted(fresh - committed) == [], "strings missing from the front desk's django.po"
