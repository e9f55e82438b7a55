"""CSV files and SQL dumps read column by column (blocks of rows, detect/tables.py) give exactly the
part that reading them row by row gives: the same records, record ids, locators, findings and
outcome. A CSV file Arrow cannot read as csv.reader does (not UTF-8, rows of different lengths, a
row longer than Arrow's block) goes on with csv.reader from where Arrow stopped."""

import dataclasses
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde.scanner.detect import ner, prefilter
from garde.scanner.detect.tables import detect_rows
from garde.scanner.extract import Source, base, choose, tabular
from garde.scanner.model import Record, Rows
from garde.scanner.worker import Config, Task, process_file, read_part

from .helpers import NIR_DUPONT
from .test_fast_paths import CSV_CASES

SHA = "ab" * 32
KEY = b"a-test-key-of-enough-length"


def _config(folder, use_ner=False) -> Config:
    for name in ("parts", "work"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return Config(str(folder / "parts"), str(folder / "work"), KEY, False, 0.5, 600.0, 4 << 30, prefilter.serialized(), ner=use_ner)


class _RowByRow:
    """The csv and sql extractors without their columnar readers, for the time of a `with`."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.index = next(i for i, e in enumerate(base.REGISTRY) if e.name == self.name)
        self.extractor = base.REGISTRY[self.index]
        base.REGISTRY[self.index] = dataclasses.replace(self.extractor, columnar=None)

    def __exit__(self, *exc):
        base.REGISTRY[self.index] = self.extractor


def _part(path, folder, use_ner=False) -> tuple:
    before = ner.enabled()
    try:
        outcome = process_file(Task(str(path), path.name, SHA), _config(folder, use_ner))
    finally:
        ner.configure(before)
    part = read_part(folder / "parts", SHA, outcome.get("part"))
    records = [row for batch in part.record_batches() for row in batch.to_pylist()]
    findings = [row for batch in part.finding_batches() for row in batch.to_pylist()]
    essentials = {key: outcome[key] for key in ("extractor", "records", "findings", "error")}
    return essentials, records, findings


def _both(path, folder, use_ner=False) -> tuple:
    """(column by column, row by row): the parts of the same file."""
    columnar = _part(path, folder / "columnar", use_ner)
    with _RowByRow(choose(Source(path, path.name)).name):
        rows = _part(path, folder / "rows", use_ner)
    return columnar, rows


def _items(path) -> list:
    source = Source(path, path.name)
    return list(choose(source).scan(source))


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_a_csv_read_column_by_column_gives_the_part_read_row_by_row(case, tmp_path):
    delimiter, text = CSV_CASES[case]
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    columnar, rows = _both(path, tmp_path)
    assert columnar == rows
    assert columnar[0]["records"] > 0 and columnar[0]["error"] is None


def _table(rows: int, seed: int) -> str:
    """A patient table with blank cells, blank lines and repeated values, over several blocks."""
    generator = random.Random(seed)
    lines = ["IPP;Nom;Prénom;Date de naissance;NIR;Téléphone;Ville;Commentaire;Service"]
    for number in range(rows):
        if generator.random() < 0.02:
            lines.append("")
            continue
        lines.append(";".join([
            f"{100000 + number}",
            generator.choice(["DUPONT", "MARTIN", "LE GOFF", "", "  "]),
            generator.choice(["Jean", "Claire", "Yann"]),
            f"{generator.randint(1, 28):02d}/{generator.randint(1, 12):02d}/19{generator.randint(30, 99)}",
            generator.choice([NIR_DUPONT, "", "1234"]),
            generator.choice(["06 12 34 56 78", "02 99 28 43 21", ""]),
            generator.choice(["Rennes", "Brest", "Quimper"]),
            generator.choice(["", "RAS", "revu par le Dr Jean Martin", "mail: jean.martin@chu-rennes.fr", '"a; b"']),
            generator.choice(["cardiologie", "urgences"]),
        ]))
    return "\n".join(lines) + "\n"


def test_a_table_of_several_blocks_gives_the_same_part_and_comes_as_rows(tmp_path):
    path = tmp_path / "patients.csv"
    path.write_text(_table(2600, 1), encoding="utf-8")
    items = _items(path)
    assert items and all(isinstance(item, Rows) for item in items)
    assert [len(item) for item in items] == [1024, 1024, 552]  # the header is not a row of Rows
    columnar, rows = _both(path, tmp_path)
    assert columnar == rows
    assert columnar[0]["records"] > 2000
    assert {row["detector"] for row in columnar[2]} >= {"ipp", "last_name", "nir", "phone", "email", "birth_date"}


def test_free_text_cells_give_the_same_names_with_ner(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text(
        "id;commentaire\n1;Patient vu ce matin par le docteur Jean Martin, à revoir.\n2;RAS\n"
        "3;Appel de Mme Claire Dubois pour son fils Yann.\n",
        encoding="utf-8",
    )
    columnar, rows = _both(path, tmp_path, use_ner=True)
    assert columnar == rows
    assert [row["locator"] for row in columnar[1]] == ["row 2", "row 4"]  # row 3 holds nothing personal


def test_a_table_without_personal_data_builds_no_record(tmp_path):
    path = tmp_path / "labo.csv"
    lines = ["id_analyse;examen;resultat;unite;horodatage"]
    lines += [f"{n};HBA1C;{n % 97}.{n % 10};mmol/l;2023-06-{n % 28 + 1:02d}T12:{n % 60:02d}" for n in range(3000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = _items(path)
    counted = [detect_rows(item) for item in items]
    assert sum(count for count, _ in counted) == 3000
    assert all(detected == [] for _, detected in counted)
    columnar, rows = _both(path, tmp_path)
    assert columnar == rows == ({"extractor": "csv", "records": 0, "findings": 0, "error": None}, [], [])


def test_arrow_stops_at_a_ragged_row_and_csv_reader_goes_on_from_there(tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "ARROW_BLOCK_BYTES", 512)
    text = _table(60, 2)
    lines = text.splitlines()
    lines[45] += ";une cellule de trop"  # Arrow refuses a row wider than the first
    lines[50] = f"DUPONT;{'x' * 700};{NIR_DUPONT}"  # and a row longer than its block
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = _items(path)
    assert all(isinstance(item, Rows) for item in items)
    assert items[-1].first_row + len(items[-1]) - 1 == 61
    columnar, rows = _both(path, tmp_path)
    assert columnar == rows
    assert "row 51" in {row["locator"] for row in columnar[1]}


def test_a_csv_that_is_not_utf8_is_read_by_csv_reader(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(f"Nom;Prénom;NIR\nLÉVÊQUE;Hélène;{NIR_DUPONT}\n".encode("cp1252"))
    items = _items(path)
    assert items and all(isinstance(item, Rows) for item in items)  # read by csv.reader, detected in blocks
    columnar, rows = _both(path, tmp_path)
    assert columnar == rows
    assert {row["detector"] for row in columnar[2]} == {"last_name", "first_name", "nir"}


_PIECES = ["a", "é", " ", '"', ";", "\n", "\r\n", "\r", "Jean", "DUPONT", NIR_DUPONT, "06 12 34 56 78", "jean@chu.fr", "née le 12/03/1961"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=40))
def test_any_csv_text_gives_the_same_part_both_ways(tmp_path_factory, pieces):
    folder = tmp_path_factory.mktemp("random")
    path = folder / "random.csv"
    path.write_text("Nom;Prénom;Note\n" + "".join(pieces), encoding="utf-8")
    columnar, rows = _both(path, folder)
    assert columnar == rows


def test_a_byte_that_is_not_utf8_past_the_head_hands_over_to_csv_reader(tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "ARROW_BLOCK_BYTES", 16_384)
    lines = _table(3000, 3).encode("utf-8").split(b"\n")
    lines[2500] = b"DUPONT;J\xe9r\xf4me;" + NIR_DUPONT.encode()  # Windows-1252 past the 64 KiB the encoding is guessed from
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\n".join(lines))
    items = _items(path)
    assert all(isinstance(item, Rows) for item in items)
    columnar, rows = _both(path, tmp_path)
    assert columnar == rows
    assert "row 2501" in {row["locator"] for row in columnar[1]}


SQL_DUMP = (
    "-- MySQL dump\nCREATE TABLE `patient` (\n  `id` int NOT NULL,\n  `nom` varchar(50),\n  `prenom` varchar(50),\n"
    "  `nir` varchar(20),\n  `email` varchar(80),\n  PRIMARY KEY (`id`)\n);\n"
    "INSERT INTO `patient` VALUES (1,'D''Artagnan','Jean','{nir}','d@example.fr'),(NULL,NULL,NULL,NULL,NULL),"
    "(3,'MARTIN','Claire',NULL,'  '),(4,'LE GOFF','Yann','{nir}','y@chu.fr','une de trop'),(),(5,'DUPONT','Anne',NULL,NULL);\n"
    "INSERT INTO `analyse` (id, examen, resultat) VALUES {analyses};\n"
    "COPY public.users (login, email, password) FROM stdin;\n{users}\\.\n"
    "COPY public.audit (id, message) FROM stdin;\n1\\tconnexion de jean.dupont@chu.fr\n2\\t\\N\n"
)


def test_an_sql_dump_read_in_blocks_gives_the_part_read_row_by_row(tmp_path):
    analyses = ",".join(f"({n},'HBA1C','{n % 97}.{n % 10}')" for n in range(2500))
    users = "".join(f"user{n}\\t{'u' + str(n) + '@chu.fr' if n % 3 else '\\N'}\\t$2b$12${'a' * 53}\n" for n in range(1500))
    path = tmp_path / "dump.sql"
    path.write_text(SQL_DUMP.format(nir=NIR_DUPONT, analyses=analyses, users=users), encoding="utf-8")
    items = _items(path)
    assert sum(1 for item in items if isinstance(item, Rows)) >= 8 and any(isinstance(item, Record) for item in items)
    columnar, rows = _both(path, tmp_path)
    assert columnar == rows
    locators = [row["locator"] for row in columnar[1]]
    assert locators[:4] == ["table patient row 1", "table patient row 3", "table patient row 4", "table patient row 6"]
    assert "table users row 1500" in locators and "table audit row 1" in locators
    assert not any(locator.startswith("table analyse") for locator in locators)


def test_the_synthetic_corpus_sql_dump_gives_the_same_part(tmp_path):
    from garde.scanner.corpus import write_corpus

    write_corpus(tmp_path / "c", 200, 5)
    (path,) = (tmp_path / "c" / "dump").rglob("*.sql")
    columnar, rows = _both(path, tmp_path)
    assert columnar == rows and columnar[0]["records"] > 50


def test_a_spreadsheet_read_in_blocks_gives_the_part_read_row_by_row(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    import datetime

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Patients"
    sheet.append([None])
    sheet.append(["IPP", "Nom", "Prénom", "Date de naissance", "NIR", "Montant"])
    for number in range(1500):
        if number % 97 == 0:
            sheet.append([])
            continue
        sheet.append([100000 + number, ["DUPONT", "MARTIN", None][number % 3], "Jean", datetime.datetime(1965, 3, 12),
                      NIR_DUPONT if number % 5 == 0 else None, 12.5 if number % 2 else 30.0])
    other = book.create_sheet("Stock")
    other.append(["article", "quantite"])
    for number in range(300):
        other.append([f"compresses {number % 7}", number])
    path = tmp_path / "export.xlsx"
    book.save(path)
    items = _items(path)
    assert all(isinstance(item, Rows) for item in items) and len(items) >= 3
    columnar, rows = _both(path, tmp_path)
    assert columnar == rows
    locators = [row["locator"] for row in columnar[1]]
    assert locators[0] == "sheet Patients row 4" and not any("Stock" in locator for locator in locators)
