"""The speed-ups of the identifier pass give exactly what the reference path gives: fields detected
once per distinct value in a batch, the prefilter's offsets computed from the lengths, and CSV rows
turned into records without converting their cells."""

import csv
import io
import random

import pytest

from garde.scanner.corpus import write_corpus
from garde.scanner.detect import detect_record_reference, detect_records, prefilter
from garde.scanner.extract import Source, choose
from garde.scanner.extract.tabular import table_records
from garde.scanner.model import Field, Record
from garde.scanner.worker import BATCH_CHARS, BATCH_RECORDS

from .helpers import NIR_DUPONT

pytestmark = pytest.mark.skipif(not prefilter.available(), reason="hyperscan is not installed")


def _batched(records: list[Record]) -> list[list]:
    """detect_records over batches cut as the worker cuts them."""
    found, batch, chars = [], [], 0
    for record in records:
        batch.append(record)
        chars += sum(len(field.value) for field in record.fields)
        if chars > BATCH_CHARS or len(batch) >= BATCH_RECORDS:
            found += detect_records(batch)
            batch, chars = [], 0
    return found + (detect_records(batch) if batch else [])


def _assert_same(records: list[Record]) -> int:
    fast = _batched(records)
    reference = [detect_record_reference(record) for record in records]
    mismatches = [(r.locator, f, g) for r, f, g in zip(records, fast, reference, strict=True) if f != g]
    assert not mismatches, mismatches[:3]
    return sum(map(len, fast))


def _records(path, name=None) -> list[Record]:
    source = Source(path, name or path.name)
    chosen = choose(source)
    return [] if chosen is None else [r for r in chosen.run(source) if isinstance(r, Record)]


def test_the_fast_path_finds_what_the_reference_finds_on_the_synthetic_corpus(tmp_path):
    write_corpus(tmp_path / "c", 150, 11)
    total, kinds = 0, set()
    for path in sorted(p for p in (tmp_path / "c" / "dump").rglob("*") if p.is_file()):
        records = _records(path)
        if records:
            kinds.add(choose(Source(path, path.name)).name)
            total += _assert_same(records)
    assert {"csv", "text", "hl7", "sql", "json"} <= kinds
    assert total > 1000


