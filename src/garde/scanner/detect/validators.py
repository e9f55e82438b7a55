"""Checks that turn a pattern match into a value we trust, and the normal form that is hashed.

Each validator takes the matched text and returns a `Valid` (normal form, whether a checksum or an
authoritative check confirmed it, how many characters of the match it used) or None.
"""

import re
import time
import unicodedata
from datetime import date
from functools import cache
from importlib import resources
from typing import NamedTuple

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn


class Valid(NamedTuple):
    normalized: str
    checked: bool
    length: int | None = None


_SEPARATORS = re.compile(r"[\s.\-/]")


def compact(text: str) -> str:
    return _SEPARATORS.sub("", text)


_LATIN = str.maketrans(
    "àâäáãåçéèêëíìîïñóòôöõúùûüýÿÀÂÄÁÃÅÇÉÈÊËÍÌÎÏÑÓÒÔÖÕÚÙÛÜÝŸ’",
    "aaaaaaceeeeiiiinooooouuuuyyaaaaaaceeeeiiiinooooouuuuyy'",
)


def fold(text: str) -> str:
    """Lower case without accents, for comparing names and words written by different hands."""
    if text.isascii():
        return text.lower()
    folded = text.translate(_LATIN)
    if folded.isascii():
        return folded.lower()
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def nir_key(body: str) -> int:
    """The control key of a 13-character NIR body; Corsica's 2A and 2B count as 19 and 18."""
    department = body[5:7].upper()
    number = body[:5] + {"2A": "19", "2B": "18"}.get(department, department) + body[7:]
    return 97 - int(number) % 97


def plausible_nir_body(body: str) -> bool:
    if len(body) != 13 or body[0] not in "12347":
        return False
    month = int(body[3:5])
    # 01-12 are calendar months; 20-42 and 50-99 are the pseudo-months INSEE gives when the month
    # of birth is unknown. 00, 13-19 and 43-49 are never issued.
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        return False
    department = body[5:7].upper()
    if department in ("2A", "2B"):
        return body[7:].isdigit()
    return body.isdigit() and department != "00"


def validate_nir(text: str) -> Valid | None:
    value = compact(text).upper()
    if len(value) not in (13, 15):
        return None
    body = value[:13]
    if not plausible_nir_body(body):
        return None
    if len(value) == 13:
        return Valid(body, checked=False)
    if not value[13:].isdigit() or int(value[13:]) != nir_key(body):
        return None
    return Valid(body, checked=True)


def validate_iban(text: str) -> Valid | None:
    value = compact(text).upper()
    # The pattern may run into the next word ("FR76... DUPONT"): try the longest valid prefix.
    for length in range(len(value), 14, -1):
        if stdnum_iban.is_valid(value[:length]):
            return Valid(value[:length], checked=True, length=_span_of(text, length))
    return None


def _span_of(text: str, kept: int) -> int:
    """How many characters of `text` hold its first `kept` non-separator characters."""
    seen = 0
    for index, char in enumerate(text):
        if not _SEPARATORS.match(char):
            seen += 1
            if seen == kept:
                return index + 1
    return len(text)


_CARD_PREFIXES = (
    ("4", (13, 16, 19)),
    ("34", (15,)),
    ("37", (15,)),
    ("36", (14, 16)),
    ("38", (14, 16)),
    ("300", (14, 16)),
    ("301", (14, 16)),
    ("302", (14, 16)),
    ("303", (14, 16)),
    ("304", (14, 16)),
    ("305", (14, 16)),
    ("6011", (16, 19)),
    ("65", (16, 19)),
    ("644", (16, 19)),
    ("645", (16, 19)),
    ("646", (16, 19)),
    ("647", (16, 19)),
    ("648", (16, 19)),
    ("649", (16, 19)),
    ("62", (16, 17, 18, 19)),
    ("5019", (16,)),
    ("6759", (16, 18, 19)),
    ("676", (16, 18, 19)),
)


def card_iin_ok(digits: str) -> bool:
    if digits[:2] in ("51", "52", "53", "54", "55") or 2221 <= int(digits[:4]) <= 2720:
        return len(digits) == 16
    if 3528 <= int(digits[:4]) <= 3589:
        return 16 <= len(digits) <= 19
    return any(digits.startswith(prefix) and len(digits) in lengths for prefix, lengths in _CARD_PREFIXES)


def validate_card(text: str) -> Valid | None:
    digits = compact(text)
    if not digits.isdigit() or not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return None
    if not card_iin_ok(digits) or not luhn.is_valid(digits):
        return None
    # 14 digits is also the length of a SIRET, which passes Luhn too: such a card needs context.
    return Valid(digits, checked=len(digits) != 14)


# A French number, national or international (+33, 0033, +33 (0)): its nine digits after the prefix.
_FRENCH_NUMBER = re.compile(r"(?:0|(?:\+|00)33(?:\(0\))?)([1-9]\d{8})$")


