"""Patient identity helpers for the front desk, without Django: INS checks and duplicate detection.

Identity vigilance (RNIV) compares strict traits: birth name, first names, date of birth, sex, place of
birth. Agents type under pressure, so a duplicate hides behind an accent, a capital, a hyphen, a used name
typed as the birth name, or a first name typed as the name ("MARTIN Paul" / "PAUL Martin").
"""

import unicodedata
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir

# The INS is the NIR (first digit 1 or 2) or, for people not yet registered, the NIA (7 or 8).
INS_FIRST_DIGITS = {"1": "M", "2": "F", "7": "M", "8": "F"}

# Above this ratio two normalised names are taken for the same name typed with a slip.
NAME_SIMILARITY = 0.8


class InsError(ValueError):
    """Why an INS is not acceptable, as a code the UI turns into a sentence in the agent's language."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def compact_ins(value: str) -> str:
    return nir.compact(value.replace("-", ""))


def check_ins(value: str, sex: str | None = None, birth_date: date | None = None) -> str:
    """Return the INS in compact form, or raise InsError: length, first_digit, key, sex or year."""
    number = compact_ins(value)
    if len(number) != 15:
        raise InsError("length")
    if number[0] not in INS_FIRST_DIGITS:
        raise InsError("first_digit")
    try:
        nir.validate(number)
    except StdnumError:
        raise InsError("key") from None
    if sex in ("F", "M") and INS_FIRST_DIGITS[number[0]] != sex:
        raise InsError("sex")
    if birth_date is not None and number[1:3].isdigit() and int(number[1:3]) != birth_date.year % 100:
        raise InsError("year")
    return number


def normalise_name(value: str) -> str:
    """Lower case, no accents, and hyphens, apostrophes and repeated spaces folded into single spaces."""
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = plain.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    kept = "".join(c if c.isalnum() else " " for c in plain)
    return " ".join(kept.split())


def first_name(value: str) -> str:
    """The first of the first names, normalised: agents often type only that one."""
    parts = normalise_name(value).split()
    return parts[0] if parts else ""


@dataclass(frozen=True)
class Traits:
    birth_name: str
    first_names: str
    birth_date: date | None
    sex: str = ""
    used_name: str = ""


def _same_name(a: str, b: str) -> bool:
    if not a or not b:
        return False
    return a == b or SequenceMatcher(None, a, b).ratio() >= NAME_SIMILARITY


def _names(traits: Traits) -> tuple[set[str], str]:
    names = {normalise_name(traits.birth_name)}
    if traits.used_name:
        names.add(normalise_name(traits.used_name))
    return names - {""}, first_name(traits.first_names)


def duplicate_reason(new: Traits, known: Traits) -> str | None:
    """Why `known` is probably the same person as `new` (same_traits, inverted, date_slip), or None.

    Names are compared ignoring accents and case, the used name counts as a name, and a name typed in
    place of the first name (inverted) counts too. The sex is not compared: it is a frequent slip on a
    phone call, and the agent sees it in the suggestion anyway.
    """
    new_names, new_first = _names(new)
    known_names, known_first = _names(known)
    same_date = new.birth_date is not None and new.birth_date == known.birth_date
    name_match = any(_same_name(a, b) for a in new_names for b in known_names)
    first_match = _same_name(new_first, known_first)
    inverted = any(_same_name(new_first, b) for b in known_names) and any(
        _same_name(a, known_first) for a in new_names
    )
    if name_match and first_match and same_date:
        return "same_traits"
    if inverted and same_date:
        return "inverted"
    if name_match and first_match and new.birth_date and known.birth_date and _date_slip(new.birth_date, known.birth_date):
        return "date_slip"
    return None


def _date_slip(a: date, b: date) -> bool:
    """Day and month swapped, or a single part of the date differs: the usual ways a date is mistyped."""
    if a == b:
        return False
    if (a.year, a.month, a.day) == (b.year, b.day, b.month):
        return True
    differing = sum(x != y for x, y in ((a.year, b.year), (a.month, b.month), (a.day, b.day)))
    return differing == 1
