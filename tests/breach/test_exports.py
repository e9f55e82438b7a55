"""Exports written in pieces (letters PDF by chunks, ZIP of one PDF per person) and the import in batches:
the same content whatever the size of the pieces."""

import csv
import io
import stat
import zipfile

import pypdfium2 as pdfium
from django.urls import reverse

from garde.accounts.models import AccessLog
from garde.breach import importer, letters
from garde.breach.models import LeakedRecord, Person, PersonKey, Sighting

from .test_import import run_import, summary
from .test_persons import _with_reason


def _pages_text(path) -> list[str]:
    document = pdfium.PdfDocument(str(path))
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def test_the_letters_pdf_joins_its_chunks_in_order_and_ends_with_the_missing_addresses(crisis, breach, users, scans,
                                                                                         settings, monkeypatch):
    run_import(breach, scans["first"], users["dpo"])
    run_import(breach, scans["second"], users["dpo"], perimeter="Paie")
    monkeypatch.setattr(letters, "PDF_CHUNK", 1)  # one WeasyPrint document per letter, joined by pdfium
    path, printed = letters.write_letters_pdf(breach, letters.export_dir(breach) / "lettres.pdf")
    people = Person.objects.filter(breach=breach).order_by("reference")
    with_address = [p.reference for p in people if p.address_token]
    without = [p.reference for p in people if not p.address_token]
    assert printed == len(with_address) > 0 and without
    pages = _pages_text(path)
    text = "\n".join(pages)
    # Every letter, in reference order, then the page of missing addresses naming the others.
    positions = [text.index(reference) for reference in with_address]
    assert positions == sorted(positions)
    assert all(reference in pages[-1] for reference in without)
    assert not any(reference in pages[-1] for reference in with_address)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["lettres.pdf"]  # the chunks are gone


def test_the_mailing_csv_is_written_row_by_row(crisis, breach, users, scans, settings):
    run_import(breach, scans["first"], users["dpo"])
    path, rows = letters.write_mailing_csv(breach, letters.export_dir(breach) / "publipostage.csv", limit=2)
    lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows == 2 and len(lines) == 3 and lines[0] == letters.CSV_COLUMNS
    assert [line[0] for line in lines[1:]] == ["P0000001", "P0000002"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_zip_holds_one_letter_per_person_and_lists_missing_addresses(as_role, crisis, breach, users, scans,
                                                                         settings):
    run_import(breach, scans["first"], users["dpo"])
    client = _with_reason(as_role("dpo"), crisis, breach)
    response = client.get(reverse("breach:letters_pdf", args=[crisis.pk, breach.pk]) + "?one=zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    people = Person.objects.filter(breach=breach)
    expected = {f"lettre-{p.reference}-{p.language}.pdf" for p in people if p.address_token}
    assert set(archive.namelist()) == expected | {"adresses-manquantes.csv"}
    for name in expected:
        assert archive.read(name).startswith(b"%PDF")
    missing = archive.read("adresses-manquantes.csv").decode("utf-8-sig").splitlines()[1:]
    assert sorted(line.split(";")[0] for line in missing) == sorted(p.reference for p in people if not p.address_token)
    export = settings.DATA_DIR / "breach-exports" / str(breach.pk) / f"lettres-{breach.number}.zip"
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    assert AccessLog.objects.filter(user=users["dpo"], action="breach_letters_zip").exists()


def test_the_zip_is_for_the_dpo_and_the_director_only(as_role, crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    client = _with_reason(as_role("scribe"), crisis, breach)
    assert client.get(reverse("breach:letters_pdf", args=[crisis.pk, breach.pk]) + "?one=zip").status_code == 403


def test_the_import_gives_the_same_file_whatever_the_batch_size(crisis, breach, users, scans, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 4)  # lookups by 1, inserts by 4
    run_import(breach, scans["first"], users["dpo"])
    second = run_import(breach, scans["second"], users["dpo"], perimeter="Paie")
    assert second.persons_merged > 0
    counts = (Person.objects.filter(breach=breach).count(), PersonKey.objects.filter(breach=breach).count(),
              Sighting.objects.filter(person__breach=breach).count(), LeakedRecord.objects.filter(breach=breach).count())
    assert counts[0] == summary(scans["first"])["persons"]["best"] + second.persons_new
    monkeypatch.setattr(importer, "BATCH", 2000)
    other = type(breach).objects.create(crisis=crisis, number=2, title="Même fuite", t0=crisis.t0,
                                        created_by=users["dpo"])
    run_import(other, scans["first"], users["dpo"])
    run_import(other, scans["second"], users["dpo"], perimeter="Paie")
    assert counts == (Person.objects.filter(breach=other).count(), PersonKey.objects.filter(breach=other).count(),
                      Sighting.objects.filter(person__breach=other).count(),
                      LeakedRecord.objects.filter(breach=other).count())
