"""Runs every detector over records: candidates, then validation, context and column evidence.
Detectors that fail validation at a position let the others try it.

Two paths give the same findings:
- reference: one combined `re` alternation scanned over each field (`scan_text`, `find_names`);
- fast (when hyperscan is installed): one hyperscan pass over a whole batch of fields finds where a
  match may start (prefilter.py); the same combined pattern is then tried only at those positions,
  reproducing what `finditer` would return, and person names are looked for only in the stretches
  of text the name seeds point at. Fields without any candidate cost nothing beyond the pass.
"""

import re
from functools import cache

from garde.scanner.detect import ner, prefilter
from garde.scanner.detect.columns import meaning_of
from garde.scanner.detect.names import combine, find_names, find_names_at, health_terms_near
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


def _active(text: str, candidates=None) -> tuple[str, ...]:
    lowered = None
    has_digit = None
    active = []
    for detector in _PATTERNED:
        if candidates is not None and detector.name not in candidates:
            continue
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


def _context(detector: Detector, text: str, start: int, end: int) -> bool:
    window = fold(text[max(0, start - CONTEXT_BEFORE) : start] + " " + text[end : end + CONTEXT_AFTER])
    return bool(detector.context_re.search(window))


def _finding(
    detector: Detector, text: str, start: int, end: int, field: Field, meaning: str | None, min_conf: float
) -> Finding | None:
    column = meaning is not None and meaning in detector.meanings
    if detector.context_first and not column and not _context(detector, text, start, end):
        return None
    valid = detector.validate(text[start:end])
    if valid is None:
        return None
    if valid.length is not None:
        end = start + valid.length
    context = bool(detector.context) and not column and _context(detector, text, start, end)
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


def _retry_others(text, position, failed, field, meaning, min_conf, candidates=None) -> Finding | None:
    """The combined pattern picks one alternative per position; when it fails validation (a card
    number that is really a phone followed by digits) the others get their chance. `candidates`:
    the detectors that can match anywhere in `text` (the others are not tried)."""
    for detector in _PATTERNED:
        if detector.name == failed or (candidates is not None and detector.name not in candidates):
            continue
        match = _single(detector.name).match(text, position)
        if match:
            start, end = match.span(f"{detector.name}__v") if detector.value_group else match.span()
            finding = _finding(detector, text, start, end, field, meaning, min_conf)
            if finding is not None:
                return finding
    return None


def scan_windows(text: str, field: Field, meaning: str | None, min_conf: float, windows: dict) -> list[Finding]:
    """What scan_text(text) finds, given `windows`: for each detector, spans holding every position
    where its pattern can start a match in `text` (from the prefilter). The combined pattern is
    tried at those positions only, in order, resuming after each match as finditer does."""
    found: list[Finding] = []
    active = _active(text, windows)
    if not active:
        return found
    pattern = _combined(active)
    spans = sorted(span for name in active for span in windows[name])
    resume = 0
    for low, high in spans:
        position = max(low, resume)
        while position < high:
            match = pattern.match(text, position)
            if match is None:
                position += 1
                continue
            group = match.lastgroup
            detector = by_name(group)
            start, end = _value_span(detector, match, group)
            finding = _finding(detector, text, start, end, field, meaning, min_conf)
            if finding is None:
                finding = _retry_others(text, match.start(), group, field, meaning, min_conf, windows)
            if finding is not None:
                found.append(finding)
            resume = position = match.end()
    return found


def _names_in_text(text: str, field: Field, min_conf: float, seeds: list[int] | None = None) -> list[Finding]:
    """Rule-based names (all of the text, or the segments at the prefilter's `seeds`), combined with
    the NER spans of the text when NER ran on it (ner.prime over the batch)."""
    detector = by_name("person_name")
    found = []
    rules = find_names(text) if seeds is None else find_names_at(text, seeds) if seeds else []
    for span in combine(text, rules, ner.names(text)):
        valid = detector.validate(span.text)
        if valid and span.confidence >= min_conf:
            found.append(
                Finding("person_name", "identity", span.confidence, valid.normalized, span.text, field.name, span.start, span.end)
            )
    return found


