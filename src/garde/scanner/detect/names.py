"""Person names in free text, without a language model: a courtesy title before capitalised words
("M. Lambert", "Mme LE GOFF"), or a known French first name next to a capitalised word ("Jeanne
Lhostellier", "DUPONT Jean"). Names in tables come from column headers instead (see columns.py).
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
    r"(?:\b(?:M|MM|Mme|Mmes|Mlle|Mlles|Dr|Pr|Me)\.?|\b(?:Monsieur|Madame|Mademoiselle|Docteur|Professeur|"
    r"docteur|professeur|monsieur|madame|mademoiselle))\s+(?:[A-Z]\.\s*)*(?:l'abbé\s+|de\s+|d')?$"
)
_INITIALS_BEFORE = re.compile(r"(?:^|[\s(])[A-Z]\.\s?(?:[A-Z]\.\s?)?$")
_PARTICLE_GAP = re.compile(r" (?:(?:de|du|des|van|von|le|la) |d['’])?$|-$")
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
_PLACE_BEFORE = re.compile(r"(?:\b(?:rue|avenue|av|boulevard|bd|place|quai|impasse|allée|lycée|collège|école|hôpital|clinique|saint|sainte|pont|square)\.?\s+(?:de\s+la\s+|du\s+|des\s+|de\s+)?)$", re.I)


class NameSpan(NamedTuple):
    start: int
    end: int
    text: str
    confidence: float


@cache
def first_names() -> frozenset[str]:
    text = resources.files("garde.scanner.data").joinpath("first_names_fr.txt").read_text(encoding="utf-8")
    return frozenset(fold(line.strip()) for line in text.splitlines() if line.strip() and not line.startswith("#"))


def is_first_name(token: str) -> bool:
    names = first_names()
    folded = fold(token)
    return folded in names or ("-" in folded and all(part in names for part in folded.split("-")))


def _runs(text: str):
    """Runs of capitalised words separated by single spaces."""
    run: list[re.Match] = []
    for match in _TOKEN.finditer(text):
        if run and not _PARTICLE_GAP.match(text, run[-1].end(), match.start()):
            yield run
            run = []
        run.append(match)
    if run:
        yield run


def find_names(text: str) -> list[NameSpan]:
    spans = []
    for run in _runs(text):
        while run and fold(run[0].group()) in _NOT_NAMES:
            run = run[1:]
        while run and fold(run[-1].group()) in _NOT_NAMES:
            run = run[:-1]
        if not run or _PLACE_BEFORE.search(text, max(0, run[0].start() - 30), run[0].start()):
            continue
        run = run[:4]
        before = text[max(0, run[0].start() - 24) : run[0].start()]
        titled = bool(_TITLE_BEFORE.search(before))
        if len(run) == 1 and len(run[0].group()) < 2:
            continue
        known = [is_first_name(token.group()) for token in run]
        if titled:
            confidence = 0.85 if any(known) else 0.75
        elif len(run) >= 2 and any(known) and not all(known):
            confidence = 0.8 if any(token.group().isupper() for token in run) else 0.65
        elif _INITIALS_BEFORE.search(before) and len(run[0].group()) >= 3:
            confidence = 0.6
        else:
            continue
        start, end = run[0].start(), run[-1].end()
        spans.append(NameSpan(start, end, text[start:end], confidence))
    return spans
