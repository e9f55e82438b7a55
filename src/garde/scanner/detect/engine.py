"""Runs every detector over a record: one combined regex pass per field, then validation, context
and column evidence. Detectors that fail validation at a position let the others try it."""

import re
from functools import cache

from garde.scanner.detect.columns import meaning_of
from garde.scanner.detect.names import find_names
from garde.scanner.detect.registry import DETECTORS, Detector, by_name, for_meaning
from garde.scanner.detect.validators import fold
from garde.scanner.model import Field, Finding, Record

CONTEXT_BEFORE = 40
CONTEXT_AFTER = 20
_PATTERNED = tuple(d for d in DETECTORS if d.pattern)


_DIGIT = re.compile(r"\d")


@cache
def _combined(active: tuple[str, ...]) -> re.Pattern:
    """One pattern for the detectors whose triggers are in the text, grouped by the characters a
    match can start on, so that most positions are rejected by a single lookahead."""
    groups: dict[str, list[str]] = {}
    for detector in _PATTERNED:
        if detector.name in active:
            groups.setdefault(detector.first, []).append(f"(?P<{detector.name}>{detector.pattern})")
    return re.compile("|".join(f"(?={first})(?:{'|'.join(parts)})" for first, parts in groups.items()))


def _active(text: str) -> tuple[str, ...]:
    lowered = None
    has_digit = None
    active = []
    for detector in _PATTERNED:
        if detector.triggers:
            if lowered is None:
                lowered = text.lower()
            if not any(trigger in lowered for trigger in detector.triggers):
                continue
        if detector.first == r"\d" or detector.name in _NEEDS_DIGIT:
            if has_digit is None:
                has_digit = _DIGIT.search(text) is not None
            if not has_digit:
                continue
        active.append(detector.name)
    return tuple(active)


# Every pattern of these holds digits, so a text without any cannot match them.
_NEEDS_DIGIT = frozenset({"nir", "payment_card", "phone", "ipp", "nda", "birth_date", "cim10", "address", "iban"})


@cache
def _single(name: str) -> re.Pattern:
    return re.compile(by_name(name).pattern)


def _value_span(detector: Detector, match: re.Match, group: str) -> tuple[int, int]:
    if detector.value_group:
        return match.span(f"{detector.name}__v")
    return match.span(group)


def _finding(
    detector: Detector, text: str, start: int, end: int, field: Field, meaning: str | None, min_conf: float
) -> Finding | None:
    valid = detector.validate(text[start:end])
    if valid is None:
        return None
    if valid.length is not None:
        end = start + valid.length
    column = meaning is not None and meaning in detector.meanings
    context = False
    if detector.context and not column:
        window = fold(text[max(0, start - CONTEXT_BEFORE) : start] + " " + text[end : end + CONTEXT_AFTER])
        context = bool(detector.context_re.search(window))
    if detector.needs_support and not (valid.checked or context or column):
        return None
    confidence = detector.base
    confidence += detector.checksum_bonus if valid.checked else 0
    confidence += detector.context_bonus if context else 0
    confidence += detector.column_bonus if column else 0
    confidence = round(min(confidence, 0.99), 2)
    if confidence < min_conf:
        return None
    return Finding(detector.name, detector.category, confidence, valid.normalized, text[start:end], field.name, start, end)


def scan_text(text: str, field: Field, meaning: str | None, min_conf: float) -> list[Finding]:
    found: list[Finding] = []
    active = _active(text)
    if not active:
        return found
    for match in _combined(active).finditer(text):
        group = match.lastgroup
        detector = by_name(group)
        start, end = _value_span(detector, match, group)
        finding = _finding(detector, text, start, end, field, meaning, min_conf)
        if finding is None:
            finding = _retry_others(text, match.start(), group, field, meaning, min_conf)
        if finding is not None:
            found.append(finding)
    return found


def _retry_others(text, position, failed, field, meaning, min_conf) -> Finding | None:
    """The combined pattern picks one alternative per position; when it fails validation (a card
    number that is really a phone followed by digits) the others get their chance."""
    for detector in _PATTERNED:
        if detector.name == failed:
            continue
        match = _single(detector.name).match(text, position)
        if match:
            start, end = match.span(f"{detector.name}__v") if detector.value_group else match.span()
            finding = _finding(detector, text, start, end, field, meaning, min_conf)
            if finding is not None:
                return finding
    return None


def _names_in_text(text: str, field: Field, min_conf: float) -> list[Finding]:
    detector = by_name("person_name")
    found = []
    for span in find_names(text):
        valid = detector.validate(span.text)
        if valid and span.confidence >= min_conf:
            found.append(
                Finding("person_name", "identity", span.confidence, valid.normalized, span.text, field.name, span.start, span.end)
            )
    return found


def detect_field(field: Field, min_conf: float = 0.5) -> list[Finding]:
    text = field.value
    if not text or text.isspace():
        return []
    meaning = field.meaning or meaning_of(field.name)
    found = scan_text(text, field, meaning, min_conf)
    if meaning is None:
        if any(c.isupper() for c in text):
            found.extend(_names_in_text(text, field, min_conf))
        return found
    if not found:
        for detector in for_meaning(meaning):
            finding = _finding(detector, text, 0, len(text), field, meaning, min_conf)
            if finding is not None:
                found.append(finding)
                break
    return found


def detect_record(record: Record, min_conf: float = 0.5) -> list[Finding]:
    found = []
    for field in record.fields:
        found.extend(detect_field(field, min_conf))
    return found
