"""A day of degraded-mode activity at the front desk of the CHU de Démo (called by the demo loader)."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from garde.frontdesk import booking, cashdesk, documents, patients
from garde.frontdesk.models import (
    Appointment,
    CashDesk,
    Department,
    PaperDocument,
    Patient,
    Payment,
    Practitioner,
    Site,
)

# Synthetic people: names common in Brittany, dates made up.
PEOPLE = [
    ("Le Goff", "Yann Pierre", date(1958, 4, 2), "M", "", "validated", "id_card"),
    ("Tanguy", "Maëlle", date(1991, 11, 23), "F", "Le Bihan", "provisional", "none"),
    ("Quéméner", "Louis", date(1947, 1, 9), "M", "", "recovered", "none"),
    ("Morvan", "Anne Sophie", date(1979, 6, 30), "F", "", "validated", "passport"),
    ("Kerjean", "Erwan", date(2012, 3, 14), "M", "", "validated", "family_book"),
]
REASONS = ["Consultation de suivi", "Échographie", "Bilan préopératoire", "Contrôle post-opératoire"]


def load_frontdesk_demo(crisis, agent) -> None:
    """Set up a site, departments, practitioners and a cash desk, then a morning of work; idempotent."""
    if Site.objects.filter(crisis=crisis).exists():
        return
    site = Site.objects.create(crisis=crisis, code="CHU", name="CHU de Démo — site principal", id_prefix="99",
                               first_number=900000, last_number=909999)
    cardio = Department.objects.create(crisis=crisis, name="Cardiologie")
    radio = Department.objects.create(crisis=crisis, name="Imagerie médicale")
    surgery = Department.objects.create(crisis=crisis, name="Chirurgie orthopédique")
    practitioners = [
        Practitioner.objects.create(crisis=crisis, name="Dr Le Floch", department=cardio, rpps="10101010101"),
        Practitioner.objects.create(crisis=crisis, name="Dr Nédélec", department=radio),
        Practitioner.objects.create(crisis=crisis, name="Dr Guillou", department=surgery),
    ]
    desk = CashDesk.objects.create(crisis=crisis, code="C1", name="Caisse des consultations")
    CashDesk.objects.create(crisis=crisis, code="C2", name="Caisse des urgences")

    registered = []
    for birth_name, first_names, born, sex, used_name, status, document in PEOPLE:
        patient = Patient(crisis=crisis, site=site, birth_name=birth_name, first_names=first_names, birth_date=born,
                          sex=sex, used_name=used_name, status=status, document_seen=document,
                          birth_place_code="29019", phone="02 98 00 00 00")
        registered.append(patients.create_patient(patient, agent, confirmed_new=True))
    # The same person registered twice by phone, name and first name inverted: left for an agent to merge.
    patients.create_patient(Patient(crisis=crisis, site=site, birth_name="Louis", first_names="Quemener",
                                    birth_date=date(1947, 1, 9), sex="M"), agent, confirmed_new=True)

    tomorrow = timezone.localdate() + timedelta(days=1)
    for index, patient in enumerate(registered):
        starts = timezone.make_aware(datetime.combine(tomorrow, time(9, 0)) + timedelta(minutes=30 * index))
        practitioner = practitioners[index % len(practitioners)]
        booking.book(Appointment(crisis=crisis, patient=patient, department=practitioner.department,
                                 practitioner=practitioner, starts_at=starts, duration=20,
                                 reason=REASONS[index % len(REASONS)],
                                 channel=Appointment.Channel.PHONE), agent)
    documents.receive(PaperDocument(crisis=crisis, patient=registered[0], kind=PaperDocument.Kind.RESULT,
                                    document_date=timezone.localdate() - timedelta(days=3),
                                    issuer="Laboratoire de biologie de Quimper", location="Classeur A, accueil"), agent)
    documents.receive(PaperDocument(crisis=crisis, patient=registered[3], kind=PaperDocument.Kind.PRESCRIPTION,
                                    document_date=timezone.localdate(), issuer="Dr Cornec, médecin traitant",
                                    location="Classeur A, accueil"), agent)
    for patient, amount, method, number in [
        (registered[0], "25.00", Payment.Method.CASH, ""),
        (registered[1], "50.00", Payment.Method.CHEQUE, "0012345"),
        (registered[3], "23.00", Payment.Method.CASH, ""),
    ]:
        cashdesk.take_payment(Payment(crisis=crisis, cash_desk=desk, patient=patient, amount=Decimal(amount),
                                      method=method, cheque_number=number,
                                      cheque_bank="Crédit Mutuel de Bretagne" if number else "",
                                      reason="Consultation"), agent)
