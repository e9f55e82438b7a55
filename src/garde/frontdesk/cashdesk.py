"""Cash desks: payments with gapless receipt numbers, reversals, and the signed closing of a day."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from garde.cell import journal
from garde.cell.models import LogEntry
from garde.frontdesk.models import CashDesk, DayClosing, Payment

ZERO = Decimal("0.00")


class DayClosed(Exception):
    """The cash desk's day is closed: nothing more is written on it."""


class AlreadyReversed(Exception):
    pass


@dataclass(frozen=True)
class Ledger:
    cash: Decimal
    cheques: Decimal
    cheque_count: int
    lines: int
    first_receipt: int | None
    last_receipt: int | None

    @property
    def total(self) -> Decimal:
        return self.cash + self.cheques


def is_closed(desk: CashDesk, day: date) -> bool:
    return DayClosing.objects.filter(cash_desk=desk, business_date=day).exists()


def take_payment(payment: Payment, user) -> Payment:
    """Record a payment with the next receipt number of its cash desk.

    The number is taken from the desk's counter under a row lock (PostgreSQL) or the database write lock
    taken when the transaction starts (SQLite, IMMEDIATE), and written in the same transaction as the
    payment: two cashiers never get one number, and a failed payment gives its number back.
    """
    with transaction.atomic():
        desk = CashDesk.objects.select_for_update().get(pk=payment.cash_desk_id)
        day = timezone.localdate()
        if is_closed(desk, day):
            raise DayClosed(day)
        payment.receipt_number = desk.next_receipt
        payment.business_date = day
        payment.cashier = user
        desk.next_receipt += 1
        desk.save(update_fields=["next_receipt"])
        payment.save(force_insert=True)
    return payment


def reverse(original: Payment, user, reason: str) -> Payment:
    """Cancel a payment by a line of the opposite amount on today's ledger, whatever day the original was."""
    with transaction.atomic():
        # Lock first, then check: two agents reversing one payment at once must not both succeed.
        CashDesk.objects.select_for_update().filter(pk=original.cash_desk_id).exists()
        if original.reverses_id or Payment.objects.filter(reverses=original).exists():
            raise AlreadyReversed(original.receipt)
        reversal = Payment(
            crisis=original.crisis, cash_desk=original.cash_desk, patient=original.patient,
            amount=-original.amount, method=original.method, cheque_number=original.cheque_number,
            cheque_bank=original.cheque_bank, reason=reason, reverses=original,
        )
        return take_payment(reversal, user)


def ledger(desk: CashDesk, day: date) -> Ledger:
    lines = Payment.objects.filter(cash_desk=desk, business_date=day)
    totals = lines.aggregate(
        cash=Sum("amount", filter=Q(method=Payment.Method.CASH)),
        cheques=Sum("amount", filter=Q(method=Payment.Method.CHEQUE)),
        # A reversed cheque is handed back: it leaves the drawer, so it counts minus one.
        cheques_in=Count("pk", filter=Q(method=Payment.Method.CHEQUE, amount__gt=0)),
        cheques_out=Count("pk", filter=Q(method=Payment.Method.CHEQUE, amount__lt=0)),
        lines=Count("pk"), first=Min("receipt_number"), last=Max("receipt_number"),
    )
    return Ledger(
        cash=totals["cash"] or ZERO, cheques=totals["cheques"] or ZERO,
        cheque_count=totals["cheques_in"] - totals["cheques_out"], lines=totals["lines"],
        first_receipt=totals["first"], last_receipt=totals["last"],
    )


def close_day(desk: CashDesk, day: date, counted_cash: Decimal, counted_cheques: Decimal, counted_cheque_count: int,
              comment: str, user) -> DayClosing:
    """Freeze the day's ledger against what the cashier counted; the cashier's signature is `user`."""
    with transaction.atomic():
        desk = CashDesk.objects.select_for_update().get(pk=desk.pk)
        if is_closed(desk, day):
            raise DayClosed(day)
        book = ledger(desk, day)
        closing = DayClosing.objects.create(
            cash_desk=desk, business_date=day, ledger_cash=book.cash, ledger_cheques=book.cheques,
            ledger_cheque_count=book.cheque_count, counted_cash=counted_cash, counted_cheques=counted_cheques,
            counted_cheque_count=counted_cheque_count, comment=comment, signed_by=user,
            signed_name=user.get_full_name() or user.get_username(),
            receipts_from=book.first_receipt, receipts_to=book.last_receipt,
        )
        text = _("Front desk: cash desk %(desk)s closed for %(day)s by %(who)s — ledger %(ledger)s €, counted "
                 "%(counted)s € (cash %(cash)+.2f €, cheques %(cheques)+.2f €).") % {
            "desk": desk.code, "day": formats.date_format(day, "SHORT_DATE_FORMAT"), "who": closing.signed_name,
            "ledger": book.total, "counted": counted_cash + counted_cheques,
            "cash": closing.cash_discrepancy, "cheques": closing.cheque_discrepancy,
        }
        journal.record(desk.crisis, text, kind=LogEntry.Kind.FACT, author=user)
    return closing
