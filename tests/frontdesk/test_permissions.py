"""The permission matrix of the front desk: every view, every role, anonymous and outsiders."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from garde.accounts.roles import Capability
from garde.frontdesk import booking, documents, reintegration
from garde.frontdesk.models import Appointment, PaperDocument
from garde.frontdesk.urls import urlpatterns
from tests.matrix import (
    ROLES,
    assert_documented,
    assert_every_view_listed,
    assert_role_gets_what_the_matrix_says,
    assert_sent_to_login,
    shows,
    view_url,
)

from .conftest import tomorrow_at

C = Capability

# url name -> (capability, HTTP method, which object ids the URL takes)
SPECS = {
    "frontdesk": (C.VIEW_FRONTDESK_COUNTS, "get", ()),
    "frontdesk_setup": (C.CONFIGURE_FRONTDESK, "get", ()),
    "frontdesk_patients": (C.USE_FRONTDESK, "get", ()),
    "frontdesk_patient_new": (C.USE_FRONTDESK, "get", ()),
    "frontdesk_duplicates": (C.USE_FRONTDESK, "post", ()),
    "frontdesk_patient": (C.USE_FRONTDESK, "get", ("patient_id",)),
    "frontdesk_patient_edit": (C.USE_FRONTDESK, "get", ("patient_id",)),
    "frontdesk_patient_merge": (C.USE_FRONTDESK, "post", ("patient_id",)),
    "frontdesk_appointments": (C.USE_FRONTDESK, "get", ()),
    "frontdesk_appointments_pdf": (C.USE_FRONTDESK, "get", ()),
    "frontdesk_appointment_new": (C.USE_FRONTDESK, "get", ()),
    "frontdesk_appointment": (C.USE_FRONTDESK, "get", ("appointment_id",)),
    "frontdesk_appointment_cancel": (C.USE_FRONTDESK, "post", ("appointment_id",)),
    "frontdesk_appointment_move": (C.USE_FRONTDESK, "get", ("appointment_id",)),
    "frontdesk_documents": (C.USE_FRONTDESK, "get", ()),
    "frontdesk_document_new": (C.USE_FRONTDESK, "get", ()),
    "frontdesk_document_scan": (C.USE_FRONTDESK, "get", ("document_id",)),
    "frontdesk_payments": (C.USE_FRONTDESK, "get", ()),
    "frontdesk_payment_new": (C.USE_FRONTDESK, "get", ()),
    "frontdesk_receipt_pdf": (C.USE_FRONTDESK, "get", ("payment_id",)),
    "frontdesk_payment_reverse": (C.USE_FRONTDESK, "get", ("payment_id",)),
    "frontdesk_closing": (C.USE_FRONTDESK, "get", ("desk_id",)),
    "frontdesk_export": (C.EXPORT_FRONTDESK, "get", ()),
    "frontdesk_export_new": (C.EXPORT_FRONTDESK, "post", ()),
    "frontdesk_export_download": (C.EXPORT_FRONTDESK, "get", ("batch_id",)),
    "frontdesk_reentered": (C.EXPORT_FRONTDESK, "post", ()),
}


@pytest.fixture
def ids(crisis, desk, agent, make_patient, pay):
    patient = make_patient("Kerouac", "Jean-Louis", birth_date=date(1922, 3, 12), sex="M")
    appointment = booking.book(Appointment(crisis=crisis, patient=patient, department=desk["cardio"],
                                           practitioner=desk["dr_house"], starts_at=tomorrow_at(9)), agent)
    document = documents.receive(PaperDocument(crisis=crisis, patient=patient, kind="result",
                                               document_date=date(2024, 1, 5), issuer="Labo", location="A"), agent,
                                 scan=SimpleUploadedFile("scan.pdf", b"%PDF-1.4 scan"))
    payment = pay(patient)
    batch = reintegration.export(crisis)
    return {
        "patient_id": patient.pk, "appointment_id": appointment.pk, "document_id": document.pk,
        "payment_id": payment.pk, "desk_id": desk["cash"].pk, "batch_id": batch.pk,
    }


def test_it_covers_every_front_desk_view():
    assert_every_view_listed(urlpatterns, SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("role", ROLES + ["outsider"])
def test_it_applies_the_matrix(name, role, as_role, crisis, ids):
    capability, method, keys = SPECS[name]
    response = getattr(as_role(role), method)(view_url(name, crisis, ids, keys))
    assert_role_gets_what_the_matrix_says(response, role, capability, crisis, secrets=("Kerouac", "99100"))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_it_sends_anonymous_visitors_to_login(name, client, crisis, ids):
    _capability, method, keys = SPECS[name]
    assert_sent_to_login(getattr(client, method)(view_url(name, crisis, ids, keys)))


@pytest.mark.parametrize("role", ["observer", "director", "dpo", "communication"])
def test_it_shows_the_cell_counts_and_no_identity(role, as_role, crisis, ids):
    page = as_role(role).get(reverse("frontdesk", args=[crisis.pk])).content.decode()
    assert not any(shows(page, secret) for secret in ("Kerouac", "99100", "1922"))


def test_it_documents_the_front_desk_views():
    assert_documented(SPECS)
