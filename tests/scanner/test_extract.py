"""Extractors: each format gives records whose fields carry their column or field meaning."""

from email.message import EmailMessage

import pytest

from garde.scanner.extract import REGISTRY, Source, choose
from garde.scanner.extract.tabular import sniff_delimiter
from garde.scanner.model import Child, Record

from .helpers import HL7_MESSAGE, PATIENTS_CSV


def extract(tmp_path, name: str, content: str | bytes, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    source = Source(path, name)
    chosen = choose(source)
    return chosen.name, list(chosen.run(source))


def fields(record: Record) -> dict:
    return {f.name: f.value for f in record.fields}


def test_it_declares_extensions_or_mime_types_for_every_extractor():
    for extractor in REGISTRY:
        assert extractor.extensions and extractor.mime_types, extractor.name


@pytest.mark.parametrize(
    ("sample", "delimiter"), [("a;b;c\n1;2;3\n", ";"), ("a,b\n1,2\n", ","), ("a\tb\n1\t2\n", "\t"), ("a|b|c\n1|2|3\n", "|")]
)
def test_it_sniffs_the_csv_delimiter(sample, delimiter):
    assert sniff_delimiter(sample) == delimiter


def test_it_reads_one_record_per_csv_row_with_the_header(tmp_path):
    name, records = extract(tmp_path, "export.csv", PATIENTS_CSV, encoding="cp1252")
    assert name == "csv" and [r.locator for r in records] == ["row 2", "row 3", "row 4"]
    assert fields(records[0])["Prénom"] == "Jean"


def test_it_reads_hl7_segments_into_fields_with_meaning(tmp_path):
    name, records = extract(tmp_path, "message.dat", HL7_MESSAGE)
    assert name == "hl7"
    meanings = {f.meaning: f.value for f in records[0].fields}
    assert meanings["last_name"] == "DUPONT" and meanings["birth_date"] == "19650312" and meanings["ipp"] == "00123"
    assert records[1].locator == "message 1 NK1 1" and {f.value for f in records[1].fields} == {"DUPONT", "MARIE"}


def test_it_reads_sql_inserts_with_column_names(tmp_path):
    dump = (
        "-- MySQL dump\nCREATE TABLE `patient` (\n  `id` int NOT NULL,\n  `nom` varchar(50),\n  `email` varchar(80),\n"
        "  PRIMARY KEY (`id`)\n);\n"
        "INSERT INTO `patient` VALUES (1,'D''Artagnan','d@example.fr'),(2,'Martin',NULL);\n"
        "COPY public.users (login, password) FROM stdin;\nadmin\t$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n\\.\n"
    )
    _, records = extract(tmp_path, "dump.sql", dump)
    assert [r.locator for r in records] == ["table patient row 1", "table patient row 2", "table users row 1"]
    assert fields(records[0]) == {"id": "1", "nom": "D'Artagnan", "email": "d@example.fr"}
    assert fields(records[2])["password"].startswith("$2b$")


def test_it_reads_json_objects_as_records(tmp_path):
    document = '{"hopital": "CHU", "patients": [{"nom": "Dupont", "contact": {"email": "j@d.fr"}}, {"nom": "Martin"}]}'
    _, records = extract(tmp_path, "api.json", document)
    assert [r.locator for r in records] == ["$", "$.patients[0]", "$.patients[1]"]
    assert fields(records[1]) == {"nom": "Dupont", "email": "j@d.fr"}


def test_it_hands_back_email_attachments(tmp_path):
    message = EmailMessage()
    message["From"] = "Jean Dupont <jean.dupont@example.fr>"
    message["To"] = "secretariat@chu.example.fr"
    message["Subject"] = "Résultats"
    message.set_content("Bonjour, ci-joint mes résultats.")
    message.add_attachment(b"IPP;Nom\n1;Dupont\n", maintype="text", subtype="csv", filename="resultats.csv")
    _, produced = extract(tmp_path, "mail.eml", message.as_bytes())
    children = [p for p in produced if isinstance(p, Child)]
    assert [c.name for c in children] == ["resultats.csv"]
    assert any("jean.dupont@example.fr" in f.value for r in produced if isinstance(r, Record) for f in r.fields)


def test_it_reads_html_text_without_scripts(tmp_path):
    _, records = extract(tmp_path, "page.html", "<html><script>var x='Jean Dupont'</script><p>Mme Claire Martin</p></html>")
    assert "Claire Martin" in records[0].fields[0].value and "var x" not in records[0].fields[0].value


def test_it_detects_latin1_text(tmp_path):
    _, records = extract(tmp_path, "lettre.txt", "Née le 01/02/1980 à Saint-Brieuc, Mme Hélène Le Bihan, élève", encoding="cp1252")
    assert "Hélène" in records[0].fields[0].value
