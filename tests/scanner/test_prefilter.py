"""The fast path (hyperscan prefilter, exact patterns only where it points) finds exactly what the
reference path (one combined regex over each field) finds."""

import json
import random

import pytest

from garde.scanner.detect import detect_record_reference, detect_records, prefilter
from garde.scanner.detect.prefilter import loosen
from garde.scanner.model import Field, Record

from .helpers import HL7_MESSAGE, LETTER, NIR_DUPONT, PATIENTS_CSV
from .test_detectors import TABLE

pytestmark = pytest.mark.skipif(not prefilter.available(), reason="hyperscan is not installed")

PIECES = [
    "Mme", "M.", "Dr", "docteur", "Jean", "JEAN", "Hélène", "Anne-Sophie", "DUPONT", "Le Goff", "de", "d'", "l'abbé",
    "J.", "Œdipe", "Cœur", "ß", "né le", "née le", "DDN", "naissance", "12/03/1965", "1965-03-12", "3 mars 1965",
    NIR_DUPONT, "2 55 08 14 168 025 38", "2A", "FR76 3000 6000 0112 3456 7890 189", "4012 8888 8888 1881",
    "06 12 34 56 78", "+33 1 42 68 53 00", "jean.dupont@chu-rennes.fr", "x@y", "IPP", "IPP :", "NDA", "n° de séjour",
    "00123456", "CIM-10", "E11.9", "J45", "T08", "12 rue de la Paix", "35000 Rennes", "password=", "mdp:", "Secret1!",
    "$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", "AKIAIOSFODNN7EXAMPLE", "Rue Victor Hugo",
    "\xa0", "\u202f", " ", " ", " ", "  ", "\n", "\t", ",", ".", ";", ":", "-", "'", "’", "(", ")", "é", "2023-06-01 12:00:01",
]


def _both(records: list[Record]):
    return detect_records(records), [detect_record_reference(record) for record in records]


def test_it_finds_the_same_as_the_reference_on_the_detector_tables():
    records = [Record("t", [Field(header, text)]) for cases in TABLE.values() for text, header, _ in cases]
    fast, reference = _both(records)
    assert fast == reference


@pytest.mark.parametrize("seed", [4, 11, 12])
def test_it_finds_the_same_as_the_reference_on_random_texts(seed):
    generator = random.Random(seed)
    records = []
    for _ in range(3000):
        words = [generator.choice(PIECES) for _ in range(generator.randint(1, 14))]
        separators = [generator.choice(["", " ", " ", "\xa0", "\n", ", "]) for _ in words]
        text = "".join(w + s for w, s in zip(words, separators, strict=True))
        header = generator.choice([None, None, None, "nom", "commentaire", "date_naissance", "diagnostic", "ville"])
        records.append(Record("r", [Field(header, text)]))
    fast, reference = _both(records)
    mismatches = [(r.fields[0].value, f, g) for r, f, g in zip(records, fast, reference, strict=True) if f != g]
    assert not mismatches, mismatches[:3]


def test_it_finds_the_same_as_the_reference_on_documents_and_prose(person_sentences):
    texts = [json.loads(line)["text"] for line in person_sentences.read_text().splitlines()]
    records = [Record("s", [Field(None, text)]) for text in texts] + [Record("all", [Field(None, "\n".join(texts))])]
    records += [Record("d", [Field(None, text)]) for text in (LETTER, HL7_MESSAGE, PATIENTS_CSV)]
    fast, reference = _both(records)
    assert fast == reference
    assert sum(map(len, fast)) > 1000


def test_it_widens_patterns_and_never_narrows_them():
    assert loosen(r"(?<![\w.])[A-Z]\d\d(?![\w])") == r"(?:^|[^\w.])[A-Z][0-9][0-9](?:$|[^\w])"
    assert loosen(r"(?P<x__v>a)\bb(?=c)") == "(?:a)b"


def test_it_finds_health_terms_by_words_as_the_regex_does():
    from garde.scanner.detect import names

    words = [w for term in names._health_lines() for w in term.split()]
    words += ["le", "patient", "de", "2", "_a", "Hépatite", "SIDA", "d’asthme", "cœur", "«cancer»", "DIABÈTE"]
    generator = random.Random(2)
    for _ in range(5000):
        text = "".join(generator.choice(words) + generator.choice([" ", " ", "  ", ",", "-", "_", "\n", "’"]) for _ in range(8))
        expected = [m.span() for m in names.health_terms().finditer(text, 0, min(1 + names.HEALTH_NEAR, len(text)))]
        assert names.health_terms_near(text, [(0, 1)]) == expected, text


class _NoCompiling:
    """hyperscan, except that compiling a database is an error."""

    real = prefilter.hyperscan

    def __getattr__(self, name):
        if name == "Database":
            raise AssertionError("the database was compiled instead of loaded from the cache")
        return getattr(self.real, name)


def _hits(compiled: tuple, text: bytes) -> list:
    database, _, scratch = compiled
    found = []
    database.scan(text, match_event_handler=lambda *hit: found.append(hit[:3]), scratch=scratch)
    return found


def test_the_compiled_database_is_kept_on_disk_and_loaded_at_the_next_start(tmp_path, monkeypatch):
    monkeypatch.setenv(prefilter.CACHE_ENV, str(tmp_path / "cache"))
    compiled = prefilter._compile()
    cached = list((tmp_path / "cache").iterdir())
    assert [path.suffix for path in cached] == [".hsdb"]
    monkeypatch.setattr(prefilter, "hyperscan", _NoCompiling())
    loaded = prefilter._compile()
    assert loaded[1] == compiled[1]
    sample = f"Mme Jeanne DUPONT, née le 12/03/1965, NIR {NIR_DUPONT}, jean.dupont@chu-rennes.fr".encode()
    assert _hits(loaded, sample) == _hits(compiled, sample) != []


def test_a_corrupt_or_unwritable_cache_only_costs_a_compile(tmp_path, monkeypatch):
    monkeypatch.setenv(prefilter.CACHE_ENV, str(tmp_path / "cache"))
    prefilter._compile()
    (cached,) = (tmp_path / "cache").iterdir()
    cached.write_bytes(b"not a hyperscan database")
    assert _hits(prefilter._compile(), b"tel 06 12 34 56 78") != []
    assert cached.read_bytes() != b"not a hyperscan database"  # replaced by the new compile

    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(prefilter.CACHE_ENV, str(tmp_path / "a-file" / "cache"))  # cannot be created
    assert prefilter._compile() is not None

    monkeypatch.setenv(prefilter.CACHE_ENV, "off")
    assert prefilter.cache_path([b"x"], [0]) is None


def test_the_cache_is_named_by_what_the_database_is_compiled_from(tmp_path, monkeypatch):
    monkeypatch.setenv(prefilter.CACHE_ENV, str(tmp_path))
    assert prefilter.cache_path([b"a"], [0]) == prefilter.cache_path([b"a"], [0])
    assert prefilter.cache_path([b"a"], [0]) != prefilter.cache_path([b"b"], [0])
    assert prefilter.cache_path([b"a"], [0]) != prefilter.cache_path([b"a"], [8])
    monkeypatch.delenv(prefilter.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert prefilter.cache_path([b"a"], [0]).parent == tmp_path / "xdg" / "garde"
