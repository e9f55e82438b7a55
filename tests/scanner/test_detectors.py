"""One table per detector: valid values, values failing their check, and values without context."""

import re
from pathlib import Path

import pytest

from garde.scanner.detect import DETECTORS, detect_record
from garde.scanner.detect.validators import nir_key, validate_card, validate_iban, validate_nir
from garde.scanner.model import Field, Record


def found(text: str, header: str | None = None) -> list[tuple[str, str]]:
    return [(f.detector, f.raw) for f in detect_record(Record("t", [Field(header, text)]))]


def detectors_in(text: str, header: str | None = None) -> set[str]:
    return {name for name, _ in found(text, header)}


# (detector, text, column header, expected: True = detected)
TABLE = {
    "email": [
        ("Écrire à jean.dupont@chu-rennes.fr demain", None, True),
        ("jean.dupont@chu", None, False),
        ("dupont@example.org", None, True),
    ],
    "password_hash": [
        ("hash: $2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", None, True),
        ("pbkdf2_sha256$600000$abcdefgh$Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4", None, True),
        ("$2b$12$short", None, False),
    ],
    "secret": [
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE", None, True),
        ("key AKIAIOSFODNN7EXAMPLE end", None, True),
        ("AKIA123", None, False),
    ],
    "password": [
        ("login: admin password=Hopital2023!", None, True),
        ("Hopital2023!", "mot_de_passe", True),
        ("le mot de passe a été changé", None, False),
    ],
    "iban": [
        ("RIB : FR76 3000 6000 0112 3456 7890 189", None, True),
        ("FR7630006000011234567890189", None, True),
        ("FR76 3000 6000 0112 3456 7890 188", None, False),
    ],
    "nir": [
        ("NIR : 2 55 08 14 168 025 38", None, True),
        ("2 55 08 14 168 025 38", None, True),  # the key alone is enough evidence
        ("2 55 08 14 168 025 39", None, False),  # wrong key
        ("2550814168025", "nir", True),  # no key, but a NIR column
        ("2550814168025", None, False),  # no key and no context
        ("2 55 13 14 168 025 38", None, False),  # month 13 is never issued
    ],
    "payment_card": [
        ("CB 4012 8888 8888 1881", None, True),
        ("4012888888881881", None, True),
        ("4012-8888-8888-1882", None, False),  # Luhn fails
        ("35600000000048", None, False),  # a SIRET passes Luhn but has no card prefix
    ],
    "phone": [
        ("Tél. : 06 12 34 56 78", None, True),
        ("+33 1 42 68 53 00", None, True),
        ("02.99.28.43.21", None, True),
        ("06 12 34 56", None, False),
    ],
    "ipp": [
        ("IPP : 00123456", None, True),
        ("00123456", "IPP", True),
        ("00123456", None, False),
    ],
    "nda": [
        ("NDA 2023004567", None, True),
        ("2023004567", "num_sejour", True),
        ("2023004567", None, False),
    ],
    "birth_date": [
        ("Patiente née le 12/03/1965 à Brest", None, True),
        ("19650312", "date_naissance", True),
        ("rendez-vous le 12/03/1965", None, False),  # a date with no birth context
        ("née le 31/02/1965", None, False),  # no such day
    ],
    "cim10": [
        ("Diagnostic principal (CIM-10) : E11.9", None, True),
        ("J45", "code_cim10", True),
        ("la salle E11 au 2e étage", None, False),
        ("Diagnostic principal (CIM-10) : E99.1", None, False),  # no such category (E90 is the last)
        ("Diagnostic : U07.1", None, True),
    ],
    "health_note": [
        ("Diabète de type 2 déséquilibré", "diagnostic", True),
        ("Diabète de type 2 déséquilibré", "commentaire", False),
        ("", "diagnostic", False),
    ],
    "health_term": [
        ("Mme Claire Martin est suivie en hémodialyse depuis 2019", None, True),
        ("Madame Jeanne LHOSTELLIER, séropositive, est revue ce jour", None, True),
        ("Le service de dialyse ouvre lundi", None, False),  # no person near
    ],
    "address": [
        ("Domicile : 12 rue de la Paix, 35000 Rennes", None, True),
        ("4 bis avenue Jean Jaurès", "adresse", True),
        ("12 patients vus ce matin", None, False),
    ],
    "postal_code": [
        ("35000", "code_postal", True),
        ("00123", "cp", False),
        ("35000", None, False),
    ],
    "city": [
        ("Saint-Malo", "ville", True),
        ("35000", "ville", False),
        ("Saint-Malo", None, False),
    ],
    "last_name": [
        ("LE GOFF", "nom", True),
        ("12345", "nom", False),
        ("Le Goff", None, False),
    ],
    "first_name": [
        ("Anne-Sophie", "prénom", True),
        ("#N/A", "prenom", False),
        ("Anne-Sophie", None, False),
    ],
    "person_name": [
        ("Compte rendu de Mme Jeanne LHOSTELLIER, hospitalisée", None, True),
        ("Jean DUPONT", None, True),
        ("Dupont Martin", "nom_prenom", True),
        ("Rue Victor Hugo", None, False),
        ("Le Service de Cardiologie", None, False),
    ],
}


