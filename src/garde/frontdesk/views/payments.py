"""Cash and cheque payments: the ledger of a desk's day, receipts, reversals and the signed closing."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from garde.accounts.models import record_access
from garde.accounts.roles import Capability as C
from garde.cell.access import crisis_view
from garde.frontdesk import cashdesk
from garde.frontdesk.forms import ClosingForm, DayForm, PaymentForm, ReversalForm
from garde.frontdesk.models import CashDesk, DayClosing, Payment
from garde.frontdesk.views import parse_uuid, picked_patient
from garde.printing import pdf_response


def _desk(request, crisis) -> CashDesk | None:
    value = request.GET.get("desk")
    desks = CashDesk.objects.filter(crisis=crisis)
    if value:
        return get_object_or_404(desks, pk=parse_uuid(value))
    return desks.first()


@crisis_view(C.USE_FRONTDESK)
def payments(request, crisis):
    desk = _desk(request, crisis)
    day = DayForm(request.GET).day_or_today()
    lines = []
    book = closing = None
    if desk:
        lines = (Payment.objects.filter(cash_desk=desk, business_date=day)
                 .select_related("patient", "cashier", "reverses", "cash_desk").order_by("receipt_number"))
        book = cashdesk.ledger(desk, day)
        closing = DayClosing.objects.filter(cash_desk=desk, business_date=day).first()
        record_access(request.user, "frontdesk_ledger", f"{desk.code} {day} ({len(lines)})")
    reversed_ids = set(Payment.objects.filter(reverses__in=lines).values_list("reverses_id", flat=True)) if lines else set()
    return render(request, "frontdesk/payments.html", {
        "crisis": crisis, "desk": desk, "desks": CashDesk.objects.filter(crisis=crisis), "day": day, "lines": lines,
        "ledger": book, "closing": closing, "reversed_ids": reversed_ids,
    })


@crisis_view(C.USE_FRONTDESK)
def payment_new(request, crisis):
    patient = picked_patient(request, crisis)
    if patient is None:
        return render(request, "frontdesk/pick_patient.html", {
            "crisis": crisis, "next": "payment", "title": _("Take a payment")})
    record_access(request.user, "frontdesk_patient", patient.downtime_id)
    desks = CashDesk.objects.filter(crisis=crisis)
    initial = {"patient": patient.pk, "method": Payment.Method.CASH}
    if request.session.get("frontdesk_desk"):
        initial["cash_desk"] = request.session["frontdesk_desk"]
    elif desks.count() == 1:
        initial["cash_desk"] = desks.first().pk
    form = PaymentForm(request.POST or None, crisis=crisis, initial=initial)
    if request.method == "POST" and form.is_valid():
        payment = form.save(commit=False)
        payment.crisis = crisis
        try:
            cashdesk.take_payment(payment, request.user)
        except cashdesk.DayClosed:
            form.add_error("cash_desk", _("This cash desk's day is closed: take the payment at another desk."))
        else:
            # The agent keeps working at the same desk: preselect it next time.
            request.session["frontdesk_desk"] = str(payment.cash_desk_id)
            messages.success(request, _("Payment recorded: receipt %(receipt)s, %(amount)s €.") % {
                "receipt": payment.receipt, "amount": formats.number_format(payment.amount, 2)})
            return redirect("frontdesk_patient", crisis.pk, patient.pk)
    return render(request, "frontdesk/payment_form.html", {"crisis": crisis, "form": form, "patient": patient})


@crisis_view(C.USE_FRONTDESK)
def receipt_pdf(request, crisis, payment_id):
    payment = get_object_or_404(Payment.objects.select_related("patient", "cash_desk", "cashier", "reverses"),
                                pk=payment_id, crisis=crisis)
    record_access(request.user, "frontdesk_receipt", f"{payment.receipt} {payment.patient.downtime_id}")
    return pdf_response("frontdesk/print/receipt.html", {"crisis": crisis, "payment": payment},
                        f"recu-{payment.receipt}.pdf", request)


@crisis_view(C.USE_FRONTDESK)
def payment_reverse(request, crisis, payment_id):
    original = get_object_or_404(Payment.objects.select_related("patient", "cash_desk"), pk=payment_id, crisis=crisis)
    record_access(request.user, "frontdesk_receipt", f"{original.receipt} {original.patient.downtime_id}")
    form = ReversalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reversal = cashdesk.reverse(original, request.user, form.cleaned_data["reason"])
        except cashdesk.AlreadyReversed:
            messages.error(request, _("This payment is already reversed, or is itself a reversal."))
        except cashdesk.DayClosed:
            messages.error(request, _("Today's day is closed at this cash desk: reverse the payment tomorrow "
                                      "or at another desk."))
        else:
            messages.success(request, _("Receipt %(original)s reversed by %(reversal)s.") % {
                "original": original.receipt, "reversal": reversal.receipt})
        return redirect("frontdesk_patient", crisis.pk, original.patient_id)
    return render(request, "frontdesk/payment_reverse.html", {"crisis": crisis, "payment": original, "form": form})


@crisis_view(C.USE_FRONTDESK)
def closing(request, crisis, desk_id):
    desk = get_object_or_404(CashDesk, pk=desk_id, crisis=crisis)
    day = DayForm(request.GET).day_or_today()
    existing = DayClosing.objects.filter(cash_desk=desk, business_date=day).first()
    book = cashdesk.ledger(desk, day)
    form = ClosingForm(request.POST or None, user=request.user, ledger=book)
    future = day > timezone.localdate()
    if existing is None and not future and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cashdesk.close_day(desk, day, data["counted_cash"], data["counted_cheques"], data["counted_cheque_count"],
                               data["comment"], request.user)
        except cashdesk.DayClosed:
            messages.error(request, _("This day was closed meanwhile by someone else."))
        else:
            messages.success(request, _("Day closed and signed."))
        return redirect(f"{request.path}?day={day:%Y-%m-%d}")
    return render(request, "frontdesk/closing.html", {
        "crisis": crisis, "desk": desk, "day": day, "ledger": book, "form": form, "closing": existing,
        "future": future,
    })
