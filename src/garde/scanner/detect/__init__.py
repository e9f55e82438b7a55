"""Detectors: declarative patterns with a validator, context words and the column meanings that
raise their confidence. `detect_record` runs them all over one record in a single regex pass."""

from garde.scanner.detect.engine import detect_record
from garde.scanner.detect.registry import DETECTORS, Detector, by_name

__all__ = ["DETECTORS", "Detector", "by_name", "detect_record"]