@cache  # at most 9,000 prefixes (about 0.5 s to ask them all, once per process)
def _french_prefix_valid(prefix: str) -> bool:
    """libphonenumber's verdict for French numbers depends on their first digits only (three in
    libphonenumber 9.0; four are asked to stay safe with later metadata); asking once per prefix
    keeps the check and removes its cost."""
    return phonenumbers.is_valid_number(phonenumbers.parse("0" + prefix + "0" * (9 - len(prefix)), "FR"))


def validate_phone(text: str) -> Valid | None:
    french = _FRENCH_NUMBER.match(compact(text))
    if french:
        digits = french.group(1)
        return Valid(f"+33{digits}", checked=True) if _french_prefix_valid(digits[:4]) else None
    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return Valid(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), checked=True)


def validate_email(text: str) -> Valid | None:
    local, _, domain = text.rpartition("@")
    if not local or "." not in domain or ".." in text:
        return None
    return Valid(text.lower(), checked=False)


MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
}  # fmt: skip

_DATE_FORMS = (
    re.compile(r"(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})$"),
    re.compile(r"(?P<y>\d{4})-?(?P<m>\d{2})-?(?P<d>\d{2})(?:[T ]?\d{2}:?\d{2}(?::?\d{2})?)?$"),
    re.compile(r"(?P<d>\d{1,2})(?:er)?\s+(?P<mn>[a-z]+)\s+(?P<y>\d{4})$"),
    re.compile(r"(?P<d>\d{1,2})[/.](?P<m>\d{1,2})[/.](?P<yy>\d{2})$"),
)


def _today() -> date:
    """date.today(), asked at most once a minute (it is a system call)."""
    minute = int(time.monotonic() // 60)
    if _TODAY[0] != minute:
        _TODAY[:] = [minute, date.today()]
    return _TODAY[1]


_TODAY: list = [None, None]


def parse_date(text: str, today: date | None = None) -> date | None:
    """A date written the French way, in ISO or as HL7 (YYYYMMDD[hhmm]); two-digit years are
    taken as the most recent past year."""
    today = today or date.today()
    value = fold(text.strip())
    for form in _DATE_FORMS:
        match = form.match(value)
        if not match:
            continue
        parts = match.groupdict()
        month = MONTHS.get(parts["mn"], 0) if parts.get("mn") else int(parts["m"])
        if parts.get("yy"):
            year = 2000 + int(parts["yy"])
            year = year if year <= today.year else year - 100
        else:
            year = int(parts["y"])
        try:
            return date(year, month, int(parts["d"]))
        except ValueError:
            return None
    return None


def validate_birth_date(text: str) -> Valid | None:
    today = _today()
    day = parse_date(text, today)
    if day is None or not 1880 <= day.year or day > today:
        return None
    return Valid(day.isoformat(), checked=False)


_CIM10 = re.compile(r"([A-Z])(\d{2})\.?([0-9A-Z+]{0,4})$")


@cache
def cim10_categories() -> frozenset[str]:
    """The three-character categories of ICD-10 (WHO 2019, see data/cim10_categories.txt)."""
    text = resources.files("garde.scanner.data").joinpath("cim10_categories.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def validate_cim10(text: str) -> Valid | None:
    """A CIM-10 code whose category exists in ICD-10 (subdivisions, and ATIH's French extensions
    such as "+1", are not checked). U is kept for the range WHO and ATIH use (U07-U85), which
    grows between editions."""
    match = _CIM10.match(text.upper().strip())
    if not match:
        return None
    letter, number, extra = match.groups()
    if letter == "U":
        if not 7 <= int(number) <= 85:
            return None
    elif f"{letter}{number}" not in cim10_categories():
        return None
    return Valid(f"{letter}{number}{'.' + extra if extra else ''}", checked=False)


def validate_identifier(text: str) -> Valid | None:
    value = compact(text).upper()
    if not 3 <= len(value) <= 24 or not any(c.isdigit() for c in value):
        return None
    return Valid(value, checked=False)


def validate_postal_code(text: str) -> Valid | None:
    value = compact(text)
    if len(value) == 5 and value.isdigit() and value[:2] != "00" and int(value[:2]) <= 98:
        return Valid(value, checked=False)
    return None


_NAME_CHARS = re.compile(r"^[^\W\d_]+(?:[ '\-][^\W\d_]+)*\.?$")


def normalize_name(text: str) -> str:
    return " ".join(re.split(r"[\s\-']+", fold(text).strip()))


def validate_name(text: str) -> Valid | None:
    value = " ".join(text.split())
    if not 2 <= len(value) <= 80 or len(value.split()) > 6 or not _NAME_CHARS.match(value):
        return None
    return Valid(normalize_name(value), checked=False)


def validate_text(text: str) -> Valid | None:
    value = " ".join(text.split())
    if len(value) < 2 or value.lower() in ("null", "none", "n/a", "na", "-", "nan"):
        return None
    return Valid(fold(value), checked=False)


def validate_secret(text: str) -> Valid | None:
    value = text.strip()
    if len(value) < 4 or value.lower() in ("null", "none", "****", "xxxx"):
        return None
    return Valid(value, checked=False)
