"""report.html: one self-contained offline page with charts, listed in the manifest."""

import hashlib
import json
import re

from garde.scanner import ScanSettings, scan
from garde.scanner.html_report import bar_chart

from .helpers import write_dump


def test_it_writes_a_self_contained_page_with_three_charts(tmp_path):
    dump = write_dump(tmp_path / "dump")
    (dump / "errors.zip").write_bytes(b"PK\x03\x04 not really a zip")
    out = tmp_path / "out"
    result = scan([dump], out, ScanSettings(jobs=0))
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert page.count("<svg") == 3
    assert "<script" not in page.lower() and not re.search(r"(?:https?:)?//[a-z]", page), "no script, no external URL"
    assert not re.search(r"""(?:src|href)\s*=""", page), "nothing to fetch"
    assert "Persons concerned per category" in page and "dump/courriers" in page
    assert f">{result.summary['persons']['best']}<" in page
    assert "errors.zip" in page
    assert "DUPONT" not in page and "Dupont" not in page, "counts and folders only, no personal value"


def test_it_lists_the_page_in_the_manifest_hashes(tmp_path):
    out = tmp_path / "out"
    scan([write_dump(tmp_path / "dump")], out, ScanSettings(jobs=0))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["outputs"]["report.html"] == hashlib.sha256((out / "report.html").read_bytes()).hexdigest()


def test_it_draws_bars_proportional_to_values_and_escapes_labels():
    svg = bar_chart([("<b>a</b>", 100, "#000"), ("b", 50, "#000"), ("c", 0, "#000")], "t", label_width=100, width=290)
    widths = [int(w) for w in re.findall(r'<rect x="100" y="\d+" width="(\d+)"', svg)]
    assert widths == [100, 50, 1]
    assert "<b>" not in svg and "&lt;b&gt;" in svg


def test_every_unreadable_file_is_listed_in_walk_order_and_the_page_shows_the_first(tmp_path, monkeypatch):
    import zipfile

    from garde.scanner import report

    monkeypatch.setattr(report, "MAX_ERRORS", 3)
    dump = tmp_path / "dump"
    dump.mkdir()
    for number in range(5):
        (dump / f"b{number}.zip").write_bytes(b"PK\x03\x04 not really a zip")  # refused by the walk
        (dump / f"c{number}.xlsx").write_bytes(b"PK\x03\x04 not a workbook %d" % number)  # fails in its extractor
    with zipfile.ZipFile(dump / "a.zip", "w") as archive:
        archive.writestr("inside.docx", b"PK\x03\x04 broken document")
    out = tmp_path / "out"
    result = scan([dump], out, ScanSettings(jobs=0))
    errors = json.loads((out / "manifest.json").read_text())["errors"]
    paths = [error["path"] for error in errors]
    assert paths == sorted(paths) and len(paths) == 11  # walk issues and extraction errors, in walk order
    assert paths[0] == "dump/a.zip!/inside.docx" and {error["kind"] for error in errors} == {"error"}
    assert "errors" not in result.manifest  # the list is read from the file, never held whole
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Files not read or read with a caveat (11)" in page
    assert "The first 3 are shown; manifest.json lists all 11." in page
    assert "inside.docx" in page and "c4.xlsx" not in page
    assert result.summary["files"]["errors"] == 11
