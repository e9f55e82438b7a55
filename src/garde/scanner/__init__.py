"""Leak scanner: walk a leaked dump, extract text, detect personal data, link findings into persons,
report categories and counts. A plain library: it never imports Django."""

from garde.scanner import pathlib_interning

pathlib_interning.stop()  # before any path of the dump is made: see pathlib_interning.py

from garde.scanner.engine import ScanInputError, ScanResult, scan  # noqa: E402
from garde.scanner.model import Limits, ScanSettings  # noqa: E402
from garde.scanner.report import FORMAT_VERSION  # noqa: E402

__all__ = ["FORMAT_VERSION", "Limits", "ScanInputError", "ScanResult", "ScanSettings", "scan"]
