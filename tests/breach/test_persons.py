"""Persons to inform: reason asked and logged, clear values encrypted, letters about each person only."""

import stat

from django.template.loader import render_to_string
from django.urls import reverse

from garde.accounts.models import AccessLog
from garde.breach import letters, persons
from garde.breach.models import LetterRun, Person

from .test_import import run_import


def _with_reason(client, crisis, breach, reason="lettres à envoyer"):
    client.post(reverse("breach:reason", args=[crisis.pk, breach.pk]), {"reason": reason})
    return client


def test_it_asks_a_reason_before_showing_persons_and_logs_it(as_role, crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    client = as_role("dpo")
    url = reverse("breach:persons", args=[crisis.pk, breach.pk])
    asked = client.get(url).content.decode()
    assert "DUPONT" not in asked.upper() and 'name="reason"' in asked
    _with_reason(client, crisis, breach)
    page = client.get(url).content.decode()
    assert "DUPONT" in page and "Jean" in page
    entry = AccessLog.objects.filter(user=users["dpo"], action="breach_persons").get()
    assert entry.reason == "lettres à envoyer" and "breach 1" in entry.target


def test_it_stores_names_and_addresses_only_encrypted(crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    for person in Person.objects.filter(breach=breach):
        stored = f"{person.label} {person.identity_token} {person.address_token}"
        assert "DUPONT" not in stored and "Dupont" not in stored and "Paix" not in stored
    dupont = next(p for p in Person.objects.filter(breach=breach) if letters.identity_of(p).get("last_name") == "DUPONT"
                  and p.national_identifier)
    assert letters.address_lines(letters.address_of(dupont))[0].startswith("12 rue de la Paix")


def test_it_shows_a_clear_page_when_the_key_is_missing(as_role, crisis, breach, users, scans, monkeypatch):
    run_import(breach, scans["first"], users["dpo"])
    monkeypatch.delenv("GARDE_BREACH_KEY")
    response = as_role("dpo").get(reverse("breach:persons", args=[crisis.pk, breach.pk]))
    assert response.status_code == 503
    assert b"GARDE_BREACH_KEY" in response.content


def test_it_refuses_a_key_that_did_not_encrypt_the_data(as_role, crisis, breach, users, scans, monkeypatch):
    run_import(breach, scans["first"], users["dpo"])
    monkeypatch.setenv("GARDE_BREACH_KEY", "another-key-of-enough-length-0123456789")
    client = _with_reason(as_role("director"), crisis, breach)
    assert client.get(reverse("breach:persons", args=[crisis.pk, breach.pk])).status_code == 503


def test_it_writes_letters_about_each_persons_own_data_only(crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    run_import(breach, scans["second"], users["dpo"], "Paie")
    bertrand = Person.objects.get(breach=breach, financial=True)
    le_goff = next(p for p in Person.objects.filter(breach=breach) if letters.identity_of(p).get("last_name") == "LE GOFF")
    html_bertrand = render_to_string("breach/print/letters.html", letters._context(breach, [letters.letter_for(bertrand)], False))
    html_le_goff = render_to_string("breach/print/letters.html", letters._context(breach, [letters.letter_for(le_goff)], False))
    assert "coordonnées bancaires (IBAN)" in html_bertrand
    assert "IBAN" not in html_le_goff and "sécurité sociale" not in html_le_goff
    assert "codes de diagnostic" in html_le_goff and "diagnostic" not in html_bertrand
    assert "Sophie" in html_bertrand and "Sophie" not in html_le_goff and "BERTRAND" not in html_le_goff
    english = render_to_string("breach/print/letters.html", letters._context(breach, [letters.letter_for(bertrand, "en")], False))
    assert "your bank details (IBAN)" in english and "Madame" not in english


def test_it_lists_missing_addresses_in_the_letters_and_the_csv(as_role, crisis, breach, users, scans, settings):
    run_import(breach, scans["first"], users["dpo"])
    client = _with_reason(as_role("director"), crisis, breach)
    client.post(reverse("breach:letter_run_new", args=[crisis.pk, breach.pk]), {"language": ""})
    run = LetterRun.objects.get(breach=breach)
    response = client.get(reverse("breach:letter_download", args=[crisis.pk, breach.pk, run.pk, "csv"]))
    rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(rows) == 1 + Person.objects.filter(breach=breach).count()
    assert sum("address missing" in row for row in rows) == Person.objects.filter(breach=breach, address_token="").count() > 0
    assert not any("IBAN" in row or "diab" in row.lower() for row in rows)
    pdf = client.get(reverse("breach:letter_download", args=[crisis.pk, breach.pk, run.pk, "pdf"]))
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    exports = list((settings.DATA_DIR / "breach-exports" / str(breach.pk)).iterdir())
    assert exports and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in exports)
    assert {"breach_letters_csv", "breach_letters_pdf"} <= set(AccessLog.objects.values_list("action", flat=True))


def test_it_adds_removes_addresses_and_persons_with_reasons(as_role, crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    person = Person.objects.filter(breach=breach, address_token="").first()
    client = _with_reason(as_role("dpo"), crisis, breach)
    url = reverse("breach:person", args=[crisis.pk, breach.pk, person.pk])
    client.post(url, {"set_address": "1", "name": "Yann LE GOFF", "lines": "3 quai de l'Odet", "postal_code": "29000",
                      "city": "Quimper", "country": "", "language": "en"})
    person.refresh_from_db()
    assert person.address_source == Person.AddressSource.MANUAL and person.language == "en"
    assert "Quimper" in letters.address_lines(letters.address_of(person))[-1]
    client.post(url, {"remove": "1", "reason": "décédé en 2020"})
    person.refresh_from_db()
    assert person.status == Person.Status.REMOVED and person.removed_reason == "décédé en 2020"
    assert client.post(url, {"remove": "1", "reason": ""}).status_code == 200  # a reason is required


def test_it_tracks_who_was_informed_when_and_how(as_role, crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    client = _with_reason(as_role("dpo"), crisis, breach)
    client.post(reverse("breach:letters_sent", args=[crisis.pk, breach.pk]),
                {"informed_at": "2026-11-29T10:00", "how": "letter"})
    informed = Person.objects.filter(breach=breach, status=Person.Status.INFORMED)
    assert informed.count() == Person.objects.filter(breach=breach).exclude(address_token="").count() > 0
    assert all(p.informed_by == users["dpo"] and p.informed_how == "letter" for p in informed)
    assert Person.objects.filter(breach=breach, status=Person.Status.TO_INFORM, address_token="").exists()


def test_it_matches_a_patient_file_to_the_persons(crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    csv_file = (b"nom;prenom;date_naissance;ipp;adresse;code_postal;ville\n"
                b"Le Goff;Yann;23/07/1991;;3 quai de l'Odet;29000;Quimper\n"
                b"Inconnu;Paul;01/01/1950;;1 rue X;75001;Paris\n")
    matched, unmatched = persons.import_patient_file(breach, csv_file, users["dpo"], "adresses du DPI")
    assert (matched, unmatched) == (1, 1)
    person = Person.objects.get(breach=breach, address_source=Person.AddressSource.CSV)
    assert letters.identity_of(person)["last_name"] == "LE GOFF"
