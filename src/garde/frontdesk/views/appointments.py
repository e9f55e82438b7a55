"""Appointments by phone or at the desk, and the day lists that print for each department and practitioner."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from garde.accounts.models import record_access
from garde.accounts.roles import Capability as C
from garde.cell.access import crisis_view
from garde.frontdesk import booking
from garde.frontdesk.forms import AppointmentForm, CancelForm, DayForm, MoveForm
from garde.frontdesk.models import Appointment, Department, Practitioner
from garde.frontdesk.views import parse_uuid, picked_patient
from garde.printing import pdf_response


def _day_list(request, crisis):
    day = DayForm(request.GET).day_or_today()
    start = timezone.make_aware(datetime.combine(day, time.min))
    items = (Appointment.objects.filter(crisis=crisis, starts_at__gte=start, starts_at__lt=start + timedelta(days=1))
             .select_related("patient", "practitioner", "department").order_by("starts_at"))
    department = practitioner = None
    if request.GET.get("department"):
        department = get_object_or_404(Department, pk=parse_uuid(request.GET["department"]), crisis=crisis)
        items = items.filter(department=department)
    if request.GET.get("practitioner"):
        practitioner = get_object_or_404(Practitioner, pk=parse_uuid(request.GET["practitioner"]), crisis=crisis)
        items = items.filter(practitioner=practitioner)
    if request.GET.get("all") != "1":
        items = items.filter(status=Appointment.Status.BOOKED)
    return {
        "crisis": crisis, "day": day, "items": items, "department": department, "practitioner": practitioner,
        "departments": Department.objects.filter(crisis=crisis),
        "practitioners": Practitioner.objects.filter(crisis=crisis), "show_all": request.GET.get("all") == "1",
        "previous_day": day - timedelta(days=1), "next_day": day + timedelta(days=1),
    }


def _list_target(context) -> str:
    scope = context["practitioner"] or context["department"] or _("all")
    return f"{context['day']} {scope} ({len(context['items'])})"


@crisis_view(C.USE_FRONTDESK)
def appointments(request, crisis):
    context = _day_list(request, crisis)
    record_access(request.user, "frontdesk_day_list", _list_target(context))
    context["query"] = request.GET.urlencode()
    return render(request, "frontdesk/appointments.html", context)


@crisis_view(C.USE_FRONTDESK)
def appointments_pdf(request, crisis):
    context = _day_list(request, crisis)
    record_access(request.user, "frontdesk_day_list_pdf", _list_target(context))
    return pdf_response("frontdesk/print/day_list.html", context, f"rendez-vous-{context['day']:%Y%m%d}.pdf", request)


@crisis_view(C.USE_FRONTDESK)
def appointment_new(request, crisis):
    patient = picked_patient(request, crisis)
    if patient is None:
        return render(request, "frontdesk/pick_patient.html", {
            "crisis": crisis, "next": "appointment", "title": _("Book an appointment")})
    record_access(request.user, "frontdesk_patient", patient.downtime_id)
    initial = {"patient": patient.pk, "duration": 20}
    if request.GET.get("starts_at"):
        initial["starts_at"] = request.GET["starts_at"]
    if request.GET.get("practitioner"):
        initial["practitioner"] = request.GET["practitioner"]
    form = AppointmentForm(request.POST or None, crisis=crisis, initial=initial)
    proposals = []
    if request.method == "POST" and form.is_valid():
        appointment = form.save(commit=False)
        appointment.crisis = crisis
        appointment.department = appointment.practitioner.department
        try:
            booking.book(appointment, request.user)
        except booking.SlotTaken as taken:
            proposals = taken.proposals
            form.add_error("starts_at", _slot_taken_message(taken))
        else:
            messages.success(request, _("Appointment %(ref)s booked: %(when)s with %(who)s.") % {
                "ref": appointment, "who": appointment.practitioner.name,
                "when": formats.date_format(timezone.localtime(appointment.starts_at), "DATETIME_FORMAT")})
            return redirect("frontdesk_patient", crisis.pk, patient.pk)
    return render(request, "frontdesk/appointment_form.html", {
        "crisis": crisis, "form": form, "patient": patient, "proposals": proposals,
    })


def _slot_taken_message(taken: booking.SlotTaken) -> str:
    clash = taken.clash
    text = _("%(who)s is already booked from %(start)s to %(end)s.") % {
        "who": clash.practitioner.name,
        "start": formats.time_format(timezone.localtime(clash.starts_at), "H:i"),
        "end": formats.time_format(timezone.localtime(clash.ends_at), "H:i"),
    }
    if taken.proposals:
        slots = ", ".join(formats.date_format(timezone.localtime(s), "D d/m H:i") for s in taken.proposals)
        text += " " + _("Next free slots: %(slots)s.") % {"slots": slots}
    else:
        text += " " + _("No free slot in the next two weeks.")
    return text


@crisis_view(C.USE_FRONTDESK)
def appointment(request, crisis, appointment_id):
    item = get_object_or_404(Appointment.objects.select_related("patient", "practitioner", "department"),
                             pk=appointment_id, crisis=crisis)
    record_access(request.user, "frontdesk_appointment", f"{item} {item.patient.downtime_id}")
    history = []
    cursor = item
    while cursor.moved_from_id:
        cursor = cursor.moved_from
        history.append(cursor)
    moved_to = getattr(item, "moved_to", None) if item.status == Appointment.Status.MOVED else None
    return render(request, "frontdesk/appointment.html", {
        "crisis": crisis, "item": item, "history": history, "moved_to": moved_to,
        "cancel_form": CancelForm(),
    })


@require_POST
@crisis_view(C.USE_FRONTDESK)
def appointment_cancel(request, crisis, appointment_id):
    item = get_object_or_404(Appointment, pk=appointment_id, crisis=crisis)
    form = CancelForm(request.POST)
    if item.status != Appointment.Status.BOOKED:
        messages.error(request, _("Only a booked appointment can be cancelled."))
    elif not form.is_valid():
        messages.error(request, _("Say why the appointment is cancelled."))
    else:
        booking.cancel(item, request.user, form.cleaned_data["note"])
        messages.success(request, _("Appointment %(ref)s cancelled.") % {"ref": item})
    return redirect("frontdesk_appointment", crisis.pk, item.pk)


@crisis_view(C.USE_FRONTDESK)
def appointment_move(request, crisis, appointment_id):
    item = get_object_or_404(Appointment.objects.select_related("patient", "practitioner"), pk=appointment_id,
                             crisis=crisis)
    record_access(request.user, "frontdesk_appointment", f"{item} {item.patient.downtime_id}")
    if item.status != Appointment.Status.BOOKED:
        messages.error(request, _("Only a booked appointment can be moved."))
        return redirect("frontdesk_appointment", crisis.pk, item.pk)
    form = MoveForm(request.POST or None, crisis=crisis, initial={
        "practitioner": item.practitioner_id, "duration": item.duration,
        "starts_at": request.GET.get("starts_at") or timezone.localtime(item.starts_at)})
    proposals = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new = booking.move(item, data["starts_at"], data["duration"], data["practitioner"], request.user,
                               data["note"])
        except booking.SlotTaken as taken:
            proposals = taken.proposals
            form.add_error("starts_at", _slot_taken_message(taken))
        else:
            messages.success(request, _("Appointment moved: %(old)s is replaced by %(new)s.") % {"old": item, "new": new})
            return redirect("frontdesk_appointment", crisis.pk, new.pk)
    return render(request, "frontdesk/appointment_move.html", {
        "crisis": crisis, "item": item, "form": form, "proposals": proposals,
    })
