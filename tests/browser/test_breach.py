"""The breach file in a real browser: the DPO imports a scan, decides high risk, downloads the letters and
marks the CNIL notification sent.

The scan is a real folder written by garde.scanner (with --reveal, so that letters have names) on a small
synthetic dump made in tmp_path: never real people. Elements are found by URL, name or id, never by label.
"""

import csv
import io
import os
import re
import zipfile

import pytest
from django.urls import reverse

from garde.accounts.models import AccessLog
from garde.breach.models import Breach, LetterRun, Notification, Person, ScanImport
from garde.breach.scanfolder import FILES
from garde.cell.models import Obligation
from garde.scanner import ScanSettings, scan
from tests.conftest import PASSWORD
from tests.scanner.helpers import write_dump

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed").expect

BREACH_KEY = "browser-test-breach-key-0123456789-abcdefgh"
UUID = r"[0-9a-f-]{36}"


@pytest.fixture
def breach_settings(monkeypatch, settings, tmp_path):
    """The breach key and data directory as the app reads them (environment, settings); the live server
    runs in a thread of this process, so it sees them too."""
    monkeypatch.setenv("GARDE_BREACH_KEY", BREACH_KEY)
    monkeypatch.delenv("GARDE_BREACH_KEY_FILE", raising=False)
    monkeypatch.setenv("GARDE_BREACH_SCANS_DIR", str(tmp_path / "server-scans"))
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


@pytest.fixture
def scan_folder(tmp_path, monkeypatch):
    """A revealed scan of three synthetic patients, as `garde scan --reveal` writes it."""
    monkeypatch.setenv("GARDE_SCAN_KEY", "browser-test-scan-key")
    out = tmp_path / "scan"
    scan([write_dump(tmp_path / "dump")], out, ScanSettings(jobs=0, reveal=True))
    return out


