from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from garde.frontdesk import cashdesk, patients
from garde.frontdesk.models import CashDesk, Department, Patient, Payment, Practitioner, Site


@pytest.fixture
def agent(users):
    return users["frontdesk"]


@pytest.fixture
def desk(crisis):
    """A front desk set up the way the cell does it: one site, two departments, practitioners, a cash desk."""
    site = Site.objects.create(crisis=crisis, code="NORD", name="Hôpital Nord", id_prefix="99",
                               first_number=100, last_number=999)
    cardio = Department.objects.create(crisis=crisis, name="Cardiologie")
    radio = Department.objects.create(crisis=crisis, name="Radiologie")
    return {
        "site": site,
        "cardio": cardio,
        "radio": radio,
        "dr_house": Practitioner.objects.create(crisis=crisis, name="Dr Maison", department=cardio, rpps="10003456789"),
        "dr_grey": Practitioner.objects.create(crisis=crisis, name="Dr Gris", department=radio),
        "cash": CashDesk.objects.create(crisis=crisis, code="C1", name="Caisse des consultations"),
    }


@pytest.fixture
def make_patient(crisis, desk, agent):
    def make(birth_name="Dupont", first_names="Marie Anne", birth_date=date(1970, 3, 12), sex="F", **extra):
        patient = Patient(crisis=crisis, site=desk["site"], birth_name=birth_name, first_names=first_names,
                          birth_date=birth_date, sex=sex, **extra)
        return patients.create_patient(patient, agent, confirmed_new=True)

    return make


@pytest.fixture
def pay(crisis, desk, agent):
    def take(patient, amount="25.00", method=Payment.Method.CASH, **extra):
        payment = Payment(crisis=crisis, cash_desk=desk["cash"], patient=patient, amount=Decimal(amount),
                          method=method, reason="Consultation", **extra)
        return cashdesk.take_payment(payment, agent)

    return take


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = timezone.localdate() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))
