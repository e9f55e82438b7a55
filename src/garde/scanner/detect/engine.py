"""Runs every detector over records: candidates, then validation, context and column evidence.
Detectors that fail validation at a position let the others try it.

Two paths give the same findings:
- reference: one combined `re` alternation scanned over each field (`scan_text`, `find_names`);
- fast (when hyperscan is installed): one hyperscan pass over a whole batch of fields finds where a
  match may start (prefilter.py); the same combined pattern is then tried only at those positions,
  reproducing what `finditer` would return, and person names are looked for only in the stretches
  of text the name seeds point at. Fields without any candidate cost nothing beyond the pass.

Detectors that need a context word or a column (`context_first`: dates of birth, CIM-10 codes) are
matched on their own, after the combined pattern: a date never hides another identifier, and the
fast path tries a date only where the prefilter saw one of its context words near it (or in a
column that has the detector's meaning), which leaves out the timestamp of every log line.
"""

import re
from bisect import bisect_left
from functools import cache
from operator import attrgetter

from garde.scanner.detect import ner, prefilter
from garde.scanner.detect.columns import meaning_of
from garde.scanner.detect.names import combine, find_names, find_names_at, health_terms_near
from garde.scanner.detect.registry import DETECTORS, Detector, by_name, for_meaning
from garde.scanner.detect.validators import fold
from garde.scanner.model import Field, Finding, Record

CONTEXT_BEFORE = 40
CONTEXT_AFTER = 20
_PATTERNED = tuple(d for d in DETECTORS if d.pattern)
_GATED = frozenset(d.name for d in _PATTERNED if d.context_first)
_BY_START = attrgetter("start")
_LONGEST_CONTEXT_WORD = max(len(fold(word)) for d in DETECTORS for word in d.context)


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
    """A context word of `detector` within CONTEXT_BEFORE characters before the match or starting
    within CONTEXT_AFTER after it. Words are read whole on both edges of the window ("Anne" cut
    to "ne" is not the word "ne")."""
    low = max(0, start - CONTEXT_BEFORE)
    edge = fold(text[low - 1]) if low > 0 else ""
    near = edge + fold(text[low:start] + " " + text[end : end + CONTEXT_AFTER])
    window = near + fold(text[end + CONTEXT_AFTER : end + CONTEXT_AFTER + _LONGEST_CONTEXT_WORD + 1])
    match = detector.context_re.search(window, len(edge))
    return match is not None and match.start() < len(near)


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


