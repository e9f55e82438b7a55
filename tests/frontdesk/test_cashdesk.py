"""Payments, receipts, reversals and the closing of a day."""

from decimal import Decimal

import pytest
from django.utils import timezone

from garde.cell.models import ImmutableError, LogEntry
from garde.frontdesk import cashdesk
from garde.frontdesk.models import Payment


def test_it_numbers_receipts_in_sequence_per_cash_desk(make_patient, pay):
    patient = make_patient()
    receipts = [pay(patient).receipt for _ in range(3)]
    assert receipts == ["C1-000001", "C1-000002", "C1-000003"]


def test_it_never_changes_or_deletes_a_payment(make_patient, pay):
    payment = pay(make_patient())
    payment.amount = Decimal("1.00")
    with pytest.raises(ImmutableError):
        payment.save()
    with pytest.raises(ImmutableError):
        payment.delete()


def test_it_cancels_a_payment_by_a_reversal_line(make_patient, pay, agent, desk):
    original = pay(make_patient(), "40.00", Payment.Method.CHEQUE, cheque_number="1234567", cheque_bank="Crédit Breton")
    reversal = cashdesk.reverse(original, agent, "erreur de montant")
    assert (reversal.amount, reversal.reverses, reversal.receipt_number) == (Decimal("-40.00"), original, 2)
    with pytest.raises(cashdesk.AlreadyReversed):
        cashdesk.reverse(original, agent, "deux fois")
    book = cashdesk.ledger(desk["cash"], timezone.localdate())
    assert (book.cheques, book.cheque_count, book.lines) == (Decimal("0.00"), 0, 2)


def test_it_closes_a_day_with_a_signed_discrepancy_and_freezes_it(crisis, make_patient, pay, agent, desk):
    patient = make_patient()
    pay(patient, "25.00")
    pay(patient, "12.50")
    pay(patient, "60.00", Payment.Method.CHEQUE, cheque_number="0000012", cheque_bank="Banque du Léon")
    today = timezone.localdate()
    closing = cashdesk.close_day(desk["cash"], today, Decimal("35.50"), Decimal("60.00"), 1, "2 € manquants", agent)
    assert (closing.ledger_cash, closing.cash_discrepancy, closing.cheque_discrepancy) == (
        Decimal("37.50"), Decimal("-2.00"), Decimal("0.00"))
    assert not closing.balanced and closing.signed_by == agent
    assert (closing.receipts_from, closing.receipts_to) == (1, 3)
    assert "-2.00" in LogEntry.objects.filter(crisis=crisis).order_by("-seq").first().text
    with pytest.raises(cashdesk.DayClosed):
        pay(patient)
    with pytest.raises(cashdesk.DayClosed):
        cashdesk.close_day(desk["cash"], today, Decimal("0"), Decimal("0"), 0, "", agent)
    with pytest.raises(ImmutableError):
        closing.save()