def _rows(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


CSV_CASES = {
    "quoted newlines": (
        ";",
        'Nom;Prénom;Commentaire;NIR\nDUPONT;Jean;"revu le 3 mars,\nrappeler au 06 12 34 56 78";'
        f'{NIR_DUPONT}\nMARTIN;Claire;"ligne 1\n\nligne 3";\n',
    ),
    "ragged rows": (
        ",",
        "nom,prenom\nDUPONT,Jean,06 12 34 56 78,extra\nMARTIN\n,,,\nLE GOFF,Yann,,jean@chu.fr\n",
    ),
    "bom": (";", "\ufeffIPP;Nom;Date de naissance\n00123456;DUPONT;12/03/1965\n"),
    "tab": (
        "\t",
        "IPP\tNom\tTéléphone\n00123456\tDUPONT\t06 12 34 56 78\n00123457\tMARTIN\t02 99 28 43 21\n",
    ),
    "pipe": ("|", "nom|prenom|ville\nDUPONT|Jean|Rennes\nDUPONT|Jean|Rennes\n"),
    "empty header cells": (
        ";",
        "Nom;;Téléphone;\nDUPONT;12 rue de la Paix;06 12 34 56 78;FR76 3000 6000 0112 3456 7890 189\n",
    ),
    "no header": (";", f"DUPONT;Jean;{NIR_DUPONT};06 12 34 56 78\nMARTIN;Claire;;jean@chu.fr\n"),
    "blank lines first": (";", "\n ; \nNom;Prénom\nDUPONT;Jean\n"),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_csv_rows_become_the_same_records_and_findings(case, tmp_path):
    delimiter, text = CSV_CASES[case]
    path = tmp_path / f"{case.replace(' ', '_')}.csv"
    path.write_text(text, encoding="utf-8")
    records = _records(path)
    # The same rows through the conversion path (cells of any type) give the same records.
    converted = list(table_records(_rows(text.lstrip("\ufeff"), delimiter)))
    assert records == converted
    assert records, "every case has at least one record"
    _assert_same(records)


def test_csv_edge_cases_read_as_a_table(tmp_path):
    delimiter, text = CSV_CASES["quoted newlines"]
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8")
    records = _records(path)
    assert [r.locator for r in records] == ["row 2", "row 3"]  # a quoted newline does not start a row
    assert records[0].fields[2].value == "revu le 3 mars,\nrappeler au 06 12 34 56 78"
    detected = detect_records(records)
    assert {f.detector for f in detected[0]} >= {"last_name", "first_name", "nir", "phone"}

    delimiter, text = CSV_CASES["ragged rows"]
    path.write_text(text, encoding="utf-8")
    records = _records(path)
    assert [f.name for f in records[0].fields] == ["nom", "prenom", None, None]
    assert [r.locator for r in records] == ["row 2", "row 3", "row 5"]  # row 4 holds only empty cells

    path.write_text(CSV_CASES["bom"][1], encoding="utf-8")
    assert [f.name for f in _records(path)[0].fields] == ["IPP", "Nom", "Date de naissance"]

    path.write_text(CSV_CASES["empty header cells"][1], encoding="utf-8")
    assert [f.name for f in _records(path)[0].fields] == ["Nom", None, "Téléphone", None]


def test_equal_fields_of_a_batch_are_detected_once_with_the_same_findings():
    generator = random.Random(5)
    values = [
        "Rennes",
        "DUPONT",
        NIR_DUPONT,
        "06 12 34 56 78",
        "12/03/1965",
        "E11.9",
        "x",
        "  ",
        "Jean DUPONT",
    ]
    headers = [None, "ville", "nom", "nir", "telephone", "date_naissance", "diagnostic", "commentaire"]
    records = [
        Record(
            f"row {n}",
            [
                Field(generator.choice(headers), generator.choice(values))
                for _ in range(generator.randint(1, 6))
            ],
        )
        for n in range(2000)
    ]
    records.append(Record("meaning", [Field("x", "DUPONT", meaning="last_name"), Field("x", "DUPONT")]))
    found = detect_records(records)
    assert found == [detect_record_reference(record) for record in records]
    # Each record has its own list, whatever its fields share with others.
    assert len({id(findings) for findings in found}) == len(found)
    assert [f.detector for f in found[-1]] == ["last_name"]


def test_prefilter_offsets_hold_for_ascii_and_non_ascii_batches():
    ascii_values = ["tel 06 12 34 56 78", "", "jean@chu.fr", "IPP 00123456"]
    mixed = ["Hélène 06 12 34 56 78", "\udcff 06 12 34 56 78", "jean@chu.fr", "€€ IPP 00123456", ""]
    for values in (ascii_values, mixed, ascii_values + mixed):
        records = [Record("v", [Field(None, value)]) for value in values]
        assert detect_records(records) == [detect_record_reference(record) for record in records]
    hits = prefilter.scan_values(mixed)
    for index in (0, 1):  # character offsets, not byte offsets: the window holds where the number starts
        low, high = hits[index].windows["phone"][0]
        assert low <= mixed[index].index("06") < high
    assert hits[4] is None


@pytest.mark.parametrize("prefix", ["0", "+33 ", "0033 ", "+33 (0)", "+33(0) "])
def test_french_phone_numbers_get_libphonenumbers_verdict_without_calling_it_per_number(prefix):
    """National and international forms of a French number are checked by their first digits (one
    libphonenumber call per prefix): the same verdict and E.164 form as libphonenumber itself."""
    import phonenumbers

    from garde.scanner.detect.validators import validate_phone

    numbers = random.Random(prefix)
    for _ in range(400):
        digits = str(numbers.randint(1, 9)) + "".join(numbers.choice("0123456789") for _ in range(8))
        text = prefix + digits[0] + " " + " ".join(digits[i : i + 2] for i in range(1, 9, 2))
        parsed = phonenumbers.parse(text, "FR")
        expected = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) if phonenumbers.is_valid_number(parsed) else None
        found = validate_phone(text)
        assert (found.normalized if found else None) == expected, text
