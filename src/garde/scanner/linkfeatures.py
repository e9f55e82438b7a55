"""Link fields of a person record: what the linkage compares, computed in the worker from the
normalised values and written as keyed hashes only (docs/scan-format.md, "Link fields").

A keyed hash of a whole value can only be compared for equality, so the fuzzy comparisons are
made on keyed hashes of pieces of the value, chosen so that similar values share pieces:
- name: the hash of its sorted tokens (exact match, first and last names in any order), the hashes
  of the character bigrams of each token (a typo changes two or three bigrams out of ten: Jaccard
  similarity of the sets) and the hash of a French phonetic key of each token (Dupont = Dupond);
- birth date: the hash of the ISO date, of the date with day and month swapped, and of its three
  pairs of components (year-month, year-day, month-day: two dates that differ in one component
  share one pair);
- postcode; NIR (to forbid merging two different NIRs); e-mail, phone, IBAN and card (contacts).
Every hash is HMAC-SHA256 with the scan key (`mask.keyed_hash`) under its own space, cut to 16 hex
digits (64 bits: no collision expected below 10^9 values). Nobody without the key can test a guess.
"""

import re
from functools import lru_cache

from garde.scanner.detect import by_name
from garde.scanner.detect.validators import normalize_name
from garde.scanner.mask import keyed_hash
from garde.scanner.model import Finding

HASH_CHARS = 16
CONTACT_DETECTORS = {
    "email": "e",
    "phone": "p",
    "iban": "i",
    "payment_card": "c",
}  # kind letter of a contact key
_POSTCODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")


@lru_cache(maxsize=1 << 16)
def feature_hash(key: bytes, space: str, value: str) -> str:
    """Cached: bigrams, phonetic keys, years and postcodes repeat across records."""
    return keyed_hash(key, f"link-{space}", value)[:HASH_CHARS]


# ---- French phonetic key -------------------------------------------------------------------------

_PHONETIC_RULES = [
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"[^a-z]", ""),
        (r"^mac", "mc"),
        (r"ph", "f"),
        (r"(?:sch|sh|ch)", "#"),  # "ch" as in Chevalier
        (r"qu|q|ck", "k"),
        (r"c(?=[eiy])", "s"),
        (r"c", "k"),
        (r"g(?=[eiy])", "j"),
        (r"gu(?=[eiy])", "g"),
        (r"gn", "n"),
        (r"th", "t"),
        (r"(?<=[^aeiouy])h|^h|h$", ""),
        (r"w", "v"),
        (r"z", "s"),
        (r"(?:eaux?|aux?|o)", "o"),
        (r"(?:ai|ei|e[rtz]$|et$)", "e"),
        (r"ou", "u"),
        (r"y", "i"),
        (r"(?:[ae][nm])(?=[^aeiouynm]|$)", "A"),  # nasal vowels: Durant = Durand = Dureng
        (r"(?:o[nm])(?=[^aeiouynm]|$)", "O"),
        (r"(?:[aeiu]?[iy][nm]|u[nm])(?=[^aeiouynm]|$)", "I"),
        (r"(?<=.)[stdx]+$", ""),  # silent final consonants
        (r"(?<=.)e+$", ""),  # silent final e
        (r"(.)\1+", r"\1"),
    )
]
_VOWELS = re.compile(r"(?<=.)[aeiouy]")


@lru_cache(maxsize=1 << 16)
def phonetic(token: str) -> str:
    """A French phonetic key of one folded name token (in the spirit of Soundex-FR / Phonex):
    spellings of one sound merge, silent endings drop, vowels after the first letter go."""
    text = token
    for pattern, replacement in _PHONETIC_RULES:
        text = pattern.sub(replacement, text)
    return _VOWELS.sub("", text) or token[:1]


# ---- fields of a record ----------------------------------------------------------------------------


