"""Exports written in pieces (letters by chunks and groups, joined by pdfium) and the import in batches:
the same content whatever the size of the pieces."""

import zipfile

import pypdfium2 as pdfium

from garde.breach import importer, letters
from garde.breach.models import LeakedRecord, Person, PersonKey, Sighting

from .test_import import run_import, summary


def _pages_text(path) -> list[str]:
    document = pdfium.PdfDocument(path if isinstance(path, bytes) else str(path))
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def test_the_letters_are_the_same_whatever_the_size_of_the_pieces(crisis, breach, users, scans, monkeypatch):
    run_import(breach, scans["first"], users["dpo"])
    run_import(breach, scans["second"], users["dpo"], perimeter="Paie")
    directory = letters.export_dir(breach)
    whole = letters.generate(breach, directory, "whole")
    monkeypatch.setattr(letters, "PDF_CHUNK", 1)  # one letter per chunk, joined by pdfium
    monkeypatch.setattr(letters, "DRAW_GROUP", 1)
    pieces = letters.generate(breach, directory, "pieces")
    people = Person.objects.filter(breach=breach).order_by("reference")
    with_address = [p.reference for p in people if p.address_token]
    without = [p.reference for p in people if not p.address_token]
    assert pieces.letters == whole.letters == len(with_address) > 0 and pieces.missing == without
    pages = _pages_text(pieces.pdf)
    assert pages == _pages_text(whole.pdf)
    text = "\n".join(pages)
    # Every letter, in reference order, then the page of missing addresses naming the others.
    positions = [text.index(reference) for reference in with_address]
    assert positions == sorted(positions)
    assert all(reference in pages[-1] for reference in without)
    assert not any(reference in pages[-1] for reference in with_address)
    assert pieces.csv.read_bytes() == whole.csv.read_bytes()
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        f"{stem}.{kind}" for stem in ("whole", "pieces") for kind in ("pdf", "zip", "csv")
    )  # no piece left


def test_a_letter_laid_out_on_the_spot_matches_the_one_of_the_run(crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    person = Person.objects.filter(breach=breach).exclude(address_token="").order_by("reference").first()
    outcome = letters.generate(breach, letters.export_dir(breach), "run")
    from_run = zipfile.ZipFile(outcome.zip).read(f"lettre-{person.reference}-{person.language}.pdf")
    on_the_spot = letters.pdf(breach, [letters.letter_for(person)], for_mailing=False)
    # The same lines (the run draws the heading after the body, so text extraction meets it later).
    assert [sorted(page.splitlines()) for page in _pages_text(from_run)] == [
        sorted(page.splitlines()) for page in _pages_text(on_the_spot)
    ]


def test_the_import_gives_the_same_file_whatever_the_batch_size(crisis, breach, users, scans, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 4)  # lookups by 1, inserts by 4
    run_import(breach, scans["first"], users["dpo"])
    second = run_import(breach, scans["second"], users["dpo"], perimeter="Paie")
    assert second.persons_merged > 0
    counts = (
        Person.objects.filter(breach=breach).count(),
        PersonKey.objects.filter(breach=breach).count(),
        Sighting.objects.filter(person__breach=breach).count(),
        LeakedRecord.objects.filter(breach=breach).count(),
    )
    assert counts[0] == summary(scans["first"])["persons"]["best"] + second.persons_new
    monkeypatch.setattr(importer, "BATCH", 2000)
    other = type(breach).objects.create(
        crisis=crisis, number=2, title="Même fuite", t0=crisis.t0, created_by=users["dpo"]
    )
    run_import(other, scans["first"], users["dpo"])
    run_import(other, scans["second"], users["dpo"], perimeter="Paie")
    assert counts == (
        Person.objects.filter(breach=other).count(),
        PersonKey.objects.filter(breach=other).count(),
        Sighting.objects.filter(person__breach=other).count(),
        LeakedRecord.objects.filter(breach=other).count(),
    )
