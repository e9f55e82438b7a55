"""Many agents at once, on SQLite and PostgreSQL: gapless receipts and no double booking."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connections

from garde.frontdesk import booking, cashdesk, patients
from garde.frontdesk.models import Appointment, Patient, Payment

from .conftest import tomorrow_at

AGENTS = 8


def run_at_once(work, count=AGENTS):
    barrier = threading.Barrier(count)
    results, failures = [], []

    def run(n):
        try:
            barrier.wait()
            results.append(work(n))
        except Exception as exc:  # collected and asserted: a thread's exception is otherwise lost
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures


@pytest.mark.django_db(transaction=True)
def test_it_gives_gapless_receipt_numbers_to_agents_paying_at_once(crisis, desk, agent, make_patient):
    patient = make_patient()

    def take(n):
        for i in range(5):
            cashdesk.take_payment(Payment(crisis=crisis, cash_desk=desk["cash"], patient=patient,
                                          amount=Decimal(f"{n + 1}.{i}0"), method="cash", reason="consultation"), agent)

    _results, failures = run_at_once(take)
    assert failures == []
    numbers = list(Payment.objects.filter(cash_desk=desk["cash"]).order_by("receipt_number")
                   .values_list("receipt_number", flat=True))
    assert numbers == list(range(1, AGENTS * 5 + 1))


@pytest.mark.django_db(transaction=True)
def test_it_books_a_slot_only_once_when_agents_book_it_at_once(crisis, desk, agent, make_patient):
    patient = make_patient()

    def take(n):
        try:
            booking.book(Appointment(crisis=crisis, patient=patient, department=desk["cardio"],
                                     practitioner=desk["dr_house"], starts_at=tomorrow_at(11), duration=20), agent)
        except booking.SlotTaken as taken:
            return taken.proposals[0]
        return "booked"

    results, failures = run_at_once(take)
    assert failures == []
    assert results.count("booked") == 1
    assert all(r == tomorrow_at(11, 30) for r in results if r != "booked")
    assert Appointment.objects.filter(practitioner=desk["dr_house"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_does_not_create_one_patient_twice_when_two_agents_save_it_at_once(crisis, desk, agent):
    def register(n):
        try:
            patients.create_patient(Patient(crisis=crisis, site=desk["site"], birth_name="Le Goff",
                                            first_names="Yann", birth_date=date(1980, 5, 4),
                                            sex="M"), agent)
        except patients.ProbableDuplicate:
            return "warned"
        return "created"

    results, failures = run_at_once(register, 2)
    assert failures == []
    assert sorted(results) == ["created", "warned"]
    assert Patient.objects.filter(crisis=crisis).count() == 1
