"""Leak scanner: walk a leaked dump, extract text, detect personal data, link findings into persons,
report categories and counts. A plain library: it never imports Django."""

from garde.scanner.engine import ScanInputError, ScanResult, scan
from garde.scanner.model import Limits, ScanSettings
from garde.scanner.report import FORMAT_VERSION

__all__ = ["FORMAT_VERSION", "Limits", "ScanInputError", "ScanResult", "ScanSettings", "scan"]
