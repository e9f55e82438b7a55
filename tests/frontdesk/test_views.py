"""The registers end to end through the pages: what an agent types, what comes back, what is logged."""

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from garde.accounts.models import AccessLog
from garde.frontdesk.forms import INS_ERRORS
from garde.frontdesk.models import Appointment, DayClosing, ExportBatch, Patient, Payment
from tests.conftest import PASSWORD

from .conftest import tomorrow_at


@pytest.fixture
def agent_client(as_role, desk):
    return as_role("frontdesk")


def url(crisis, name, *args):
    return reverse(name, args=[crisis.pk, *args])


PATIENT = {"site": "", "birth_name": "Lévêque", "first_names": "Élodie Marie", "birth_date": "1995-10-01",
           "sex": "F", "birth_place_code": "35238", "status": "provisional", "document_seen": "none", "ins": "",
           "phone": "06 12 34 56 78"}


def test_it_registers_books_takes_a_cheque_closes_and_exports(crisis, desk, agent_client, as_role):
    data = dict(PATIENT, site=desk["site"].pk)
    response = agent_client.post(url(crisis, "frontdesk_patient_new"), data)
    patient = Patient.objects.get()
    assert response.status_code == 302 and patient.downtime_id == "99100"

    starts = timezone.localtime(tomorrow_at(14)).strftime("%Y-%m-%dT%H:%M")
    booked = agent_client.post(url(crisis, "frontdesk_appointment_new"), {
        "patient": patient.pk, "practitioner": desk["dr_house"].pk, "starts_at": starts, "duration": 30,
        "reason": "Contrôle", "channel": "phone"})
    assert booked.status_code == 302 and Appointment.objects.count() == 1

    paid = agent_client.post(url(crisis, "frontdesk_payment_new"), {
        "patient": patient.pk, "cash_desk": desk["cash"].pk, "amount": "30,00", "method": "cheque",
        "cheque_number": "4455667", "cheque_bank": "Crédit Breton", "reason": "Consultation"})
    assert paid.status_code == 302
    payment = Payment.objects.get()
    assert payment.receipt == "C1-000001" and str(payment.amount) == "30.00"
    receipt = agent_client.get(url(crisis, "frontdesk_receipt_pdf", payment.pk))
    assert receipt["Content-Type"] == "application/pdf" and receipt.content.startswith(b"%PDF")

    closed = agent_client.post(url(crisis, "frontdesk_closing", desk["cash"].pk), {
        "counted_cash": "0", "counted_cheques": "30.00", "counted_cheque_count": "1", "comment": "",
        "password": PASSWORD})
    assert closed.status_code == 302 and DayClosing.objects.get().balanced

    director = as_role("director")
    assert director.post(url(crisis, "frontdesk_export_new")).status_code == 302
    batch = ExportBatch.objects.get()
    archive = director.get(url(crisis, "frontdesk_export_download", batch.pk))
    bundle = json.loads(zipfile.ZipFile(io.BytesIO(archive.content)).read("bundle.json"))
    from fhir.resources.R4B.bundle import Bundle

    assert len(Bundle.model_validate(bundle).entry) == 3
    reentered = director.post(url(crisis, "frontdesk_reentered"), {"lines": "99100;IPP123\nRDV-1 RV9\n"})
    assert reentered.status_code == 302
    assert Patient.objects.get().main_system_id == "IPP123"
    actions = set(AccessLog.objects.values_list("action", flat=True))
    assert {"frontdesk_patient", "frontdesk_receipt", "frontdesk_export", "frontdesk_export_download"} <= actions


def errors_of(response) -> dict:
    return {name: [str(e) for e in errors] for name, errors in response.context["form"].errors.items()}


def test_it_keeps_what_was_typed_and_shows_each_error_next_to_its_field(crisis, desk, agent_client):
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = agent_client.post(url(crisis, "frontdesk_patient_new"), dict(
        PATIENT, site=desk["site"].pk, birth_date=future, ins="295109912611199", birth_place_code="3523"))
    errors = errors_of(response)
    assert set(errors) == {"birth_date", "birth_place_code", "ins"}
    assert "Lévêque" in response.content.decode()
    response = agent_client.post(url(crisis, "frontdesk_patient_new"), dict(
        PATIENT, site=desk["site"].pk, birth_date="1995-02-31"))
    assert "birth_date" in errors_of(response)
    response = agent_client.post(url(crisis, "frontdesk_patient_new"), dict(
        PATIENT, site=desk["site"].pk, ins="295109912611199"))
    assert errors_of(response)["ins"] == [str(INS_ERRORS["key"])]
    assert Patient.objects.count() == 0