def submit(page, form) -> None:
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def test_the_dpo_goes_from_scan_to_letters_and_cnil_notification(page, log_in, crisis, users, breach_settings,
                                                                   scan_folder):
    log_in("dpo", PASSWORD)

    # 1. Open a breach file.
    page.goto(reverse("breach:list", args=[crisis.pk]))
    with page.expect_navigation():
        page.locator(f'a[href="{reverse("breach:new", args=[crisis.pk])}"]').click()
    form = page.locator("main form[method=post]")
    form.locator("input[name=title]").fill("Exfiltration du serveur de fichiers")
    form.locator("textarea[name=discovery]").fill("Revendication sur le site du groupe")
    submit(page, form)
    expect(page).to_have_url(re.compile(rf"/breaches/{UUID}/$"))
    breach = Breach.objects.get(crisis=crisis)
    detail_url = reverse("breach:detail", args=[crisis.pk, breach.pk])

    # 2. Import the scan: upload the files of the folder; the task runs and the status page shows it done.
    page.locator(f'a[href="{reverse("breach:import", args=[crisis.pk, breach.pk])}"]').click()
    form = page.locator("main form[enctype='multipart/form-data']")
    form.locator("input[name=perimeter]").fill("Cardiologie")
    form.locator("input[name=files]").set_input_files([str(scan_folder / name) for name in FILES])
    submit(page, form)
    expect(page).to_have_url(re.compile(rf"/import/{UUID}/$"))
    imported = ScanImport.objects.get(breach=breach)
    assert imported.status == ScanImport.Status.DONE, imported.error
    expect(page.locator(f"#import-{imported.pk} progress")).to_have_attribute("value", "100")
    persons = Person.objects.filter(breach=breach)
    assert persons.count() == imported.summary["persons"]["best"] > 0
    # Clear values are stored encrypted only.
    dupont = next(p for p in persons if p.address_token)
    assert "DUPONT" not in dupont.identity_token and "Paix" not in dupont.address_token

    page.goto(detail_url)
    expect(page.locator("main table.list").first).to_contain_text("Cardiologie")

    # 3. Decide high risk, persons informed by letters.
    page.locator(f'a[href="{reverse("breach:risk", args=[crisis.pk, breach.pk])}"]').click()
    form = page.locator("main form[method=post]")
    form.locator("select[name=risk]").select_option("high")
    form.locator("textarea[name=risk_reasons]").fill("Données de santé et NIR exposés")
    form.locator("select[name=inform]").select_option("letters")
    form.locator("textarea[name=consequences]").fill("Hameçonnage ciblé, usurpation d'identité")
    form.locator("textarea[name=measures]").fill("Comptes réinitialisés, plainte déposée")
    form.locator("textarea[name=contact]").fill("Délégué à la protection des données, dpo@example.org")
    submit(page, form)
    expect(page).to_have_url(re.compile(re.escape(detail_url) + "$"))
    breach.refresh_from_db()
    assert (breach.risk, breach.inform, breach.risk_decided_by) == ("high", "letters", users["dpo"])

    # 4. The persons: a reason first, written to the access log.
    page.locator(f'a[href="{reverse("breach:persons", args=[crisis.pk, breach.pk])}"]').click()
    form = page.locator(f'main form[action="{reverse("breach:reason", args=[crisis.pk, breach.pk])}"]')
    form.locator("input[name=reason]").fill("Lettres à envoyer")
    submit(page, form)
    persons_url = reverse("breach:persons", args=[crisis.pk, breach.pk])
    expect(page).to_have_url(re.compile(re.escape(persons_url)))
    expect(page.locator("main table.list tbody tr")).to_have_count(persons.count())
    expect(page.locator("main table.list")).to_contain_text("DUPONT")

    # 5. Generate the letters (a background task: its page shows the progress, then the files) and download them.
    form = page.locator(f'main form[action="{reverse("breach:letter_run_new", args=[crisis.pk, breach.pk])}"]')
    form.locator("select[name=language]").select_option("")
    submit(page, form)
    run = LetterRun.objects.get(breach=breach)
    expect(page).to_have_url(re.compile(re.escape(reverse("breach:letter_run", args=[crisis.pk, breach.pk, run.pk])) + "$"))
    assert run.status == LetterRun.Status.DONE, run.error
    expect(page.locator(f"#letter-run-{run.pk} progress")).to_have_attribute("value", "100")
    without_address = [p.reference for p in persons.filter(address_token="")]
    for reference in without_address:  # listed, never skipped
        expect(page.locator("#address-missing")).to_contain_text(reference)

    def download(kind):
        with page.expect_download() as started:
            page.locator(f'a[href="{reverse("breach:letter_download", args=[crisis.pk, breach.pk, run.pk, kind])}"]').click()
        return started.value

    pdf = download("pdf")
    assert pdf.suggested_filename == f"{run.pdf_file}" and pdf.suggested_filename.endswith(".pdf")
    assert open(pdf.path(), "rb").read(5) == b"%PDF-"
    names = zipfile.ZipFile(download("zip").path()).namelist()
    assert sorted(names) == sorted([f"lettre-{p.reference}-fr.pdf" for p in persons.exclude(address_token="")]
                                   + ["adresses-manquantes.csv"])
    mailing = download("csv")
    rows = list(csv.DictReader(io.StringIO(open(mailing.path(), encoding="utf-8-sig").read()), delimiter=";"))
    assert len(rows) == persons.count()
    by_status = {row["status"] for row in rows}
    assert "ok" in by_status and any(row["city"] == "Rennes" for row in rows)
    if without_address:
        assert "address missing" in by_status  # listed, never skipped
    # The exports on the server are readable by Garde only.
    export = breach_settings / "breach-exports" / str(breach.pk) / run.pdf_file
    assert os.stat(export).st_mode & 0o777 == 0o600
    actions = set(AccessLog.objects.filter(user=users["dpo"]).values_list("action", flat=True))
    assert {"breach_reason", "breach_persons", "breach_letters_start", "breach_letters_pdf", "breach_letters_zip",
            "breach_letters_csv"} <= actions

    # Back to the persons, where the run is listed.
    page.goto(persons_url)
    run_url = reverse("breach:letter_run", args=[crisis.pk, breach.pk, run.pk])
    expect(page.locator(f'#letters table.list a[href="{run_url}"]')).to_be_visible()

    # 6. Letters posted: every person with an address is marked informed.
    form = page.locator(f'main form[action="{reverse("breach:letters_sent", args=[crisis.pk, breach.pk])}"]')
    form.locator("select[name=how]").select_option("letter")
    submit(page, form)
    with_address = persons.exclude(address_token="")
    assert with_address.exists() and all(p.status == Person.Status.INFORMED for p in with_address)

    # 7. The CNIL notification: fill from the file, freeze and mark as sent with the CNIL's reference.
    page.goto(reverse("breach:notification", args=[crisis.pk, breach.pk]))
    submit(page, page.locator(f'main form[action="{reverse("breach:notification_fill", args=[crisis.pk, breach.pk])}"]'))
    expect(page.locator("ul.messages li.success")).to_be_visible()
    expect(page.locator("main section.card.wide")).to_contain_text("Cardiologie")
    form = page.locator(f'main form[action="{reverse("breach:notification_freeze", args=[crisis.pk, breach.pk])}"]')
    form.locator("input[name=reference]").fill("CNIL-2026-001234")
    submit(page, form)
    expect(page.locator("ul.messages li.success")).to_be_visible()
    version = Notification.objects.get(breach=breach)
    assert (version.kind, version.reference, version.frozen_by) == ("initial", "CNIL-2026-001234", users["dpo"])
    expect(page.locator("main table.list tbody")).to_contain_text("CNIL-2026-001234")
    obligation = Obligation.objects.get(crisis=crisis, rule__key="cnil-initial")
    assert obligation.status == Obligation.Status.SENT and obligation.reference == "CNIL-2026-001234"
    breach.refresh_from_db()
    assert breach.status == Breach.Status.NOTIFIED
    page.problems.check()
