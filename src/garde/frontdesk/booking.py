"""Appointments: booking without double-booking a practitioner, cancelling and moving with history."""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from garde.cell.models import Crisis
from garde.frontdesk.models import Appointment, Practitioner

# Free slots are proposed within opening hours, on a quarter-hour grid, over the next days.
DAY_START = time(8, 0)
DAY_END = time(19, 0)
SLOT_STEP = timedelta(minutes=15)
SEARCH_DAYS = 14
PROPOSALS = 3


class SlotTaken(Exception):
    def __init__(self, clash: Appointment, proposals: list[datetime]):
        super().__init__("slot taken")
        self.clash = clash
        self.proposals = proposals


def next_reference(model, crisis: Crisis) -> int:
    """Next number of a register, taken while the caller holds the crisis's register lock."""
    last = model.objects.filter(crisis=crisis).aggregate(last=Max("reference"))["last"]
    return (last or 0) + 1


def _clash(practitioner_id, starts_at: datetime, ends_at: datetime, ignore=None) -> Appointment | None:
    booked = Appointment.objects.filter(
        practitioner_id=practitioner_id, status=Appointment.Status.BOOKED, starts_at__lt=ends_at, ends_at__gt=starts_at,
    )
    if ignore is not None:
        booked = booked.exclude(pk=ignore.pk)
    return booked.order_by("starts_at").first()


def free_slots(practitioner_id, after: datetime, minutes: int, ignore=None, count: int = PROPOSALS) -> list[datetime]:
    """The first `count` starts at or after `after` where the practitioner is free for `minutes`."""
    length = timedelta(minutes=minutes)
    horizon = after + timedelta(days=SEARCH_DAYS)
    booked = Appointment.objects.filter(
        practitioner_id=practitioner_id, status=Appointment.Status.BOOKED, ends_at__gt=after, starts_at__lt=horizon,
    )
    if ignore is not None:
        booked = booked.exclude(pk=ignore.pk)
    busy = list(booked.order_by("starts_at").values_list("starts_at", "ends_at"))
    found = []
    candidate = _on_grid(after)
    while candidate < horizon and len(found) < count:
        local = timezone.localtime(candidate)
        day_end = timezone.make_aware(datetime.combine(local.date(), DAY_END))
        if local.time() < DAY_START:
            candidate = timezone.make_aware(datetime.combine(local.date(), DAY_START))
            continue
        if candidate + length > day_end:
            candidate = timezone.make_aware(datetime.combine(local.date() + timedelta(days=1), DAY_START))
            continue
        overlap = next((b for b in busy if b[0] < candidate + length and b[1] > candidate), None)
        if overlap:
            candidate = _on_grid(overlap[1])
            continue
        found.append(candidate)
        candidate += length
        candidate = _on_grid(candidate)
    return found


def _on_grid(moment: datetime) -> datetime:
    moment = moment.replace(second=0, microsecond=0)
    extra = moment.minute % 15
    return moment + timedelta(minutes=(15 - extra) % 15)


def book(appointment: Appointment, user, *, moved_from: Appointment | None = None) -> Appointment:
    """Save a new appointment, or raise SlotTaken with the next free slots of the practitioner.

    The practitioner's row is locked for the check-then-insert, so two agents booking the same slot at
    the same moment queue up and the second one is told the slot is taken.
    """
    with transaction.atomic():
        Practitioner.objects.select_for_update().filter(pk=appointment.practitioner_id).exists()
        Crisis.objects.select_for_update().filter(pk=appointment.crisis_id).exists()
        ends_at = appointment.starts_at + timedelta(minutes=appointment.duration)
        clash = _clash(appointment.practitioner_id, appointment.starts_at, ends_at, ignore=moved_from)
        if clash:
            raise SlotTaken(clash, free_slots(appointment.practitioner_id, appointment.starts_at,
                                              appointment.duration, ignore=moved_from))
        appointment.reference = next_reference(Appointment, appointment.crisis)
        appointment.created_by = user
        appointment.moved_from = moved_from
        if moved_from is not None:
            _set_status(moved_from, Appointment.Status.MOVED, user, moved_from.status_note)
        appointment.save(force_insert=True)
    return appointment


def _set_status(appointment: Appointment, status: str, user, note: str) -> None:
    appointment.status = status
    appointment.status_note = note
    appointment.status_changed_by = user
    appointment.status_changed_at = timezone.now()
    appointment.save(update_fields=["status", "status_note", "status_changed_by", "status_changed_at", "changed_at"])


def cancel(appointment: Appointment, user, note: str) -> Appointment:
    with transaction.atomic():
        _set_status(appointment, Appointment.Status.CANCELLED, user, note)
    return appointment


def move(appointment: Appointment, starts_at: datetime, duration: int, practitioner: Practitioner, user,
         note: str) -> Appointment:
    """A new appointment replaces the old one, which stays in the register marked as moved."""
    new = Appointment(
        crisis=appointment.crisis, patient=appointment.patient, department=practitioner.department,
        practitioner=practitioner, starts_at=starts_at, duration=duration, reason=appointment.reason,
        channel=appointment.channel,
    )
    appointment.status_note = note
    return book(new, user, moved_from=appointment)
