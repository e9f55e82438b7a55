"""One hyperscan pass over many fields at once: where each detector *could* match, and where a
person name *could* start. The exact Python patterns then run only there (see engine.py).

The hyperscan patterns are derived from the detectors' own patterns by removing what only narrows
a match (lookarounds, `\\b`) and widening `\\s` to Python's Unicode whitespace, so every exact match
lies inside a prefilter match: the prefilter may report too much, never too little. Python's `\\d`
also matches digits of other scripts (Arabic-Indic...); the prefilter takes ASCII digits only, which
is the one documented difference with the reference path (`GARDE_SCAN_REFERENCE=1`).

Three detectors whose full patterns hyperscan cannot track the start of (long bounded repeats) are
prefiltered on a prefix of their pattern ("head"), which also covers the start of every match.

For the detectors that need a context word (`context_first`), the pass also reports where the first
word of each of their context words ends (case- and accent-insensitive, not inside another word);
the engine tries them only near one (see engine.py).

Without hyperscan (`pip install hyperscan`; wheels for Linux, macOS and Windows on x86-64) or with
`GARDE_SCAN_REFERENCE=1`, `available()` is False and the engine runs the reference path: one
combined `re` alternation per field.
"""

import hashlib
import os
import platform
import re
from bisect import bisect_right
from collections import defaultdict
from functools import cache
from itertools import accumulate
from pathlib import Path

from garde.scanner.detect.names import head_patterns
from garde.scanner.detect.registry import DETECTORS
from garde.scanner.detect.validators import fold

try:  # pragma: no cover - depends on the platform
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None

# Python's `\s` on str: str.isspace() characters.
SPACE = r"[\t\n\x0b\x0c\r \x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
WORD = r"[0-9A-Za-z_\x{80}-\x{d7ff}\x{e000}-\x{10ffff}]"

# Prefixes of the patterns hyperscan cannot compile with start-of-match tracking.
HEADS = {
    "email": r"[A-Za-z0-9._%+\-]@[A-Za-z0-9\-]",  # start found by walking back, see email_start()
    "password": r"(?i:(?:password|passwd|pwd|mot de passe|mdp)\s*[:=]\s*)[^\s\"',;]",
    "address": (
        r"(?i:\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|chemin|all[ée]e|impasse|route|quai|"
        r"cours|square|r[ée]sidence|lotissement|hameau|lieu-dit)\s)[^\n\x1f,;.\d]"
    ),
}
NO_SOM = frozenset({"email"})


def _skip_class(pattern: str, i: int) -> int:
    """Index just after the character class that starts at `pattern[i] == '['`."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


def _skip_group(pattern: str, i: int) -> int:
    depth, j = 0, i
    while True:
        char = pattern[j]
        if char == "\\":
            j += 2
            continue
        if char == "[":
            j = _skip_class(pattern, j)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")
_SINGLE = re.compile(r"\(\?<?!(?:\[(?!\^)((?:\\.|[^\]\\])+)\]|\\([dw]))\)")


def _single_class(pattern: str, i: int) -> tuple[str, int] | None:
    """A negative lookaround on one character class: its complement and where the group ends."""
    match = _SINGLE.match(pattern, i)
    if not match:
        return None
    return f"[^{match.group(1) or '\\' + match.group(2)}]", match.end()


def loosen(pattern: str) -> str:
    """A hyperscan pattern whose matches include every match of the Python `pattern`: lookarounds
    and `\\b` removed, named groups made plain, `\\s` and `\\w` widened to what Python takes."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escape = pattern[i : i + 2]
            if escape != "\\b":
                out.append({"\\s": SPACE, "\\w": WORD, "\\d": "[0-9]"}.get(escape, escape))
            i += 2
        elif char == "[":
            end = _skip_class(pattern, i)
            out.append(pattern[i:end])  # \s or \w inside a negated class only widens it
            i = end
        elif pattern.startswith(("(?<!", "(?!"), i) and (single := _single_class(pattern, i)):
            # "not preceded (followed) by a character of X": preceded (followed) by one outside X,
            # or by nothing. Hyperscan's ASCII \w and \d make [^X] wider than Python's, as it must.
            negated, end = single
            out.append(f"(?:^|{negated})" if pattern[i + 2] == "<" else f"(?:$|{negated})")
            i = end
        elif pattern.startswith(("(?<!", "(?<=", "(?!", "(?="), i):
            i = _skip_group(pattern, i)
        elif match := _NAMED_GROUP.match(pattern, i):
            out.append("(?:")
            i = match.end()
        else:
            out.append(char)
            i += 1
    return "".join(out)


def available() -> bool:
    return hyperscan is not None and os.environ.get("GARDE_SCAN_REFERENCE", "") in ("", "0") and _database() is not None


_LOADED: list = []


def serialized() -> bytes | None:
    """The compiled database as bytes, to hand to worker processes (compiling takes seconds,
    loading a millisecond)."""
    if not available():
        return None
    return hyperscan.dumpb(_database()[0])


