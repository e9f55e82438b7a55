"""Detectors: declarative patterns with a validator, context words and the column meanings that
raise their confidence. `detect_records` runs them all over a batch of records: one hyperscan
prefilter pass when hyperscan is installed, otherwise one combined regex pass per field."""

from garde.scanner.detect import prefilter
from garde.scanner.detect.engine import detect_record, detect_record_reference, detect_records
from garde.scanner.detect.registry import DETECTORS, Detector, by_name

__all__ = ["DETECTORS", "Detector", "by_name", "detect_record", "detect_record_reference", "detect_records", "prefilter"]
