"""What a column header, JSON key or XML tag says about the values under it.

Headers are folded (no accents, lower case, camelCase and punctuation turned into `_`), stripped of
a patient/person prefix or suffix, then matched against one expression per meaning.
"""

import re
from functools import lru_cache

from garde.scanner.detect.validators import fold

MEANINGS: dict[str, str] = {
    "nir": r"nir|nss|n?ins|ins_?nir|ins_?c|secu|securite_sociale|num(ero)?_?(ss|secu)|no_?ss|n_ss|matricule(_insee)?|insee|social_security(_number)?|ssn",
    "ipp": r"ipp|patient_?id|id_?patient|(num(ero)?|no|identifiant)_?patient|pid|mrn|dossier_?patient",
    "nda": r"nda|iep|(num(ero)?|no|id)_?(de_)?(sejour|venue|dossier|admission|hospitalisation)|sejour_?id|visit(_number|_id)?",
    "last_name": r"nom|nom_?(de_)?(naissance|usage|famille|marital|jeune_fille|epouse|usuel)|last_?name|surname|family_?name|nom_?nais",
    "first_name": r"prenoms?|prenom_?(usuel|\d)|first_?name|given_?names?|forename",
    "full_name": r"nom_?(et_)?prenoms?|nom_?complet|full_?name|name|identite|patient_?name|contact_?name|display_?name",
    "birth_date": r"(date_?)?(de_)?naiss(ance)?|dt_?naiss(ance)?|ddn|birth_?date|date_?of_?birth|dob|nee?_le|birthday",
    "postal_code": r"cp|code_?postal|postal_?code|zip(_?code)?|postcode",
    "city": r"ville|commune|city|localite|town",
    "address": r"adresse(_?\d|_?postale|_?ligne_?\d)?|address(_?line)?(_?\d)?|rue|voie|street|ligne_?adresse",
    "phone": r"tel(ephone)?(_?(fixe|portable|mobile|domicile|pro|\d))?|portable|mobile|phone(_?number)?|gsm|fax",
    "email": r"e?_?mail(_?address)?|courriel|adresse_?(e_?)?mail",
    "iban": r"iban|rib|bank_?account",
    "card": r"(num(ero)?_?)?carte(_?bancaire)?|cb|card(_?number)?|pan|credit_?card",
    "password": r"password(_?hash)?|passwd|pwd|mot_?de_?passe|mdp|pass(_?hash)?|hash(ed)?_?password|motdepasse|secret",
    "health": r"diag(nostic)?s?(_?(principal|associe|relie))?|cim_?10|code_?cim(_?10)?|icd(_?10)?|dp|das|dr|pathologies?|motif(_?consultation|_?hospitalisation)?|antecedents?|allergies?|traitements?|pathology|diagnosis|observations?|compte_?rendu|cr",
}

_AFFIXES = r"(?:(?:patient|pat|p|usr|user|client|personne|assure|beneficiaire|benef)_)?"
_SUFFIXES = r"(?:_(?:patient|pat|client|assure|benef|1|2))?"
_COMPILED = {
    meaning: re.compile(rf"^{_AFFIXES}(?:{expression}){_SUFFIXES}$") for meaning, expression in MEANINGS.items()
}


def normalize_header(header: str) -> str:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1_\2", header.strip())
    return re.sub(r"[^a-z0-9]+", "_", fold(spaced)).strip("_")


@lru_cache(maxsize=4096)
def meaning_of(header: str | None) -> str | None:
    if not header:
        return None
    key = normalize_header(header)
    if not key:
        return None
    for meaning, expression in _COMPILED.items():
        if expression.match(key):
            return meaning
    return None
