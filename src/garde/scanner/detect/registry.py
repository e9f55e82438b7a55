"""The detectors, declared as data. Adding one means adding an entry here, a test table in
tests/scanner/test_detectors.py and a line in docs/scanner.md (a meta-test checks all three).

Confidence of a finding = `base`, + `checksum_bonus` when the validator confirmed a checksum,
+ `context_bonus` when one of `context` words is near the value, + `column_bonus` when the field
is known to hold this kind of value; capped at 0.99. A detector with `needs_support` reports only
with a confirmed checksum, a context word or a column.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from garde.scanner.detect import validators as v

_DATE = (
    r"(?:0?[1-9]|[12]\d|3[01])[/.\-](?:0?[1-9]|1[0-2])[/.\-](?:19|20)\d\d"
    r"|(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])(?:er)?\s(?i:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre)\s(?:19|20)\d\d"
)


@dataclass(frozen=True)
class Detector:
    name: str
    category: str
    description: str
    validate: Callable[[str], v.Valid | None]
    pattern: str | None = None
    value_group: bool = False  # the pattern holds context; the value is its inner group
    meanings: frozenset[str] = frozenset()
    column_only: bool = False  # the whole value of a column with one of `meanings` is the finding
    context: tuple[str, ...] = ()
    base: float = 0.5
    checksum_bonus: float = 0.35
    context_bonus: float = 0.2
    column_bonus: float = 0.3
    needs_support: bool = False
    identifies: bool = False  # on its own, points at one person (makes a record a person record)
    link: str | None = None  # "strong": merge records on it; "weak": merge only for the lower bound
    mask: str = "default"
    # Speed: a match can only start on a character of `first`, and the pattern is tried only on
    # texts whose lower-case form contains one of `triggers` (all texts when empty).
    first: str = r"\d"
    triggers: tuple[str, ...] = ()
    # Speed: the validator never confirms a checksum nor shortens the match, so a `needs_support`
    # match outside a column can be dropped on missing context before it is validated.
    context_first: bool = False

    @property
    def context_re(self) -> re.Pattern | None:
        return _context_re(self.context)


_CONTEXT_CACHE: dict[tuple[str, ...], re.Pattern] = {}


def _context_re(words: tuple[str, ...]) -> re.Pattern | None:
    if not words:
        return None
    if words not in _CONTEXT_CACHE:
        alternatives = "|".join(re.escape(v.fold(word)) for word in words)
        _CONTEXT_CACHE[words] = re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])")
    return _CONTEXT_CACHE[words]


def _m(*meanings: str) -> frozenset[str]:
    return frozenset(meanings)


DETECTORS: tuple[Detector, ...] = (
    Detector(
        "email", "contact", "E-mail address.", v.validate_email,
        pattern=r"(?<![\w.%+\-])[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63})*\.(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9]{2,20})(?![\w\-])",
        meanings=_m("email"), context=("mail", "e-mail", "courriel", "adresse électronique"),
        first=r"[A-Za-z0-9._%+\-]", triggers=("@",),
        base=0.9, identifies=True, link="weak", mask="email",
    ),
    Detector(
        "password_hash", "credentials", "Password hash in a known format (bcrypt, argon2, crypt, Django PBKDF2, LDAP).",
        v.validate_secret,
        pattern=(
            r"\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}"
            r"|\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+"
            r"|\$[56]\$(?:rounds=\d+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{43,86}"
            r"|\$1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}"
            r"|(?:pbkdf2_sha(?:1|256)|bcrypt_sha256|argon2|scrypt)\$[^\s$]+\$[^\s$]+\$[A-Za-z0-9+/=]{16,}"
            r"|\{(?:SSHA|SHA|SMD5|SSHA256|SSHA512|CRYPT)\}[A-Za-z0-9+/=.$]{8,}"
        ),
        first=r"[$a-z{]", triggers=("$", "{"),
        meanings=_m("password"), base=0.9, mask="secret",
    ),
    Detector(
        "secret", "credentials", "Private key block or cloud access key.", v.validate_secret,
        pattern=r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----|(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])",
        first=r"[-A]", triggers=("-----begin", "akia", "asia"),
        base=0.9, mask="secret",
    ),
    Detector(
        "password", "credentials", "Password written after a password label, or in a password column.",
        v.validate_secret,
        pattern=r"(?i:\b(?:password|passwd|pwd|mot de passe|mdp)\s*[:=]\s*)(?P<password__v>[^\s\"',;]{4,64})",
        first=r"[PpMm]", triggers=("pass", "pwd", "mot de passe", "mdp"),
        value_group=True, meanings=_m("password"), column_only=True, base=0.8, mask="secret",
    ),
    Detector(
        "iban", "financial", "IBAN (ISO 13616, mod-97 checked).", v.validate_iban,
        pattern=r"(?<![A-Za-z0-9])[A-Z]{2}\d\d(?: ?[A-Z0-9]){11,30}",
        meanings=_m("iban"), context=("iban", "rib", "bic", "compte", "virement", "banque"),
        first=r"[A-Z]",
        base=0.55, identifies=True, link="weak",
    ),
    Detector(
        "nir", "national_identifier",
        "French social security number (NIR/NIA, also the INS): sex 1-4 or 7, plausible month, Corsica 2A/2B, "
        "mod-97 key. Without its key it is reported only with context or column.",
        v.validate_nir,
        pattern=r"(?<![\w])[1-47][ .]?\d\d[ .]?\d\d[ .]?(?:\d\d|2[ABab])[ .]?(?:\d[ .]?){3}\d{3}(?:[ .]?\d\d)?(?![\w])",
        meanings=_m("nir"),
        context=("nir", "nss", "ins", "insee", "sécu", "sécurité sociale", "securite sociale", "n° ss", "assuré", "matricule"),
        first=r"[1-47]",
        base=0.45, checksum_bonus=0.45, needs_support=True, identifies=True, link="strong",
    ),
    Detector(
        "payment_card", "financial", "Payment card number (Luhn and issuer prefix/length).", v.validate_card,
        pattern=r"(?<![\d])\d(?:[ \-]?\d){12,18}(?!\d)",
        meanings=_m("card"), context=("carte", "cb", "visa", "mastercard", "amex", "card", "paiement"),
        base=0.4, identifies=True, link="weak",
    ),
    Detector(
        "phone", "contact", "French phone number (checked with libphonenumber).", v.validate_phone,
        pattern=r"(?<![\w+])(?:(?:\+|00)33[ .\-]?(?:\(0\)[ .\-]?)?[1-9]|0[1-9])(?:[ .\-]?\d\d){4}(?!\d)",
        meanings=_m("phone"), context=("tél", "tel", "téléphone", "portable", "mobile", "fax", "joindre"),
        first=r"[0+]",
        base=0.6, checksum_bonus=0.1, identifies=True, link="weak",
    ),
    Detector(
        "ipp", "identity", "Hospital patient number (IPP), by label, column or HL7 PID-3.", v.validate_identifier,
        pattern=r"(?i:\b(?:IPP|n°\s*(?:de\s+)?patient|num[ée]ro\s+(?:de\s+)?patient|identifiant\s+patient)\s*[:=#]?\s*(?:n°\s*)?)(?P<ipp__v>[A-Z0-9]{4,20})(?![\w])",
        first=r"[IiNn]", triggers=("ipp", "patient"),
        value_group=True, meanings=_m("ipp"), column_only=True, base=0.8, identifies=True, link="strong",
    ),
    Detector(
        "nda", "identity", "Hospital stay number (NDA/IEP), by label, column or HL7 PID-18/PV1-19.", v.validate_identifier,
        pattern=r"(?i:\b(?:NDA|IEP|n°\s*(?:de\s+)?(?:s[ée]jour|venue|dossier)|num[ée]ro\s+(?:de\s+)?(?:s[ée]jour|venue))\s*[:=#]?\s*(?:n°\s*)?)(?P<nda__v>[A-Z0-9]{4,20})(?![\w])",
        first=r"[IiNn]", triggers=("nda", "iep", "séjour", "sejour", "venue", "dossier"),
        value_group=True, meanings=_m("nda"), column_only=True, base=0.75, identifies=True,
    ),
    Detector(
        "birth_date", "identity", "Date of birth: a date near 'né(e) le', 'date de naissance', 'DDN', or in a birth-date column.",
        v.validate_birth_date,
        pattern=rf"(?<![\d/.\-])(?:{_DATE})(?![\d/])",
        meanings=_m("birth_date"), column_only=True,
        context=("né le", "née le", "né(e) le", "ne le", "née", "né", "naissance", "ddn", "date de naissance", "dob", "birth"),
        base=0.3, context_bonus=0.4, column_bonus=0.6, needs_support=True, context_first=True,
    ),
    Detector(
        "cim10", "health", "CIM-10/ICD-10 diagnosis code, near 'CIM', 'diagnostic', 'DP'/'DAS', in a diagnosis column or HL7 DG1-3.",
        v.validate_cim10,
        pattern=r"(?<![\w.])[A-Z]\d\d(?:\.?[0-9][0-9A-Z+]{0,3})?(?![\w])",
        meanings=_m("health", "diagnosis_code"),
        context=("cim", "cim10", "cim-10", "icd", "icd-10", "diagnostic", "diag", "dp", "das", "dr", "pathologie", "code"),
        first=r"[A-Z]",
        base=0.3, context_bonus=0.4, column_bonus=0.5, needs_support=True, context_first=True,
    ),
    Detector(
        "health_note", "health", "Free text in a health column (diagnosis, reason for visit, history, treatment).",
        v.validate_text, meanings=_m("health"), column_only=True, base=0.7, mask="secret",
    ),
    Detector(
        "health_term", "health",
        "Medical term (cancer, VIH, dialyse, grossesse, schizophrénie...; data/health_terms_fr.txt) within 300 characters "
        "of a person name in free text.",
        v.validate_text, base=0.65,
    ),
    Detector(
        "address", "contact", "Postal address: number and street type, or an address column / HL7 PID-11.",
        v.validate_text,
        pattern=(
            r"(?i:\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|chemin|all[ée]e|impasse|route|quai|cours|square|r[ée]sidence|lotissement|hameau|lieu-dit)\s)"
            r"[^\n\x1f,;.\d]{2,50}(?:,?\s*\d{5}(?:\s+[A-ZÀ-Ý][\w'\-]+(?:[ \-][A-ZÀ-Ý][\w'\-]+){0,3})?)?"
        ),
        meanings=_m("address"), column_only=True, base=0.7, identifies=True,
    ),
    Detector(
        "postal_code", "contact", "French postal code, in a postal-code column or HL7 PID-11.",
        v.validate_postal_code, meanings=_m("postal_code"), column_only=True, base=0.6,
    ),
    Detector(
        "city", "contact", "Town, in a city column or HL7 PID-11.", v.validate_name,
        meanings=_m("city"), column_only=True, base=0.5,
    ),
    Detector(
        "last_name", "identity", "Last name, in a last-name column or HL7 PID-5.1/NK1-2.1.", v.validate_name,
        meanings=_m("last_name"), column_only=True, base=0.6, identifies=True, mask="name",
    ),
    Detector(
        "first_name", "identity", "First name, in a first-name column or HL7 PID-5.2.", v.validate_name,
        meanings=_m("first_name"), column_only=True, base=0.6, mask="name",
    ),
    Detector(
        "person_name", "identity",
        "Full name: a full-name column, or in free text a courtesy title or a known French first name next to capitalised words.",
        v.validate_name, meanings=_m("full_name"), column_only=True, base=0.5, identifies=True, mask="name",
    ),
)

_BY_NAME = {detector.name: detector for detector in DETECTORS}


def by_name(name: str) -> Detector:
    return _BY_NAME[name]


def for_meaning(meaning: str) -> tuple[Detector, ...]:
    found = _FOR_MEANING.get(meaning)
    if found is None:
        found = _FOR_MEANING[meaning] = tuple(d for d in DETECTORS if d.column_only and meaning in d.meanings)
    return found


_FOR_MEANING: dict[str, tuple[Detector, ...]] = {}