def load(data: bytes | None) -> None:
    if data is not None and hyperscan is not None and not _LOADED:
        _LOADED.append(hyperscan.loadb(data, hyperscan.HS_MODE_BLOCK))


def _database():
    if _LOADED and _LOADED[0] is not None and not isinstance(_LOADED[0], tuple):
        _LOADED[0] = (_LOADED[0], _names(), hyperscan.Scratch(_LOADED[0]))
    if not _LOADED:
        _LOADED.append(_compile())
    return _LOADED[0]


_CONTEXT = "#context:"
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZàâäáãåçéèêëíìîïñóòôöõúùûüýÿÀÂÄÁÃÅÇÉÈÊËÍÌÎÏÑÓÒÔÖÕÚÙÛÜÝŸ"


def context_tokens(words: tuple[str, ...]) -> tuple[str, ...]:
    """The first word of each context word, folded ("date de naissance" -> "date", "cim-10" -> "cim")."""
    tokens = {parts[0] for word in words if (parts := re.findall("[a-z]+", fold(word)))}
    return tuple(sorted(tokens))


def _context_pattern(words: tuple[str, ...]) -> str:
    """Where one of `words`' first words ends, written in any case, with or without accents: the
    letters around it are ASCII letters, never more (an accented letter next to it is let through)."""
    def letter(char: str) -> str:
        variants = sorted(c for c in _LETTERS if fold(c) == char)
        return f"[{''.join(variants)}]" if len(variants) > 1 else re.escape(char)

    alternatives = ["".join(map(letter, token)) for token in context_tokens(words)]
    return rf"(?:^|[^A-Za-z])(?:{'|'.join(alternatives)})(?:$|[^A-Za-z])"


@cache
def _layout(names: tuple[str, ...]) -> tuple[int, int, frozenset[int]]:
    """Where the seed and context patterns start among the database's ids, and the ids of the
    context-first detectors (once per process, not per batch)."""
    first_seed = names.index("#name")
    first_context = names.index(_CONTEXT + _gated()[0].name) if _gated() else first_seed
    return first_seed, first_context, frozenset(names.index(name) for name in _GATED_NAMES)


@cache
def _gated() -> tuple:
    return tuple(d for d in DETECTORS if d.pattern and d.context_first and d.context)


_GATED_NAMES = frozenset(d.name for d in _gated())
_GATED_MEANINGS = {d.name: d.meanings for d in _gated()}
# Longest first word of a context word, plus the character after it that the pattern reports.
CONTEXT_WORD_CHARS = max(len(t) for d in _gated() for t in context_tokens(d.context)) + 1


def _names() -> tuple[str, ...]:
    return (
        tuple(d.name for d in DETECTORS if d.pattern)
        + tuple(_CONTEXT + d.name for d in _gated())
        + ("#name",) * len(head_patterns())
    )


def _compile():
    names, expressions, flags = [], [], []
    for detector in DETECTORS:
        if not detector.pattern:
            continue
        names.append(detector.name)
        expressions.append(loosen(HEADS.get(detector.name, detector.pattern)))
        som = 0 if detector.name in NO_SOM else hyperscan.HS_FLAG_SOM_LEFTMOST
        flags.append(hyperscan.HS_FLAG_UTF8 | som)
    for detector in _gated():
        names.append(_CONTEXT + detector.name)
        expressions.append(_context_pattern(detector.context))
        flags.append(hyperscan.HS_FLAG_UTF8)
    for seed in head_patterns():
        names.append("#name")
        expressions.append(loosen(seed))
        flags.append(hyperscan.HS_FLAG_UTF8)
    assert tuple(names) == _names()
    encoded = [e.encode() for e in expressions]
    cached = cache_path(encoded, flags)
    database = _load_cached(cached)
    if database is None:
        database = hyperscan.Database()
        try:
            database.compile(expressions=encoded, ids=list(range(len(names))), elements=len(names), flags=flags)
        except hyperscan.error:  # pragma: no cover - a pattern hyperscan cannot take: use the reference path
            return None
        _store_cached(cached, database)
    return database, tuple(names), hyperscan.Scratch(database)


# The compiled database is kept on disk between scans (compiling takes 2 to 4 seconds at each start
# of `garde scan`, loading a millisecond), named by a hash of what it was compiled from.
CACHE_ENV = "GARDE_CACHE_DIR"


def cache_path(expressions: list[bytes], flags: list[int]) -> Path | None:
    """Where the database compiled from these patterns is cached: $GARDE_CACHE_DIR, else
    $XDG_CACHE_HOME/garde or ~/.cache/garde; None when GARDE_CACHE_DIR is "off"."""
    folder = os.environ.get(CACHE_ENV, "").strip()
    if folder == "off":
        return None
    if not folder:
        folder = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "garde")
    digest = hashlib.sha256(repr((hyperscan.__version__, platform.machine(), expressions, flags)).encode()).hexdigest()
    return Path(folder) / f"prefilter-{digest[:32]}.hsdb"


