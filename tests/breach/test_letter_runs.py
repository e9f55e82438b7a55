"""Letters as a background task: what the DPO starts, follows and downloads, and what each person gets."""

import csv
import io
import stat
import zipfile

import pypdfium2 as pdfium
import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from garde.accounts.models import AccessLog
from garde.breach import letters, persons
from garde.breach.models import LetterRun, Person

from .test_import import run_import
from .test_persons import _with_reason


@pytest.fixture(autouse=True)
def pages_in_english(client):
    """Pages in the source language, whatever the state of the French catalogue."""
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"


def pdf_pages(content: bytes) -> list[str]:
    document = pdfium.PdfDocument(content)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def start_run(client, crisis, breach, language="") -> tuple[LetterRun, object]:
    response = client.post(
        reverse("breach:letter_run_new", args=[crisis.pk, breach.pk]), {"language": language}
    )
    return LetterRun.objects.filter(breach=breach).first(), response


def download(client, crisis, breach, run, kind):
    return client.get(reverse("breach:letter_download", args=[crisis.pk, breach.pk, run.pk, kind]))


def content(response) -> bytes:
    return b"".join(response.streaming_content)


def both_scans(breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    run_import(breach, scans["second"], users["dpo"], perimeter="Paie")


def test_it_generates_the_letters_in_the_background_and_offers_the_three_files(
    as_role, crisis, breach, users, scans, settings
):
    both_scans(breach, users, scans)
    client = _with_reason(as_role("dpo"), crisis, breach, "courriers aux patients")
    run, response = start_run(client, crisis, breach)
    assert response.status_code == 302
    assert response["Location"] == reverse("breach:letter_run", args=[crisis.pk, breach.pk, run.pk])
    people = Person.objects.filter(breach=breach).order_by("reference")
    with_address = [p for p in people if p.address_token]
    without = [p.reference for p in people if not p.address_token]
    assert with_address and without
    assert (run.status, run.total, run.done, run.letters) == (
        "done",
        len(people),
        len(people),
        len(with_address),
    )
    assert run.requested_by == users["dpo"] and run.reason == "courriers aux patients"

    page = client.get(response["Location"]).content.decode()
    assert "100 %" in page
    for reference in without:  # listed on the run's page, never silently skipped
        assert reference in page
    for kind in ("pdf", "zip", "csv"):
        assert reverse("breach:letter_download", args=[crisis.pk, breach.pk, run.pk, kind]) in page

    merged = pdf_pages(content(download(client, crisis, breach, run, "pdf")))
    archive = zipfile.ZipFile(io.BytesIO(content(download(client, crisis, breach, run, "zip"))))
    singles = {
        p.reference: pdf_pages(archive.read(f"lettre-{p.reference}-{p.language}.pdf")) for p in with_address
    }
    assert set(archive.namelist()) == {f"lettre-{p.reference}-{p.language}.pdf" for p in with_address} | {
        "adresses-manquantes.csv"
    }
    # The merged PDF is every letter, in reference order, page for page, then the page of missing addresses.
    assert len(merged) == sum(len(pages) for pages in singles.values()) + 1
    assert merged[:-1] == [text for p in with_address for text in singles[p.reference]]
    assert all(reference in merged[-1] for reference in without)
    missing_rows = archive.read("adresses-manquantes.csv").decode("utf-8-sig").splitlines()[1:]
    assert sorted(row.split(";")[0] for row in missing_rows) == sorted(without)

    rows = list(
        csv.DictReader(
            io.StringIO(content(download(client, crisis, breach, run, "csv")).decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert [row["reference"] for row in rows] == [p.reference for p in people]
    assert sorted(row["reference"] for row in rows if row["status"] == "address missing") == sorted(without)
    assert not any("IBAN" in str(row) or "diab" in str(row).lower() for row in rows)

    exports = list((settings.DATA_DIR / "breach-exports" / str(breach.pk)).iterdir())
    assert sorted(path.suffix for path in exports) == [".csv", ".pdf", ".zip"]  # no work file left
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in exports)
    logged = AccessLog.objects.filter(user=users["dpo"], reason="courriers aux patients")
    assert {
        "breach_letters_start",
        "breach_letters_run",
        "breach_letters_pdf",
        "breach_letters_zip",
        "breach_letters_csv",
    } <= set(logged.values_list("action", flat=True))
    assert str(run.pk) in logged.get(action="breach_letters_start").target


def test_each_persons_letter_says_what_leaked_about_them_and_nothing_about_others(
    as_role, crisis, breach, users, scans
):
    both_scans(breach, users, scans)
    client = _with_reason(as_role("director"), crisis, breach)

    def letter_of(person) -> str:
        return "\n".join(pdf_pages(archive.read(f"lettre-{person.reference}-fr.pdf")))

    bertrand = Person.objects.get(breach=breach, financial=True)
    le_goff = next(
        p
        for p in Person.objects.filter(breach=breach)
        if letters.identity_of(p).get("last_name") == "LE GOFF"
    )
    persons.set_address(
        le_goff,
        {
            "name": "Yann LE GOFF",
            "lines": "3 quai de l'Odet",
            "postal_code": "29000",
            "city": "Quimper",
            "country": "",
        },
        "fr",
        users["dpo"],
        "adresse connue",
    )
    persons.set_address(
        bertrand,
        {"lines": "5 rue des Lilas", "postal_code": "35000", "city": "Rennes"},
        "fr",
        users["dpo"],
        "adresse connue",
    )
    run, _response = start_run(client, crisis, breach)
    archive = zipfile.ZipFile(io.BytesIO(content(download(client, crisis, breach, run, "zip"))))
    to_bertrand, to_le_goff = letter_of(bertrand), letter_of(le_goff)
    assert "coordonnées bancaires (IBAN)" in to_bertrand and "Sophie BERTRAND" in to_bertrand
    assert f"Référence : {bertrand.reference}" in to_bertrand
    assert "IBAN" not in to_le_goff and "BERTRAND" not in to_le_goff and bertrand.reference not in to_le_goff
    assert "codes de diagnostic" in to_le_goff and "diagnostic" not in to_bertrand
    assert "Yann LE GOFF" in to_le_goff and "29000 Quimper" in to_le_goff


def test_it_writes_every_letter_in_the_language_asked(as_role, crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    client = _with_reason(as_role("dpo"), crisis, breach)
    run, _response = start_run(client, crisis, breach, language="en")
    assert (run.status, run.language) == ("done", "en")
    archive = zipfile.ZipFile(io.BytesIO(content(download(client, crisis, breach, run, "zip"))))
    names = [name for name in archive.namelist() if name.endswith(".pdf")]
    assert names and all(name.endswith("-en.pdf") for name in names)
    text = "\n".join(pdf_pages(archive.read(names[0])))
    assert "Dear Sir or Madam" in text and "Reference: " in text and "Madame" not in text


def test_it_lays_out_whole_a_letter_whose_address_helvetica_cannot_write(
    crisis, breach, users, scans, settings
):
    run_import(breach, scans["first"], users["dpo"])
    person = Person.objects.filter(breach=breach).order_by("reference").first()
    persons.set_address(
        person,
        {
            "name": "Łukasz WAŁĘSA",
            "lines": "ul. Długa 1",
            "postal_code": "80-831",
            "city": "Gdańsk",
            "country": "Pologne",
        },
        "fr",
        users["dpo"],
        "adresse connue",
    )
    outcome = letters.generate(breach, letters.export_dir(breach), "lettres")
    archive = zipfile.ZipFile(outcome.zip)
    text = "\n".join(pdf_pages(archive.read(f"lettre-{person.reference}-fr.pdf")))
    assert "Łukasz WAŁĘSA" in text and "80-831 Gdańsk" in text and f"Référence : {person.reference}" in text


def test_it_reports_progress_chunk_by_chunk(crisis, breach, users, scans, settings, monkeypatch):
    both_scans(breach, users, scans)
    monkeypatch.setattr(letters, "PDF_CHUNK", 2)
    seen = []
    outcome = letters.generate(
        breach,
        letters.export_dir(breach),
        "lettres",
        progress=lambda *done_total: seen.append(done_total),
        processes=1,
    )
    total = Person.objects.filter(breach=breach).count()
    assert seen[0] == (0, total) and seen[-1] == (total, total)
    assert [done for done, _total in seen] == sorted(done for done, _total in seen) and len(seen) > 2
    assert outcome.letters == Person.objects.filter(breach=breach).exclude(address_token="").count()


def test_worker_processes_make_the_same_letters_as_one_process(
    crisis, breach, users, scans, settings, monkeypatch
):
    both_scans(breach, users, scans)
    monkeypatch.setattr(letters, "PDF_CHUNK", 2)
    directory = letters.export_dir(breach)
    alone = letters.generate(breach, directory, "alone", processes=1)
    pooled = letters.generate(breach, directory, "pooled", processes=2)
    assert pdf_pages(pooled.pdf.read_bytes()) == pdf_pages(alone.pdf.read_bytes())
    assert pooled.csv.read_bytes() == alone.csv.read_bytes()
    assert zipfile.ZipFile(pooled.zip).namelist() == zipfile.ZipFile(alone.zip).namelist()


def test_a_failed_run_says_why_and_offers_no_file(
    as_role, crisis, breach, users, scans, settings, monkeypatch
):
    run_import(breach, scans["first"], users["dpo"])

    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(letters, "render_chunk", broken)
    client = _with_reason(as_role("dpo"), crisis, breach)
    run, response = start_run(client, crisis, breach)
    assert run.status == "failed" and "No space left on device" in run.error
    page = client.get(response["Location"]).content.decode()
    assert "could not be generated" in page and "No space left on device" in page
    assert reverse("breach:letter_download", args=[crisis.pk, breach.pk, run.pk, "pdf"]) not in page
    refused = download(client, crisis, breach, run, "pdf")
    assert refused.status_code == 409 and b"not ready" in refused.content
    assert list((settings.DATA_DIR / "breach-exports" / str(breach.pk)).iterdir()) == []


def test_it_refuses_unknown_runs_and_unfinished_downloads(as_role, crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    client = _with_reason(as_role("dpo"), crisis, breach)
    queued = LetterRun.objects.create(breach=breach, requested_by=users["dpo"], reason="lettres")
    unknown = reverse(
        "breach:letter_run", args=[crisis.pk, breach.pk, "00000000-0000-0000-0000-000000000000"]
    )
    assert client.get(unknown).status_code == 404
    assert download(client, crisis, breach, queued, "exe").status_code == 404
    refused = download(client, crisis, breach, queued, "pdf")
    assert refused.status_code == 409 and b"not ready" in refused.content
    polled = client.get(
        reverse("breach:letter_run", args=[crisis.pk, breach.pk, queued.pk]), HTTP_HX_REQUEST="true"
    )
    assert b'hx-trigger="every 2s"' in polled.content and b"0 of 0" in polled.content


def test_it_asks_the_reason_before_starting_and_says_when_nobody_waits(as_role, crisis, breach, users, scans):
    client = as_role("dpo")
    url = reverse("breach:letter_run_new", args=[crisis.pk, breach.pk])
    assert client.post(url, {"language": ""})["Location"] == reverse(
        "breach:persons", args=[crisis.pk, breach.pk]
    )
    _with_reason(client, crisis, breach)
    page = client.post(url, {"language": ""}, follow=True).content.decode()
    assert "No person is waiting for a letter." in page
    assert not LetterRun.objects.exists()
