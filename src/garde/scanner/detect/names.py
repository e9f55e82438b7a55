"""Person names in free text by rules: a courtesy title before capitalised words ("M. Lambert", "Mme
LE GOFF"), or a known French first name next to a capitalised word ("Jeanne Lhostellier", "DUPONT
Jean"). When NER ran on the text (ner.py), `combine` merges its spans with these. Names in tables
come from column headers instead (see columns.py).
"""

import re
from functools import cache
from importlib import resources
from typing import NamedTuple

from garde.scanner.detect.validators import fold

_UPPER = "A-ZÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸÆŒ"
_LOWER = "a-zàâäçéèêëîïôöùûüÿæœß"
_TOKEN = re.compile(rf"[{_UPPER}][{_LOWER}{_UPPER}]*(?:['’\-][{_UPPER}{_LOWER}]+)*")
_TITLE_BEFORE = re.compile(
    r"(?:\b(?:M|MM|Mme|Mmes|Mlle|Mlles|Dr|Pr|Me|Mgr)\.?|\bM[*»>\-]|\b(?:Monsieur|Madame|Mademoiselle|Messieurs|Mesdames|Docteur|Professeur|"
    r"docteur|professeur|monsieur|madame|mademoiselle))\s+(?:[A-Z]\.\s*)*(?:l'abbé\s+|de\s+|d')?\Z"
)
# A rank or function before a name ("le colonel Bougon", "les docteurs Vigne", "M. le commandant
# Fournier"): lower case only, since a capitalised "Général" would be read as part of the name.
_RANKS = (
    "colonel|général|commandant|capitaine|lieutenant|sergent|adjudant|caporal|amiral|maréchal|abbé|chanoine|"
    "docteur|professeur|citoyen|citoyenne|veuve|époux|épouse"
)
_RANK_BEFORE = re.compile(rf"\b(?:{_RANKS}|généraux|docteurs|professeurs|citoyens|citoyennes|colonels|capitaines)\s+(?:de\s+|d')?\Z")
# Titles of several people: the names after them may be a list ("MM. Azard et Bonnefous").
_PLURAL_TITLE_BEFORE = re.compile(
    r"(?:\b(?:MM|Mmes|Mlles)\.?|\b(?:Messieurs|Mesdames|Mesdemoiselles|messieurs|mesdames|généraux|docteurs|professeurs|"
    r"citoyens|citoyennes|colonels|capitaines))\s+(?:[A-Z]\.\s*)*(?:de\s+|d')?\Z"
)
# Between two names of a list: a comma, "et", or both (spaces only, so that a list never crosses a
# line or a sentence).
_LIST_GAP = re.compile(r" ?, ?(?:et )?| et ")
_INITIALS_BEFORE = re.compile(r"(?:^|[\s(])[A-Z]\.\s?(?:[A-Z]\.\s?)?\Z")
_PARTICLE_GAP = re.compile(r" (?:(?:de|du|des|van|von|le|la) |d['’])?\Z|-\Z")
# Capitalised words that start places, institutions or sentences rather than names.
_NOT_NAMES = frozenset(
    fold(word)
    for word in (
        "Le La Les Un Une Des Du De Au Aux Et Ou Il Elle Ils Elles Nous Vous Ce Cette Ces Son Sa Ses "
        "Rue Avenue Boulevard Place Quai Route Chemin Allée Impasse Cours Square Saint Sainte St Ste "
        "Hôpital Clinique Centre Service Lycée Collège École Église Gare Pont Port Château Mont "
        "Monsieur Madame Mademoiselle Docteur Professeur Dr Pr M Mme Mlle MM "
        "Janvier Février Mars Avril Mai Juin Juillet Août Septembre Octobre Novembre Décembre "
        "Lundi Mardi Mercredi Jeudi Vendredi Samedi Dimanche France Paris Rennes Bretagne "
        "Patient Patiente Objet Date Tél Tel Fax Né Née Nom Prénom Adresse"
    ).split()
)
_PLACE_BEFORE = re.compile(
    r"(?:\b(?:rue|avenue|av|boulevard|bd|place|quai|impasse|allée|chemin|route|passage|sentier|lycée|collège|école|hôpital|clinique|saint|sainte|pont|square)\.?\s+(?:de\s+la\s+|du\s+|des\s+|de\s+)?)\Z",
    re.I,
)