def _split(active: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(detectors of the combined pattern, context-first detectors matched on their own)."""
    return tuple(n for n in active if n not in _GATED), tuple(n for n in active if n in _GATED)


def _take(match: re.Match, text, field, meaning, min_conf, candidates=None) -> Finding | None:
    """The finding of a match of the combined pattern, or of another detector at its position."""
    group = match.lastgroup
    detector = by_name(group)
    start, end = _value_span(detector, match, group)
    finding = _finding(detector, text, start, end, field, meaning, min_conf)
    if finding is None:
        finding = _retry_others(text, match.start(), group, field, meaning, min_conf, candidates)
    return finding


def scan_text(text: str, field: Field, meaning: str | None, min_conf: float) -> list[Finding]:
    found: list[Finding] = []
    active = _active(text)
    if not active:
        return found
    plain, gated = _split(active)
    if plain:
        for match in _combined(plain).finditer(text):
            if (finding := _take(match, text, field, meaning, min_conf)) is not None:
                found.append(finding)
    for name in gated:
        detector = by_name(name)
        for match in _single(name).finditer(text):
            if (finding := _finding(detector, text, *match.span(), field, meaning, min_conf)) is not None:
                found.append(finding)
    if gated:
        found.sort(key=_BY_START)
    return found


def _retry_others(text, position, failed, field, meaning, min_conf, candidates=None) -> Finding | None:
    """The combined pattern picks one alternative per position; when it fails validation (a card
    number that is really a phone followed by digits) the others get their chance. `candidates`:
    the detectors that can match anywhere in `text` (the others are not tried)."""
    for detector in _PATTERNED:
        if (
            detector.name == failed
            or detector.context_first
            or (candidates is not None and detector.name not in candidates)
        ):
            continue
        match = _single(detector.name).match(text, position)
        if match:
            start, end = match.span(f"{detector.name}__v") if detector.value_group else match.span()
            finding = _finding(detector, text, start, end, field, meaning, min_conf)
            if finding is not None:
                return finding
    return None


def _matches(pattern: re.Pattern, text: str, spans: list[tuple[int, int]]):
    """What `pattern.finditer(text)` yields, given spans holding every position where a match can
    start: the pattern is tried at those positions only, resuming after each match."""
    resume = 0
    for low, high in spans:
        position = max(low, resume)
        while position < high:
            match = pattern.match(text, position)
            if match is None:
                position += 1
                continue
            yield match
            resume = position = match.end()


def _near_context(spans: list[tuple[int, int]], context: list[int], reach: int) -> list[tuple[int, int]]:
    """The spans with a context word (prefilter hits, by where they end) close enough for _context
    to see it from a match starting in the span: CONTEXT_BEFORE before it, CONTEXT_AFTER after a
    match of at most `reach` characters (plus the longest word)."""
    kept = []
    for low, high in spans:
        index = bisect_left(context, low - CONTEXT_BEFORE)
        if index < len(context) and context[index] <= high + reach:
            kept.append((low, high))
    return kept


def scan_windows(text: str, field: Field, meaning: str | None, min_conf: float, hits: "prefilter.FieldHits") -> list[Finding]:
    """What scan_text(text) finds, given the prefilter's `hits` on `text`: for each detector, spans
    holding every position where its pattern can start a match, and where context words end."""
    windows = hits.windows
    found: list[Finding] = []
    active = _active(text, windows)
    if not active:
        return found
    plain, gated = _split(active)
    if plain:
        spans = sorted(span for name in plain for span in windows[name])
        for match in _matches(_combined(plain), text, spans):
            if (finding := _take(match, text, field, meaning, min_conf, windows)) is not None:
                found.append(finding)
    for name in gated:
        detector = by_name(name)
        spans = sorted(windows[name])
        if meaning not in detector.meanings:
            spans = _near_context(spans, hits.context.get(name, []), _reach(name))
        for match in _matches(_single(name), text, spans):
            if (finding := _finding(detector, text, *match.span(), field, meaning, min_conf)) is not None:
                found.append(finding)
    if gated:
        found.sort(key=_BY_START)
    return found


@cache
def _reach(name: str) -> int:
    """How far after the start of a match of `name` a context word can end and still be seen."""
    return _max_width(_single(name).pattern) + CONTEXT_AFTER + prefilter.CONTEXT_WORD_CHARS


def _max_width(pattern: str) -> int:
    from re import _parser  # the width of a bounded pattern; CPython's own parser

    return _parser.parse(pattern).getwidth()[1]


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
    found = scan_windows(text, field, meaning, min_conf, hits) if hits is not None and hits.windows else []
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
    found = detect_fields(fields, min_conf)
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


def detect_fields(fields: list[Field], min_conf: float = 0.5) -> list[list[Finding]]:
    """Findings of each field (the same as detect_field's): NER primed over all of them, then one
    prefilter pass when hyperscan is there. The lists returned may be shared: nobody may modify them."""
    ner.prime(fields)  # NER over the fields' free text, if on
    if not prefilter.available():
        return [detect_field(field, min_conf) for field in fields]
    hits = prefilter.scan_values([field.value for field in fields], [field.meaning or meaning_of(field.name) for field in fields])
    return [_detect_field_fast(field, field_hits, min_conf) for field, field_hits in zip(fields, hits, strict=True)]


NOTHING: tuple = ()  # the findings of a value that has none, shared


def detect_cells(names: list[str | None], values: list[str], min_conf: float = 0.5) -> list:
    """detect_fields for Field(name, value) of each cell (names[i], values[i]), without building a
    Field or calling the detectors for a cell that cannot have a finding: free text (no column
    meaning) where the prefilter saw nothing and NER found nothing to read."""
    if not prefilter.available():
        return detect_fields([Field(name, value) for name, value in zip(names, values, strict=True)], min_conf)
    meaning_of_name = {name: meaning_of(name) for name in set(names)}
    meanings = [meaning_of_name[name] for name in names]
    reading_names = ner.enabled()
    if reading_names:
        ner.prime(Field(name, value) for name, value, meaning in zip(names, values, meanings, strict=True) if meaning is None)
    found: list = [NOTHING] * len(values)
    for slot, field_hits in enumerate(prefilter.scan_values(values, meanings)):
        if field_hits is not None or meanings[slot] is not None or (reading_names and ner.primed(values[slot])):
            found[slot] = _detect_field_fast(Field(names[slot], values[slot]), field_hits, min_conf)
    return found


def detect_record(record: Record, min_conf: float = 0.5) -> list[Finding]:
    return detect_records([record], min_conf)[0]


# A letter and a table row holding something for every detector: detecting them builds the tables
# the detectors load on first use (first names, medical terms, CIM-10 categories, patterns).
_WARM_UP = (
    Record("warm-up", [Field(None, (
        "Madame Jeanne Martin, née le 12/03/1961 à Lyon, NIR 2 61 03 69 123 456 68, IPP 00412345, "
        "n° de séjour 2024001234, tél. 06 12 34 56 78, jeanne.martin@example.org, IBAN FR76 3000 6000 "
        "0112 3456 7890 189, carte 4970 1012 3456 7893, mot de passe : Lyon1961!\n"
        "Diagnostic : diabète de type 2, CIM-10 E11.9.\n-----BEGIN RSA PRIVATE KEY-----"
    ))]),
    Record("warm-up", [
        Field("nom", "MARTIN"), Field("prenom", "Jeanne"), Field("date_naissance", "12/03/1961"),
        Field("adresse", "3 rue de la Paix"), Field("code_postal", "69001"), Field("ville", "Lyon"),
        Field("diagnostic", "Diabète de type 2"),
        Field("password", "$2b$12$" + "a" * 53),
    ]),
)


def warm_up() -> None:
    """Runs the detectors once on a sample: in the fork server the workers are forked from, so that
    they share what the detectors build on first use instead of each building its own copy. On the
    reference path: the prefilter's database is compiled by the scan's process and handed to each
    worker (compiling it here too would cost seconds at each start of the server)."""
    records = list(_WARM_UP)
    ner.prime(field for record in records for field in record.fields)
    for record in records:
        detect_record_reference(record)
