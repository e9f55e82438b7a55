"""The front desk in a real browser: a patient calls, is registered and booked, pays by cheque; the cashier
closes the day; the cell exports, and the exported Bundle is valid FHIR.

One flow is done with the keyboard alone (access keys, Tab, typing, arrow keys, Enter), as the issue asks
of every register. Elements are found by URL, name or id, never by their French or English label.
Dates typed into Chromium's date fields use a day equal to the month (03/03, 12/12): the field's order
(day/month or month/day) follows the machine's locale, and such a date reads the same either way.
"""

import io
import json
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from garde.frontdesk.models import (
    Appointment,
    CashDesk,
    DayClosing,
    Department,
    Patient,
    Payment,
    Practitioner,
    Site,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed").expect

MAX_TABS = 60


@pytest.fixture
def desk(crisis):
    """The front desk as the cell sets it up: one site and its reserved range, a practitioner, a cash desk."""
    site = Site.objects.create(crisis=crisis, code="NORD", name="Hôpital Nord", id_prefix="99",
                               first_number=100, last_number=999)
    cardio = Department.objects.create(crisis=crisis, name="Cardiologie")
    return {
        "site": site,
        "cardio": cardio,
        "dr_house": Practitioner.objects.create(crisis=crisis, name="Dr Maison", department=cardio, rpps="10003456789"),
        "cash": CashDesk.objects.create(crisis=crisis, code="C1", name="Caisse des consultations"),
    }


def appointment_day() -> date:
    """The next date after tomorrow whose day equals its month (see the module's docstring)."""
    today = timezone.localdate()
    for year in (today.year, today.year + 1):
        for month in range(1, 13):
            day = date(year, month, month)
            if (day - today).days >= 2:
                return day
    raise AssertionError("unreachable")


def focused(page) -> str:
    return page.evaluate("document.activeElement ? (document.activeElement.id || document.activeElement.name || '') : ''")


def tab_to(page, element_id: str) -> None:
    """Press Tab until the field is focused, as an agent does (bounded, so a lost focus fails fast)."""
    for _ in range(MAX_TABS):
        if focused(page) == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id} (focus on {focused(page)!r})")


def access_key(page, letter: str) -> None:
    """Alt+letter, Chromium's access-key chord on Linux and Windows.

    Playwright's keyboard.press("Alt+n") sends no character event while Alt is held, and Chromium looks
    for access keys on that event: send the key as the keyboard does (Alt down, raw key down, character,
    key up) through the DevTools protocol.
    """
    cdp = page.context.new_cdp_session(page)
    key = {"modifiers": 1, "key": letter, "code": f"Key{letter.upper()}", "windowsVirtualKeyCode": ord(letter.upper()),
           "nativeVirtualKeyCode": ord(letter.upper()), "unmodifiedText": letter}
    page.keyboard.down("Alt")
    try:
        cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", **key})
        cdp.send("Input.dispatchKeyEvent", {"type": "char", "text": letter, **key})
        cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **key})
    finally:
        page.keyboard.up("Alt")
        cdp.detach()


def type_date(page, element_id: str, day: date) -> None:
    """Type a date into a focused date field, segment by segment."""
    tab_to(page, element_id)
    page.keyboard.type(f"{day:%d%m%Y}")


def type_datetime(page, element_id: str, moment: datetime) -> None:
    """Date, then Tab to the hour segment, then hours and minutes (24-hour digits work in both clocks)."""
    tab_to(page, element_id)
    page.keyboard.type(f"{moment:%d%m%Y}")
    page.keyboard.press("Tab")
    page.keyboard.type(f"{moment:%H%M}")


def choose(page, element_id: str, value: str) -> None:
    """Walk a focused select with the arrow keys until it holds the value."""
    tab_to(page, element_id)
    for _ in range(20):
        if page.locator(f"#{element_id}").input_value() == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"#{element_id} never took the value {value!r}")


def download_export(page, crisis) -> dict[str, bytes]:
    with page.expect_download() as info:
        page.locator(f'a[href^="{reverse("frontdesk_export", args=[crisis.pk])}"][href$="/download/"]').first.click()
    with zipfile.ZipFile(io.BytesIO(info.value.path().read_bytes())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def validate_with_fhir_resources(bundle: dict) -> None:
    """Validate the envelope and every entry's resource with their own fhir.resources models (R4B)."""
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])