def _record_name(findings: list[Finding], births: list[Finding]) -> str | None:
    last = next((f.normalized for f in findings if f.detector == "last_name"), None)
    first = next((f.normalized for f in findings if f.detector == "first_name"), None)
    if last and first:
        return f"{last} {first}"
    names = [f for f in findings if f.detector == "person_name"]
    if names and births:
        before = [f for f in names if f.field == births[0].field and f.start < births[0].start]
        return (before[-1] if before else names[0]).normalized
    if len(names) == 1:
        return names[0].normalized
    return None


@lru_cache(maxsize=1 << 16)
def _token_grams(key: bytes, token: str) -> tuple[str, ...]:
    padded = f"^{token}$"
    return tuple(feature_hash(key, "gram", padded[i : i + 2]) for i in range(len(padded) - 1))


def name_fields(key: bytes, name: str | None) -> dict:
    tokens = sorted(set(normalize_name(name).split())) if name else []
    if not tokens:
        return {"name_key": None, "name_grams": None, "name_phonetic": None}
    return {
        "name_key": feature_hash(key, "name", " ".join(tokens)),
        "name_grams": sorted({gram for token in tokens for gram in _token_grams(key, token)}),
        "name_phonetic": feature_hash(key, "phonetic", " ".join(sorted(phonetic(t) for t in tokens))),
    }


def birth_fields(key: bytes, iso: str | None) -> dict:
    """`iso` is the birth date as the birth_date detector normalises it (YYYY-MM-DD)."""
    if not iso:
        return {"birth": None, "birth_swap": None, "birth_parts": None}
    year, month, day = iso.split("-")
    swapped = f"{year}-{day}-{month}" if int(day) <= 12 and day != month else None
    return {
        "birth": feature_hash(key, "birth", iso),
        "birth_swap": feature_hash(key, "birth", swapped) if swapped else None,
        "birth_parts": [
            feature_hash(key, "birth-ym", f"{year}-{month}"),
            feature_hash(key, "birth-yd", f"{year}-{day}"),
            feature_hash(key, "birth-md", f"{month}-{day}"),
        ],
    }


def link_fields(findings: list[Finding], key: bytes, value_hashes: list[str] | None = None) -> dict:
    """The link fields of one record (merged into its record row by the worker). `value_hashes`:
    each finding's `keyed_hash(key, detector, normalized)` when the caller has them already."""
    if value_hashes is None:
        value_hashes = [keyed_hash(key, f.detector, f.normalized) for f in findings]
    strong, weak, nir, contact, postcodes = set(), set(), set(), set(), []
    for finding, value_hash in zip(findings, value_hashes, strict=True):
        link = by_name(finding.detector).link
        if link == "strong":
            strong.add(value_hash)
            if finding.detector == "nir":
                nir.add(feature_hash(key, "nir", finding.normalized))
        elif link == "weak":
            weak.add(value_hash)
        if finding.detector in CONTACT_DETECTORS:
            contact.add(
                CONTACT_DETECTORS[finding.detector] + feature_hash(key, finding.detector, finding.normalized)
            )
        elif finding.detector == "postal_code":
            postcodes.append(finding.normalized)
        elif finding.detector == "address":
            postcodes += _POSTCODE.findall(finding.normalized)
    births = [f for f in findings if f.detector == "birth_date"]
    name = _record_name(findings, births)
    name_birth = None
    if name:
        tokens = " ".join(sorted(normalize_name(name).split()))  # swapped first and last names match
        weak.add(keyed_hash(key, "name", tokens))
        if births:
            name_birth = keyed_hash(key, "name_birth", f"{tokens}|{births[0].normalized}")
    return {
        "strong_keys": sorted(strong),
        "name_birth_key": name_birth,
        "weak_keys": sorted(weak),
        "nir_keys": sorted(nir),
        "contact_keys": sorted(contact),
        "postcode": feature_hash(key, "postcode", postcodes[0]) if postcodes else None,
        **name_fields(key, name),
        **birth_fields(key, births[0].normalized if births else None),
    }