def _load_cached(path: Path | None):
    """The cached database, or None: missing, unreadable, corrupt, or built for another CPU
    (hyperscan refuses it; it is then compiled again and replaced)."""
    if path is None:
        return None
    try:
        return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
    except (OSError, hyperscan.error):
        return None


def _store_cached(path: Path | None, database) -> None:
    """Writes the cache atomically; a folder that cannot be written only costs the next compile."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(hyperscan.dumpb(database))
        os.replace(temporary, path)
    except OSError:
        return


_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9._%+\-]{1,64}$")


def email_start(text: str, at: int) -> int | None:
    """Where an e-mail whose `@` is at `at` can start: its local part is the run of local-part
    characters before `@` (64 at most), and nothing of that class may precede it."""
    match = _EMAIL_LOCAL.search(text, max(0, at - 64), at)
    return match.start() if match else None


class FieldHits:
    """Prefilter results for one field, in character offsets: `windows[detector]` = (lo, hi) spans
    holding every position where that detector's match may start; `seeds` = positions of capitals
    that may start a person name; `context[detector]` = where a context word of that detector may
    end (at most one character after it), in increasing order."""

    __slots__ = ("context", "seeds", "windows")

    def __init__(self):
        self.windows: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.seeds: list[int] = []
        self.context: dict[str, list[int]] = defaultdict(list)


def scan_values(values: list[str], meanings: list[str | None] | None = None) -> list[FieldHits | None]:
    """Runs the prefilter over `values` in one call; None for a value without any hit. `meanings`:
    the column meaning of each value (None: free text). The windows of a context-first detector are
    kept only in a value holding a context word of some context-first detector, or in a column of
    the detector's meaning: the date of every log line costs nothing past this pass."""
    database, names, scratch = _database()
    first_seed, first_context, gated_ids = _layout(names)
    joined = "\x00".join(values)
    if joined.isascii():  # one byte per character: offsets from the lengths, no per-value encoding
        data = joined.encode("ascii")
        sizes = list(map(len, values))
    else:
        data = joined.encode("utf-8", "replace")
        sizes = [len(value) if value.isascii() else len(value.encode("utf-8", "replace")) for value in values]
    starts = [0, *accumulate(size + 1 for size in sizes)][: len(values)]
    raw: list[tuple[int, int, int]] = []
    gated: list[tuple[int, int, int]] = []

    def on_match(pattern_id, start, end, flags, context):
        (gated if pattern_id in gated_ids else raw).append((pattern_id, start, end))

    database.scan(data, match_event_handler=on_match, scratch=scratch)
    per_field: dict[int, list] = defaultdict(list)
    with_context = set()
    for pattern_id, start, end in raw:
        index = bisect_right(starts, end - 1) - 1
        per_field[index].append((pattern_id, max(start - starts[index], 0), end - starts[index]))
        if first_context <= pattern_id < first_seed:
            with_context.add(index)
    for pattern_id, start, end in gated:
        index = bisect_right(starts, end - 1) - 1
        if index in with_context or (meanings is not None and meanings[index] in _GATED_MEANINGS[names[pattern_id]]):
            per_field[index].append((pattern_id, max(start - starts[index], 0), end - starts[index]))
    return _field_hits(values, names, data, starts, sizes, per_field, first_context, first_seed)


def _field_hits(values, names, data, starts, sizes, per_field, first_context, first_seed) -> list[FieldHits | None]:
    """The hits of each value, in character offsets, sorted out by kind."""
    result: list[FieldHits | None] = [None] * len(values)
    email = names.index("email")
    for index, hits in per_field.items():
        value = values[index]
        field_hits = result[index] = FieldHits()
        windows, seeds, context = field_hits.windows, field_hits.seeds, field_hits.context
        one_byte = sizes[index] == len(value)  # one byte per character: byte offsets are character offsets
        to_char = None if one_byte else _CharOffsets(data[starts[index] : starts[index] + sizes[index]])
        for pattern_id, start, end in hits:
            if not one_byte:
                start, end = to_char(start), to_char(end)
            if pattern_id >= first_seed:
                seeds.append(end - 1)
            elif pattern_id >= first_context:
                context[names[pattern_id][len(_CONTEXT) :]].append(end)
            elif pattern_id == email:
                _add_email(windows, value, end - 2)
            else:
                windows[names[pattern_id]].append((start, end))
        for ends in context.values():
            ends.sort()
    return result


def _add_email(windows: dict, value: str, at: int) -> None:
    begin = email_start(value, at)
    if begin is not None:
        windows["email"].append((begin, begin + 1))


class _CharOffsets:
    """Byte offset -> character offset in one UTF-8 chunk (hyperscan offsets fall on characters)."""

    _CONTINUATION = bytes(range(0x80, 0xC0))

    def __init__(self, chunk: bytes):
        self.chunk = chunk
        self.cache: dict[int, int] = {}

    def __call__(self, offset: int) -> int:
        if offset not in self.cache:
            self.cache[offset] = len(self.chunk[:offset].translate(None, self._CONTINUATION))
        return self.cache[offset]
