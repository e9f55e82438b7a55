"""Identity register, appointments and documents, through their service functions."""

import hashlib
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from garde.cell.models import LogEntry
from garde.frontdesk import booking, documents, patients
from garde.frontdesk.models import Appointment, PaperDocument, Patient

from .conftest import tomorrow_at


def test_it_numbers_patients_from_the_sites_reserved_range(make_patient, desk):
    first, second = make_patient(), make_patient("Martin", "Paul", sex="M")
    assert (first.downtime_id, second.downtime_id) == ("99100", "99101")
    desk["site"].refresh_from_db()
    assert desk["site"].remaining == 898


def test_it_refuses_a_patient_when_the_range_is_used_up(make_patient, desk):
    desk["site"].next_number = desk["site"].last_number + 1
    desk["site"].save()
    with pytest.raises(patients.RangeExhausted):
        make_patient()


def test_it_stops_a_probable_duplicate_until_the_agent_confirms(crisis, desk, agent, make_patient):
    known = make_patient("Lévêque", "Élodie")
    typed = Patient(crisis=crisis, site=desk["site"], birth_name="leveque", first_names="ELODIE",
                    birth_date=known.birth_date, sex="F")
    with pytest.raises(patients.ProbableDuplicate) as found:
        patients.create_patient(typed, agent)
    assert [m.patient for m in found.value.matches] == [known]
    assert patients.create_patient(typed, agent, confirmed_new=True).downtime_id != known.downtime_id


def test_it_finds_a_patient_in_a_few_keystrokes(crisis, make_patient):
    marie = make_patient("Lévêque", "Marie Élodie", used_name="Durand")
    make_patient("Martin", "Paul", sex="M")
    assert patients.search(crisis, "lev mar") == [marie]
    assert patients.search(crisis, "dur") == [marie]
    assert patients.search(crisis, "12/03/1970 élo") == [marie]
    assert patients.search(crisis, marie.downtime_id) == [marie]
    assert patients.search(crisis, "zz") == []


def test_it_merges_a_duplicate_and_logs_it_without_identity(crisis, users, make_patient, pay, desk, agent):
    kept, duplicate = make_patient(), make_patient("Marie", "Dupont")
    pay(duplicate)
    booking.book(Appointment(crisis=crisis, patient=duplicate, department=desk["cardio"],
                             practitioner=desk["dr_house"], starts_at=tomorrow_at(9)), agent)
    patients.merge(crisis, kept, duplicate, agent)
    assert kept.payments.count() == 1 and kept.appointments.count() == 1
    duplicate.refresh_from_db()
    assert duplicate.merged_into == kept
    entry = LogEntry.objects.filter(crisis=crisis).order_by("-seq").first()
    assert duplicate.downtime_id in entry.text and kept.downtime_id in entry.text
    assert "Dupont" not in entry.text
    assert patients.search(crisis, "dupont") == [kept]


def book(crisis, desk, agent, patient, starts_at, practitioner="dr_house", duration=20):
    return booking.book(Appointment(crisis=crisis, patient=patient, department=desk[practitioner].department,
                                    practitioner=desk[practitioner], starts_at=starts_at, duration=duration), agent)


def test_it_refuses_to_double_book_a_practitioner_and_proposes_free_slots(crisis, desk, agent, make_patient):
    patient = make_patient()
    book(crisis, desk, agent, patient, tomorrow_at(9), duration=30)
    book(crisis, desk, agent, patient, tomorrow_at(9, 30))
    with pytest.raises(booking.SlotTaken) as taken:
        book(crisis, desk, agent, patient, tomorrow_at(9, 15))
    assert taken.value.proposals[0] == tomorrow_at(10)  # after 9:50, on the quarter-hour grid
    assert len(taken.value.proposals) == 3
    assert book(crisis, desk, agent, patient, tomorrow_at(9, 15), practitioner="dr_grey").reference


def test_it_keeps_history_when_moving_and_cancelling(crisis, desk, agent, make_patient):
    patient = make_patient()
    first = book(crisis, desk, agent, patient, tomorrow_at(10))
    moved = booking.move(first, tomorrow_at(10, 10), 20, desk["dr_house"], agent, "patient en retard")
    first.refresh_from_db()
    assert first.status == Appointment.Status.MOVED and moved.moved_from == first
    booking.cancel(moved, agent, "annulé par téléphone")
    # The freed slot can be booked again.
    assert book(crisis, desk, agent, patient, tomorrow_at(10)).status == Appointment.Status.BOOKED
    assert Appointment.objects.filter(patient=patient).count() == 3


def test_it_stores_a_scan_under_its_sha256(crisis, agent, make_patient):
    patient = make_patient()
    scan = SimpleUploadedFile("bilan.pdf", b"%PDF-1.4 resultats")
    document = documents.receive(PaperDocument(crisis=crisis, patient=patient, kind="result",
                                               document_date=date.today() - timedelta(days=2), issuer="Labo Ouest",
                                               location="Classeur A, accueil"), agent, scan=scan)
    assert document.scan_sha256 == hashlib.sha256(b"%PDF-1.4 resultats").hexdigest()
    assert document.reference == 1 and document.scan_file.endswith(document.scan_sha256)


def test_it_loads_a_day_of_demo_activity_once(crisis, agent):
    from garde.frontdesk.demo import load_frontdesk_demo

    load_frontdesk_demo(crisis, agent)
    load_frontdesk_demo(crisis, agent)
    assert Patient.objects.filter(crisis=crisis).count() == 6
    assert Appointment.objects.filter(crisis=crisis).count() == 5
    duplicate = Patient.objects.get(birth_name="Louis")
    assert patients.probable_duplicates(crisis, patients.traits_of(duplicate), exclude=duplicate)


def test_the_payment_form_offers_cash_or_cheque_and_no_empty_choice(crisis):
    from garde.frontdesk.forms import PaymentForm

    assert [value for value, _label in PaymentForm(crisis=crisis).fields["method"].choices] == ["cash", "cheque"]
