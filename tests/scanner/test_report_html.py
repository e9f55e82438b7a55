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
