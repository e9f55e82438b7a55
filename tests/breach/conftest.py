"""Real scan folders, made once per session by the scanner from small synthetic dumps (never real people)."""

import os
import shutil
from pathlib import Path

import pytest
from django.utils import timezone, translation

from garde.breach.models import Breach
from garde.scanner import ScanSettings, scan
from tests.scanner.helpers import HL7_MESSAGE, write_dump

BREACH_KEY = "test-breach-key-0123456789-abcdefghijkl"
SCAN_KEY = "test-scan-key-shared-by-both-scans"

# A second extract of the same leak: Jean Dupont again (same HL7 message), and a payroll file with a new
# person whose bank details leaked.
PAYROLL_CSV = (
    "Matricule;Nom;Prénom;Date de naissance;IBAN;Courriel\n"
    "A17;BERTRAND;Sophie;14/09/1975;FR7630006000011234567890189;sophie.bertrand@example.org\n"
)


def _scan(source: Path, out: Path, reveal: bool) -> Path:
    previous = os.environ.get("GARDE_SCAN_KEY")
    os.environ["GARDE_SCAN_KEY"] = SCAN_KEY
    try:
        scan([source], out, ScanSettings(jobs=0, reveal=reveal))
    finally:
        if previous is None:
            del os.environ["GARDE_SCAN_KEY"]
        else:
            os.environ["GARDE_SCAN_KEY"] = previous
    return out


@pytest.fixture(scope="session")
def scans(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("scans")
    first = write_dump(root / "dump")
    second = root / "dump2"
    second.mkdir()
    (second / "adt.hl7").write_text(HL7_MESSAGE, encoding="utf-8")
    (second / "paie.csv").write_text(PAYROLL_CSV, encoding="utf-8")
    return {
        "first": _scan(first, root / "first", reveal=True),
        "second": _scan(second, root / "second", reveal=True),
        "masked": _scan(first, root / "masked", reveal=False),
    }


@pytest.fixture
def scan_copy(scans, tmp_path):
    """A writable copy of a scan folder, to damage."""

    def copy(name: str = "first") -> Path:
        target = tmp_path / f"copy-{name}"
        shutil.copytree(scans[name], target)
        return target

    return copy


@pytest.fixture(autouse=True)
def in_english():
    """Messages written outside a request (imports, services) are checked in English, the source language."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def breach_key(monkeypatch, settings, tmp_path):
    monkeypatch.setenv("GARDE_BREACH_KEY", BREACH_KEY)
    monkeypatch.delenv("GARDE_BREACH_KEY_FILE", raising=False)
    monkeypatch.setenv("GARDE_BREACH_SCANS_DIR", str(tmp_path / "server-scans"))
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return BREACH_KEY


@pytest.fixture
def breach(crisis, users):
    return Breach.objects.create(crisis=crisis, number=1, title="Fuite du serveur de fichiers",
                                 t0=crisis.t0, created_by=users["dpo"], started_at=timezone.now())