def test_a_phone_call_a_cheque_a_closing_and_an_export(page, log_in, crisis, desk):
    log_in("frontdesk", PASSWORD)

    # A patient calls: the agent searches first, finds nobody, and registers the patient.
    page.goto(reverse("frontdesk_appointment_new", args=[crisis.pk]))
    page.locator("#patient-search").fill("lemaitre jeanne")
    expect(page.locator("#patient-results li.empty")).to_be_visible()
    with page.expect_navigation():
        page.locator("#patient-results li.empty a").click()
    form = page.locator("form.register-form")
    form.locator("#id_birth_name").fill("Lemaître")
    form.locator("#id_first_names").fill("Jeanne Louise")
    form.locator("#id_birth_date").fill("1958-07-14")
    form.locator("#id_sex").select_option("F")
    form.locator("#id_birth_place_code").fill("35238")
    form.locator("#id_phone").fill("02 99 00 00 00")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    patient = Patient.objects.get(crisis=crisis, birth_name="Lemaître")
    assert patient.status == Patient.Status.PROVISIONAL
    expect(page.locator("main")).to_contain_text(patient.downtime_id)  # the message gives the identifier

    # Registered from the booking page, the agent lands back on it, the patient picked: book by phone.
    expect(page).to_have_url(re.compile(re.escape(reverse("frontdesk_appointment_new", args=[crisis.pk]))))
    starts = timezone.make_aware(datetime.combine(appointment_day(), datetime.min.time()).replace(hour=9, minute=30))
    form = page.locator("form.register-form")
    form.locator("#id_practitioner").select_option(str(desk["dr_house"].pk))
    form.locator("#id_starts_at").fill(f"{timezone.localtime(starts):%Y-%m-%dT%H:%M}")
    form.locator("#id_reason").fill("Consultation de suivi")
    form.locator("#id_channel").select_option(Appointment.Channel.PHONE)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    appointment = Appointment.objects.get(patient=patient)
    assert appointment.starts_at == starts
    assert appointment.channel == Appointment.Channel.PHONE
    assert appointment.practitioner == desk["dr_house"]

    # The patient comes to the desk and pays by cheque; the form first refuses a cheque without number.
    page.goto(reverse("frontdesk_payment_new", args=[crisis.pk]) + f"?patient={patient.pk}")
    form = page.locator("form.register-form")
    form.locator("#id_amount").fill("25,50")
    form.locator("input[name=method][value=cheque]").check()
    form.locator("#id_cheque_bank").fill("Crédit Agricole")
    form.locator("#id_reason").fill("Consultation")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    form = page.locator("form.register-form")
    expect(form.locator(".field.has-error #id_cheque_number")).to_be_visible()
    expect(form.locator("#id_amount")).to_have_value("25,50")  # kept as typed
    expect(form.locator("#id_cheque_bank")).to_have_value("Crédit Agricole")
    form.locator("#id_cheque_number").fill("1234567")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    payment = Payment.objects.get(patient=patient)
    assert (payment.amount, payment.method, payment.cheque_number) == (Decimal("25.50"), "cheque", "1234567")
    assert payment.receipt == "C1-000001"
    expect(page.locator(f'a[href="{reverse("frontdesk_receipt_pdf", args=[crisis.pk, payment.pk])}"]')).to_have_text(
        payment.receipt)

    # Evening: the cashier counts, finds the cheque, and signs the closing with the password.
    page.goto(reverse("frontdesk_closing", args=[crisis.pk, desk["cash"].pk]))
    form = page.locator("main form:has(input[name=password])")
    form.locator("#id_counted_cash").fill("0")
    form.locator("#id_counted_cheques").fill("25,50")
    form.locator("#id_counted_cheque_count").fill("1")
    form.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    closing = DayClosing.objects.get(cash_desk=desk["cash"], business_date=payment.business_date)
    assert closing.balanced
    expect(page.locator("main form:has(input[name=password])")).to_have_count(0)
    page.problems.check()

    # The IS is back: the cell exports, downloads the archive and the Bundle validates.
    page.context.clear_cookies()
    log_in("director", PASSWORD)
    page.goto(reverse("frontdesk_export", args=[crisis.pk]))
    with page.expect_navigation():
        page.locator(f'form[action="{reverse("frontdesk_export_new", args=[crisis.pk])}"] button:not([name])').click()
    files = download_export(page, crisis)
    assert {"bundle.json", "patients.csv", "appointments.csv", "payments.csv", "manifest.json"} <= set(files)
    bundle = json.loads(files["bundle.json"])
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
    validate_with_fhir_resources(bundle)
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert sorted(kinds) == ["Appointment", "Patient", "PaymentReconciliation"]
    resource = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert {"system": "urn:garde:downtime-id", "value": patient.downtime_id}.items() <= next(
        i for i in resource["identifier"] if i["system"] == "urn:garde:downtime-id").items()
    assert patient.downtime_id.encode() in files["patients.csv"]
    assert payment.receipt.encode() in files["payments.csv"]

    # Idempotent: a second export right away has nothing new.
    with page.expect_navigation():
        page.locator(f'form[action="{reverse("frontdesk_export_new", args=[crisis.pk])}"] button:not([name])').click()
    expect(page.locator("table.list td a[href$='/download/']")).to_have_count(1)
    page.problems.check()