class NameSpan(NamedTuple):
    start: int
    end: int
    text: str
    confidence: float


@cache
def first_names() -> frozenset[str]:
    text = resources.files("garde.scanner.data").joinpath("first_names_fr.txt").read_text(encoding="utf-8")
    return frozenset(
        fold(line.strip()) for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_first_name(token: str) -> bool:
    names = first_names()
    folded = fold(token)
    return folded in names or ("-" in folded and all(part in names for part in folded.split("-")))


def _runs(text: str, start: int = 0, end: int | None = None):
    """Runs of capitalised words separated by single spaces."""
    run: list[re.Match] = []
    for match in _TOKEN.finditer(text, start, len(text) if end is None else end):
        if run and not _PARTICLE_GAP.match(text, run[-1].end(), match.start()):
            yield run
            run = []
        run.append(match)
    if run:
        yield run


def find_names(text: str) -> list[NameSpan]:
    return _names_in_runs(text, _runs(text))


# -- fast path: only the stretches of text a prefilter pointed at ---------------------------------
# A span is reported only for a run of two or more capitalised words one of which is a known first
# name, or for a run preceded by a title or initials. The patterns of head_patterns() (for
# hyperscan, see prefilter.py) match wherever one of these may be, ending inside the run.
_LETTERS = f"{_UPPER}{_LOWER}"
_GAP = r"(?: (?:(?:de|du|des|van|von|le|la) |d['’])?|-)"


def _alphabet() -> str:
    ranges = re.sub(r"(\w)-(\w)", lambda m: "".join(map(chr, range(ord(m[1]), ord(m[2]) + 1))), _LETTERS)
    return ranges


@cache
def _first_name_patterns(chunk: int = 80) -> tuple[str, ...]:
    """Alternations (a pattern has a length limit in hyperscan) matching any token whose folded form
    starts with a known first name: case-insensitive, accents as fold() removes them."""
    variants: dict[str, set[str]] = {}
    for char in _alphabet():
        if char.islower():
            variants.setdefault(fold(char), set()).add(char)
    alternatives = []
    for name in sorted(first_names()):
        parts = []
        for char in name:
            chars = variants.get(char, set()) | {char}
            parts.append("[" + "".join(sorted(chars)) + "]" if len(chars) > 1 else re.escape(char))
        alternatives.append("".join(parts).replace("ss", "(?:ss|ß)"))
    return tuple(
        "(?i:" + "|".join(alternatives[i : i + chunk]) + ")" for i in range(0, len(alternatives), chunk)
    )


def head_patterns() -> tuple[str, ...]:
    known = _first_name_patterns()
    return (
        *(rf"{names}[{_LETTERS}'’\-]*{_GAP}[{_UPPER}]" for names in known),
        *(rf"[{_UPPER}][{_LETTERS}'’\-]*{_GAP}{names}" for names in known),
        r"(?:(?:M|MM|Mme|Mmes|Mlle|Mlles|Dr|Pr|Me|Mgr)\.?|M[*»>\-]|(?:Monsieur|Madame|Mademoiselle|Messieurs|Mesdames|Docteur|Professeur|docteur|"
        rf"professeur|monsieur|madame|mademoiselle))\s+(?:[A-Z]\.\s*)*(?:l'abbé\s+|de\s+|d')?[{_UPPER}]",
        rf"(?:{_RANKS}|généraux|docteurs|professeurs|citoyens|citoyennes|colonels|capitaines)\s+(?:de\s+|d')?[{_UPPER}]",
        rf"[A-Z]\.\s?(?:[A-Z]\.\s?)?[{_UPPER}]",
    )


# Neither a word, nor a gap between the words of one run, nor a gap between two names of a list can
# hold any other character.
_BREAK = re.compile(rf"[^{_LETTERS} '’\-,]")


def _segment(text: str, position: int) -> tuple[int, int]:
    """The stretch around `position` between two characters no run can cross."""
    after = _BREAK.search(text, position)
    end = after.start() if after else len(text)
    start, low = 0, position
    while low > 0:
        low = max(0, low - 256)
        before = _BREAK.search(text[low:position][::-1])
        if before:
            start = position - before.start()
            break
    return start, end


def find_names_at(text: str, seeds: list[int]) -> list[NameSpan]:
    """Same spans as find_names(text), given every position the seed patterns point at: only the
    segments holding a seed are read (tokens, runs and look-backs are the same as on the whole)."""
    spans: list[NameSpan] = []
    done_until = -1
    for seed in sorted(seeds):
        if seed < done_until:
            continue
        start, end = _segment(text, seed)
        spans.extend(_names_in_runs(text, _runs(text, start, end)))
        done_until = end
    return spans


def _names_in_runs(text: str, runs) -> list[NameSpan]:
    spans = []
    list_end = None  # end of the previous name when it belongs to a list opened by "MM.", "les docteurs"...
    for run in runs:
        while run and fold(run[0].group()) in _NOT_NAMES:
            run = run[1:]
        while run and fold(run[-1].group()) in _NOT_NAMES:
            run = run[:-1]
        listed, list_end = list_end is not None and run and _LIST_GAP.fullmatch(text, list_end, run[0].start()), None
        if not run or _PLACE_BEFORE.search(text, max(0, run[0].start() - 30), run[0].start()):
            continue
        run = run[:4]
        before = text[max(0, run[0].start() - 24) : run[0].start()]
        titled = bool(_TITLE_BEFORE.search(before))
        if len(run) == 1 and len(run[0].group()) < 2:
            continue
        known = [is_first_name(token.group()) for token in run]
        ranked = False
        if titled:
            confidence = 0.85 if any(known) else 0.75
        elif len(run) >= 2 and any(known) and not all(known):
            confidence = 0.8 if any(token.group().isupper() for token in run) else 0.65
        elif listed or (ranked := bool(_RANK_BEFORE.search(before))):
            confidence = 0.8 if any(known) else 0.7
        elif _INITIALS_BEFORE.search(before) and len(run[0].group()) >= 3:
            confidence = 0.6
        else:
            continue
        start, end = run[0].start(), run[-1].end()
        if listed or ((titled or ranked) and _PLURAL_TITLE_BEFORE.search(before)):
            list_end = end
        spans.append(NameSpan(start, end, text[start:end], confidence))
    return spans


def combine(text: str, rules: list[NameSpan], ner_spans) -> list[NameSpan]:
    """Rule spans and NER spans (ner.NerSpan) of one text. `ner_spans` None: NER did not run, the
    rules stand alone. Otherwise a rule span that NER also found (they overlap) gains
    ner.AGREE_BONUS, one NER did not find loses ner.RULES_ONLY_MALUS, and NER spans that overlap
    no rule span are added with their own confidence. Rule spans keep their offsets. A capitalised
    word after "et" and a name is a name too (`_with_second_names`)."""
    if ner_spans is None:
        return rules
    from garde.scanner.detect.ner import AGREE_BONUS, RULES_ONLY_MALUS

    combined = []
    for span in rules:
        agreeing = [other for other in ner_spans if other.start < span.end and span.start < other.end]
        if agreeing:
            confidence = max(span.confidence, *(other.confidence for other in agreeing)) + AGREE_BONUS
        else:
            confidence = span.confidence - RULES_ONLY_MALUS
        combined.append(span._replace(confidence=round(min(confidence, 0.95), 2)))
    for other in ner_spans:
        if not any(other.start < span.end and span.start < other.end for span in rules):
            combined.append(NameSpan(other.start, other.end, other.text, other.confidence))
    combined.sort()
    return _with_second_names(text, combined)


# "Limon et Meunier", "Azard et Bonnefous": NER often finds the first name of a pair and not the
# second. A capitalised run right after " et " following a reported name is taken as a name too.
_AND_NAME = re.compile(rf" et (?:de |d['’])?((?:{_TOKEN.pattern})(?: (?:{_TOKEN.pattern}))?)(?![{_LOWER}{_UPPER}\d'’\-])")
SECOND_NAME_CONFIDENCE = 0.6


def _with_second_names(text: str, spans: list[NameSpan], min_confidence: float = 0.5) -> list[NameSpan]:
    added = []
    for span in spans:
        if span.confidence < min_confidence:
            continue
        match = _AND_NAME.match(text, span.end)
        if match is None or fold(match.group(1).split(" ")[0]) in _NOT_NAMES:
            continue
        start, end = match.span(1)
        if not any(other.start < end and start < other.end for other in spans):
            added.append(NameSpan(start, end, match.group(1), SECOND_NAME_CONFIDENCE))
    return sorted(spans + added) if added else spans


# -- medical terms near a person ------------------------------------------------------------------
HEALTH_NEAR = 300  # characters on each side of a person name
_ACCENTS = {"a": "aàâä", "e": "eéèêë", "i": "iîï", "o": "oôö", "u": "uùûü", "c": "cç", "y": "yÿ"}


def _health_lines() -> list[str]:
    text = resources.files("garde.scanner.data").joinpath("health_terms_fr.txt").read_text(encoding="utf-8")
    return sorted(
        {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")},
        key=len,
        reverse=True,
    )


@cache
def health_terms() -> re.Pattern:
    """The terms, matched case- and accent-insensitively on the original text."""
    alternatives = [
        "".join(f"[{_ACCENTS[c]}]" if c in _ACCENTS else re.escape(c) for c in term)
        for term in _health_lines()
    ]
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


@cache
def _health_terms_by_first_word() -> dict[str, list[tuple[str, ...]]]:
    """Terms as word tuples, by their first word, longest first (as the alternation tries them)."""
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for term in _health_lines():
        words = tuple(term.split(" "))
        by_first.setdefault(words[0], []).append(words)
    return by_first


_WORD = re.compile(r"\w+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _stand_in(match: re.Match) -> str:
    char = match.group()
    folded = char.translate(_FOLD_SAME_LENGTH)
    if folded != char:
        return folded
    return "x" if char.isalnum() else "#"


def _health_terms_in_folded(folded: str, pos: int) -> list[tuple[int, int]]:
    """health_terms() on lower-case ASCII text, by words and a dictionary instead of a regex
    alternation (ten times faster): same whole-word, single-space matching."""
    by_first = _health_terms_by_first_word()
    if by_first.keys().isdisjoint(_WORD.findall(folded, pos)):
        return []
    words = list(_WORD.finditer(folded, pos))
    if words and words[0].start() == pos > 0 and (folded[pos - 1].isalnum() or folded[pos - 1] == "_"):
        words = words[1:]  # starts inside a word: (?<!\w) would not let it match
    spans, index = [], 0
    while index < len(words):
        candidates = by_first.get(words[index].group())
        matched = 0
        for term in candidates or ():
            last = index + len(term) - 1
            if last < len(words) and all(
                words[index + k].group() == term[k]
                and (k == 0 or folded[words[index + k - 1].end() : words[index + k].start()] == " ")
                for k in range(len(term))
            ):
                spans.append((words[index].start(), words[last].end()))
                matched = len(term)
                break
        index += matched or 1
    return spans


_FOLD_SAME_LENGTH = str.maketrans("ÀÂÄàâäÉÈÊËéèêëÎÏîïÔÖôöÙÛÜùûüÇçŸÿ", "aaaaaaeeeeeeeeiiiioooouuuuuucc" + "yy")


def health_terms_near(text: str, names: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of medical terms within HEALTH_NEAR characters of one of the `names` spans."""
    spans: list[tuple[int, int]] = []
    resume = 0
    for start, end in sorted(names):
        low, high = max(start - HEALTH_NEAR, resume), min(end + HEALTH_NEAR, len(text))
        if low >= high:
            continue
        base = max(low - 1, 0)  # one character more: what (?<!\w) looks at
        window = text[base:high]
        # accented Latin letters to their base letter, other letters to "x", other signs to "#":
        # one character for one, so offsets hold, and words stay words
        folded = (window if window.isascii() else _NON_ASCII.sub(_stand_in, window)).lower()
        if len(folded) == len(window):
            spans.extend(
                (base + start, base + end) for start, end in _health_terms_in_folded(folded, low - base)
            )
        else:
            spans.extend(match.span() for match in health_terms().finditer(text, low, high))
        resume = high
    return spans