def _health_near_names(text: str, field: Field, found: list[Finding], min_conf: float) -> None:
    names = [(f.start, f.end) for f in found if f.detector == "person_name"]
    if not names:
        return
    detector = by_name("health_term")
    if detector.base < min_conf:
        return
    for start, end in health_terms_near(text, names):
        raw = text[start:end]
        found.append(Finding("health_term", "health", detector.base, fold(raw), raw, field.name, start, end))


def detect_field(field: Field, min_conf: float = 0.5) -> list[Finding]:
    text = field.value
    if not text or text.isspace():
        return []
    meaning = field.meaning or meaning_of(field.name)
    found = scan_text(text, field, meaning, min_conf)
    if meaning is None:
        if any(c.isupper() for c in text):
            found.extend(_names_in_text(text, field, min_conf))
            _health_near_names(text, field, found, min_conf)
        return found
    if not found:
        for detector in for_meaning(meaning):
            finding = _finding(detector, text, 0, len(text), field, meaning, min_conf)
            if finding is not None:
                found.append(finding)
                break
    return found


def _detect_field_fast(field: Field, hits: "prefilter.FieldHits | None", min_conf: float) -> list[Finding]:
    """detect_field with the prefilter's hits: the same findings."""
    text = field.value
    if not text or text.isspace():
        return []
    meaning = field.meaning or meaning_of(field.name)
    found = scan_windows(text, field, meaning, min_conf, hits.windows) if hits is not None and hits.windows else []
    if meaning is None:
        if (hits is not None and hits.seeds) or ner.primed(text):
            found.extend(_names_in_text(text, field, min_conf, hits.seeds if hits is not None else []))
            _health_near_names(text, field, found, min_conf)
        return found
    if not found:
        for detector in for_meaning(meaning):
            finding = _finding(detector, text, 0, len(text), field, meaning, min_conf)
            if finding is not None:
                found.append(finding)
                break
    return found


def detect_record_reference(record: Record, min_conf: float = 0.5) -> list[Finding]:
    found = []
    for field in record.fields:
        found.extend(detect_field(field, min_conf))
    return found


def detect_records(records: list[Record], min_conf: float = 0.5) -> list[list[Finding]]:
    """Findings of each record; one prefilter pass for the whole batch when hyperscan is there.

    A field's findings depend on its name, meaning and value only, so equal fields of a batch (a
    town, a service, a unit repeated down a column) are detected once: they go through the
    prefilter and the detectors once, and their records share the same Finding objects (which
    nobody may modify)."""
    ner.prime(field for record in records for field in record.fields)  # NER over the batch's free text, if on
    if not prefilter.available():
        return [detect_record_reference(record, min_conf) for record in records]
    distinct: dict[tuple, int] = {}
    fields: list[Field] = []
    plan: list[list[int]] = []
    for record in records:
        slots = []
        for field in record.fields:
            key = (field.name, field.meaning, field.value)
            slot = distinct.get(key)
            if slot is None:
                slot = distinct[key] = len(fields)
                fields.append(field)
            slots.append(slot)
        plan.append(slots)
    hits = prefilter.scan_values([field.value for field in fields])
    found = [_detect_field_fast(field, field_hits, min_conf) for field, field_hits in zip(fields, hits, strict=True)]
    result = []
    for slots in plan:
        if len(slots) == 1:
            result.append(list(found[slots[0]]))
            continue
        record_found: list[Finding] = []
        for slot in slots:
            if found[slot]:
                record_found.extend(found[slot])
        result.append(record_found)
    return result


def detect_record(record: Record, min_conf: float = 0.5) -> list[Finding]:
    return detect_records([record], min_conf)[0]
