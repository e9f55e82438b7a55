"""The extractor protocol and registry (after paperless-ngx parsers): each extractor declares the
extensions and MIME types it takes and may sniff the first bytes; the best fit wins."""

import codecs
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from charset_normalizer import from_bytes

from garde.scanner.model import Child, Field, Record, Rows

HEAD_BYTES = 64 * 1024
DOCUMENT_CHARS = 64 * 1024  # a text this short is one record: a letter's header and body belong together
MAX_WHOLE_FILE = 256 << 20  # formats read whole into memory (JSON, HTML, HL7, EML) stop here


class ExtractionError(Exception):
    """The file cannot be read as the type it claims; the message says why."""


class Source:
    def __init__(self, path: Path, name: str):
        self.path = path
        self.name = name
        with open(path, "rb") as stream:
            self.head = stream.read(HEAD_BYTES)
        self.size = path.stat().st_size
        self._encoding: str | None = None

    @cached_property
    def extension(self) -> str:
        """Asked by every extractor of the registry when one is chosen: worked out once."""
        return PurePosixPath(self.name.lower()).suffix

    def open(self) -> BinaryIO:
        return open(self.path, "rb")

    @property
    def encoding(self) -> str:
        if self._encoding is None:
            self._encoding = detect_encoding(self.head)
        return self._encoding

    def text_stream(self) -> io.TextIOWrapper:
        return io.TextIOWrapper(self.open(), encoding=self.encoding, errors="replace", newline="")

    def read_text(self) -> str:
        return self.read_bytes().decode(self.encoding, errors="replace")

    def read_bytes(self) -> bytes:
        if self.size > MAX_WHOLE_FILE:
            raise ExtractionError(f"{self.size} bytes is above the {MAX_WHOLE_FILE >> 20} MiB this format is read up to")
        return self.path.read_bytes()


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3 and error.reason in ("unexpected end of data",):
            return "utf-8"
    try:
        # French files that are not UTF-8 are nearly always Windows-1252 (or Latin-1, its subset);
        # statistical detection is unreliable on short texts, so this is tried first.
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        pass
    best = from_bytes(head[:32768]).best()
    return best.encoding if best else "cp1252"


def looks_binary(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in head[:8192]


Output = Iterator[Record | Child]


@dataclass(frozen=True)
class Extractor:
    name: str
    extensions: frozenset[str]
    mime_types: frozenset[str]
    run: Callable[[Source], Output]
    sniff: Callable[[bytes], bool] | None = None
    text_based: bool = True
    # What the scan's worker reads instead of `run`, where it exists: the same records, tables as
    # column blocks (model.Rows) that the worker detects column by column (detect/tables.py).
    columnar: Callable[[Source], Iterator[Record | Rows]] | None = None

    @property
    def scan(self) -> Callable[[Source], Iterator]:
        return self.columnar or self.run

    def score(self, source: Source) -> int:
        if self.sniff is not None and self.sniff(source.head):
            return 2
        return 1 if source.extension in self.extensions else 0


REGISTRY: list[Extractor] = []


def extractor(name, extensions=(), mime_types=(), sniff=None, text_based=True, columnar=None):
    def register(run):
        REGISTRY.append(Extractor(name, frozenset(extensions), frozenset(mime_types), run, sniff, text_based, columnar))
        return run

    return register


def choose(source: Source) -> Extractor | None:
    scored = [(e.score(source), -index, e) for index, e in enumerate(REGISTRY)]
    best_score, _, best = max(scored, key=lambda item: item[:2])
    if best_score > 0:
        if best.text_based and best_score == 1 and looks_binary(source.head):
            return None
        return best
    if looks_binary(source.head):
        return None
    return by_name("text")


def by_name(name: str) -> Extractor:
    return next(e for e in REGISTRY if e.name == name)


def for_mime(mime_type: str) -> Extractor | None:
    return next((e for e in REGISTRY if mime_type in e.mime_types), None)


def text_records(text: str, prefix: str = "", first_line: int = 1, whole: bool = True) -> Iterator[Record]:
    """A short text is one record. A long one is split into paragraphs, and a long paragraph (a log)
    into lines, so that one record stays about one person."""
    if whole and len(text) <= DOCUMENT_CHARS:
        if text.strip():
            yield Record(f"{prefix}document", [Field(None, text)])
        return
    line_number = first_line
    for paragraph in text.split("\n\n"):
        lines = paragraph.split("\n")
        if paragraph.strip():
            if len(lines) <= 40 and len(paragraph) <= DOCUMENT_CHARS:
                yield Record(f"{prefix}lines {line_number}-{line_number + len(lines) - 1}", [Field(None, paragraph)])
            else:
                for offset, line in enumerate(lines):
                    for piece in _pieces(line):
                        yield Record(f"{prefix}line {line_number + offset}", [Field(None, piece)])
        line_number += len(lines) + 1


def _pieces(line: str) -> Iterator[str]:
    """A line longer than a record is cut at a space near the limit, never silently truncated."""
    while len(line) > DOCUMENT_CHARS:
        cut = line.rfind(" ", DOCUMENT_CHARS // 2, DOCUMENT_CHARS)
        cut = cut if cut > 0 else DOCUMENT_CHARS
        if line[:cut].strip():
            yield line[:cut]
        line = line[cut:]
    if line.strip():
        yield line