def test_the_registers_work_with_the_keyboard_alone(page, log_in, crisis, desk):
    """Access keys to move, Tab between fields, arrows in lists and radios, Enter to save: no mouse."""
    log_in("frontdesk", PASSWORD)
    page.goto(reverse("frontdesk", args=[crisis.pk]))

    # Alt+N: new patient; the birth name has the focus.
    with page.expect_navigation():
        access_key(page, "n")
    expect(page).to_have_url(re.compile(re.escape(reverse("frontdesk_patient_new", args=[crisis.pk])) + "$"))
    assert focused(page) == "id_birth_name"
    page.keyboard.type("Martin")
    tab_to(page, "id_first_names")
    page.keyboard.type("Paul")
    type_date(page, "id_birth_date", date(1971, 3, 3))
    choose(page, "id_sex", "M")
    tab_to(page, "id_phone")
    page.keyboard.type("0600000000")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    patient = Patient.objects.get(crisis=crisis, birth_name="Martin")
    assert (patient.first_names, patient.birth_date, patient.sex) == ("Paul", date(1971, 3, 3), "M")
    expect(page).to_have_url(re.compile(re.escape(reverse("frontdesk_patient", args=[crisis.pk, patient.pk]))))

    # Alt+S, then a few keystrokes and the arrow keys find the patient again.
    with page.expect_navigation():
        access_key(page, "s")
    # Keys typed before the search field takes the focus (autofocus, once the page is loaded) are
    # lost: "rt pau" finds no one, and its only link is "Register a new patient".
    expect(page.locator("#patient-search")).to_be_focused()
    page.keyboard.type("mart pau")
    found = page.locator("#patient-results ol.results a")
    expect(found).to_have_count(1)
    expect(found).to_have_attribute("href", reverse("frontdesk_patient", args=[crisis.pk, patient.pk]))
    page.keyboard.press("ArrowDown")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(reverse("frontdesk_patient", args=[crisis.pk, patient.pk]))))

    # Alt+R on the patient's page: book an appointment.
    with page.expect_navigation():
        access_key(page, "r")
    starts = timezone.make_aware(datetime.combine(appointment_day(), datetime.min.time()).replace(hour=14, minute=30))
    choose(page, "id_practitioner", str(desk["dr_house"].pk))
    type_datetime(page, "id_starts_at", timezone.localtime(starts))
    tab_to(page, "id_reason")
    page.keyboard.type("Douleur thoracique")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    appointment = Appointment.objects.get(patient=patient)
    assert (appointment.starts_at, appointment.reason) == (starts, "Douleur thoracique")

    # Alt+P on the patient's page: a cheque, the method chosen with the arrow keys.
    page.goto(reverse("frontdesk_patient", args=[crisis.pk, patient.pk]))
    with page.expect_navigation():
        access_key(page, "p")
    tab_to(page, "id_amount")
    page.keyboard.type("40")
    tab_to(page, "id_method_0")
    page.keyboard.press("ArrowDown")
    expect(page.locator("input[name=method][value=cheque]")).to_be_checked()
    tab_to(page, "id_cheque_number")
    page.keyboard.type("7654321")
    tab_to(page, "id_cheque_bank")
    page.keyboard.type("La Banque Postale")
    tab_to(page, "id_reason")
    page.keyboard.type("Consultation")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    payment = Payment.objects.get(patient=patient)
    assert (payment.amount, payment.method, payment.cheque_bank) == (Decimal("40"), "cheque", "La Banque Postale")
    page.problems.check()