def test_it_shows_duplicates_while_typing_and_before_saving(crisis, desk, agent_client, make_patient):
    known = make_patient("Leveque", "Elodie", birth_date=date(1995, 10, 1))
    hint = agent_client.post(url(crisis, "frontdesk_duplicates"), {"birth_name": "LÉVÊQUE", "first_names": "élodie",
                                                                  "birth_date": "1995-10-01"})
    assert known.downtime_id in hint.content.decode()
    response = agent_client.post(url(crisis, "frontdesk_patient_new"), dict(PATIENT, site=desk["site"].pk))
    assert response.status_code == 200 and "confirm_new" in errors_of(response)
    assert known.downtime_id in response.content.decode()
    confirmed = agent_client.post(url(crisis, "frontdesk_patient_new"), dict(PATIENT, site=desk["site"].pk,
                                                                             confirm_new="on"))
    assert confirmed.status_code == 302 and Patient.objects.count() == 2


def test_it_refuses_a_taken_slot_with_the_next_free_ones(crisis, desk, agent_client, make_patient):
    patient = make_patient()
    starts = timezone.localtime(tomorrow_at(9)).strftime("%Y-%m-%dT%H:%M")
    form = {"patient": patient.pk, "practitioner": desk["dr_house"].pk, "starts_at": starts, "duration": 20,
            "reason": "", "channel": "desk"}
    agent_client.post(url(crisis, "frontdesk_appointment_new"), form)
    response = agent_client.post(url(crisis, "frontdesk_appointment_new"), form)
    message = errors_of(response)["starts_at"][0]
    assert "Dr Maison" in message and "09:20" in message
    assert len(response.context["proposals"]) == 3
    assert "starts_at=" in response.content.decode()  # each proposal is a link that fills the form


@pytest.mark.parametrize("fields, field", [
    ({"method": "cheque", "cheque_number": ""}, "cheque_number"),
    ({"amount": "12.345"}, "amount"),
    ({"amount": "-5"}, "amount"),
    ({"amount": "douze"}, "amount"),
])
def test_it_explains_a_wrong_payment(crisis, desk, agent_client, make_patient, fields, field):
    patient = make_patient()
    form = {"patient": patient.pk, "cash_desk": desk["cash"].pk, "amount": "12.00", "method": "cash",
            "cheque_number": "", "cheque_bank": "Banque", "reason": "Consultation", **fields}
    response = agent_client.post(url(crisis, "frontdesk_payment_new"), form)
    assert field in errors_of(response)
    assert Payment.objects.count() == 0


def test_it_asks_for_an_explanation_and_the_password_to_close_an_unbalanced_day(crisis, desk, agent_client,
                                                                                make_patient, pay):
    pay(make_patient(), "20.00")
    closing = url(crisis, "frontdesk_closing", desk["cash"].pk)
    response = agent_client.post(closing, {"counted_cash": "18", "counted_cheques": "0", "counted_cheque_count": "0",
                                           "comment": "", "password": "wrong-password"})
    assert set(errors_of(response)) == {"comment", "password"}
    agent_client.post(closing, {"counted_cash": "18", "counted_cheques": "0", "counted_cheque_count": "0",
                                "comment": "erreur de rendu", "password": PASSWORD})
    assert DayClosing.objects.get().cash_discrepancy == -2
    page = agent_client.get(url(crisis, "frontdesk_payment_new") + f"?patient={Patient.objects.get().pk}")
    refused = agent_client.post(url(crisis, "frontdesk_payment_new"), {
        "patient": Patient.objects.get().pk, "cash_desk": desk["cash"].pk, "amount": "5", "method": "cash",
        "reason": "x"})
    assert page.status_code == 200 and "cash_desk" in errors_of(refused)


def test_it_prints_the_day_list_of_a_practitioner(crisis, desk, agent_client, make_patient):
    patient = make_patient()
    starts = timezone.localtime(tomorrow_at(9)).strftime("%Y-%m-%dT%H:%M")
    agent_client.post(url(crisis, "frontdesk_appointment_new"), {
        "patient": patient.pk, "practitioner": desk["dr_house"].pk, "starts_at": starts, "duration": 20,
        "reason": "", "channel": "phone"})
    day = (timezone.localdate() + timedelta(days=1)).isoformat()
    page = agent_client.get(url(crisis, "frontdesk_appointments") + f"?day={day}&practitioner={desk['dr_house'].pk}")
    assert "DUPONT" in page.content.decode()
    pdf = agent_client.get(url(crisis, "frontdesk_appointments_pdf") + f"?day={day}&department={desk['cardio'].pk}")
    assert pdf.content.startswith(b"%PDF")


def test_it_has_no_inline_script_or_style_on_its_pages(crisis, desk, agent_client, make_patient):
    patient = make_patient()
    for name in ("frontdesk", "frontdesk_patient_new", "frontdesk_appointments", "frontdesk_payments"):
        body = agent_client.get(url(crisis, name)).content.decode()
        assert " style=" not in body and "onclick" not in body and "<script>" not in body
    body = agent_client.get(url(crisis, "frontdesk_patient", patient.pk)).content.decode()
    assert " style=" not in body and "http://" not in body.replace("http://www.w3.org", "")


def test_it_speaks_french_by_default(crisis, desk, agent_client):
    page = agent_client.get(url(crisis, "frontdesk_patient_new"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Nouveau patient" in page and "nom de naissance" in page.lower()