def test_it_has_a_table_for_every_detector():
    assert set(TABLE) == {d.name for d in DETECTORS}


def test_it_documents_every_detector():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "scanner.md").read_text()
    missing = [d.name for d in DETECTORS if f"`{d.name}`" not in docs]
    assert not missing, f"detectors missing from docs/scanner.md: {missing}"


@pytest.mark.parametrize(
    ("detector", "text", "header", "expected"),
    [(name, *case) for name, cases in TABLE.items() for case in cases],
    ids=lambda value: str(value)[:30],
)
def test_it_detects_per_table(detector, text, header, expected):
    assert (detector in detectors_in(text, header)) is expected, found(text, header)


def test_it_validates_nir_vectors_from_other_projects(identifiers):
    for value in identifiers["nir"]["valid"]:
        assert validate_nir(value) is not None, value
    for value in identifiers["nir"]["invalid"]:
        assert validate_nir(value) is None, value


def test_it_computes_the_nir_key_with_corsica(identifiers):
    for case in identifiers["nir_key"]["cases"]:
        body = re.sub(r"\s", "", case["body"])
        if re.search("2[AB]", body) and body[5:7] not in ("2A", "2B"):
            continue  # CNAM replaces 2A/2B anywhere; the department is the only place they can be
        assert nir_key(body) == case["key"], case


def test_it_finds_checked_nirs_in_text_but_not_bare_13_digit_ones(identifiers):
    for value in identifiers["nir"]["valid"]:
        checked = len(re.sub(r"\s", "", value)) == 15
        assert ("nir" in detectors_in(f"assuré {value}")) is True, value
        assert ("nir" in detectors_in(f"référence {value} ok")) is checked, value


def test_it_validates_iban_vectors_from_other_projects(identifiers):
    for value in identifiers["iban"]["valid"]:
        assert validate_iban(value) is not None, value
    for value in identifiers["iban"]["invalid"]:
        valid = validate_iban(value)
        assert valid is None or len(valid.normalized) < len(re.sub(r"\s", "", value)), value


def test_it_validates_card_vectors_except_uatp(identifiers):
    for value in identifiers["card"]["valid"]:
        digits = re.sub(r"\D", "", value)
        if digits.startswith("1"):
            continue  # UATP (15 digits, prefix 1) is left out: it collides with NIRs of men
        assert validate_card(value) is not None, value
    for value in identifiers["card"]["invalid"]:
        assert validate_card(value) is None, value


def test_it_does_not_take_company_numbers_for_cards_or_nirs(identifiers):
    for value in identifiers["siren"]["valid"] + identifiers["siret"]["valid"]:
        assert not detectors_in(f"SIRET {value}") & {"payment_card", "nir"}, value


def test_it_agrees_with_presidio_email_cases(presidio_cases):
    for case in (c for c in presidio_cases if c["recognizer"] == "email"):
        emails = [raw for name, raw in found(case["text"]) if name == "email"]
        assert len(emails) == case["expected_count"], case["text"]


def test_it_finds_presidio_iban_cases_with_spaces_or_none(presidio_cases):
    cases = [c for c in presidio_cases if c["recognizer"] == "iban" and c["expected_count"] == 1 and c.get("expected")]
    hits = sum(1 for c in cases if "iban" in detectors_in(c["text"]))
    assert hits / len(cases) >= 0.9


def test_it_reads_the_one_french_presidio_phone_case(presidio_cases):
    french = [c for c in presidio_cases if c["recognizer"] == "phone" and "+33" in c["text"]]
    assert french and all("phone" in detectors_in(c["text"]) for c in french)


def test_the_fork_servers_warm_up_runs_every_detector():
    """Workers are forked after this sample was detected: every table a detector builds on first use
    is then shared by all of them (fork_preload.py)."""
    from garde.scanner.detect.engine import _WARM_UP, detect_records

    found = {finding.detector for findings in detect_records(list(_WARM_UP)) for finding in findings}
    assert found == {detector.name for detector in DETECTORS}
