"""The identity register: creating patients with a downtime identifier, finding them, and merging duplicates."""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from garde.cell import journal
from garde.cell.models import Crisis, LogEntry
from garde.frontdesk.models import Patient, Site
from garde.lib.identity import Traits, duplicate_reason, first_name, normalise_name

DUPLICATE_REASONS = {
    "same_traits": gettext_lazy("same name, first name and date of birth"),
    "inverted": gettext_lazy("name and first name inverted, same date of birth"),
    "date_slip": gettext_lazy("same name and first name, date of birth differs by one typing slip"),
}
SEARCH_LIMIT = 20


class RangeExhausted(Exception):
    """The site has used every identifier the main system reserved for it."""


class ProbableDuplicate(Exception):
    def __init__(self, matches):
        super().__init__("probable duplicate")
        self.matches = matches


@dataclass(frozen=True)
class Match:
    patient: Patient
    reason: str

    @property
    def reason_text(self) -> str:
        return str(DUPLICATE_REASONS[self.reason])


def search_names(patient: Patient) -> str:
    """Every name of the patient, normalised, between spaces: a prefix search is then `LIKE '% dup%'`."""
    words = {normalise_name(v) for v in (patient.birth_name, patient.used_name, patient.first_names,
                                         patient.used_first_name) if v}
    return " " + " ".join(sorted(words)) + " "


def traits_of(patient: Patient) -> Traits:
    return Traits(patient.birth_name, patient.first_names, patient.birth_date, patient.sex, patient.used_name)


def probable_duplicates(crisis: Crisis, traits: Traits, exclude=None) -> list[Match]:
    """Patients of the crisis that are probably the person described by `traits`."""
    if not (traits.birth_name or traits.used_name) or not traits.first_names:
        return []
    keys = {normalise_name(traits.birth_name), normalise_name(traits.used_name), first_name(traits.first_names)}
    keys.discard("")
    # Narrow down in the database (same birth date, or a shared name word), then judge each in Python.
    query = Q(birth_date=traits.birth_date) if traits.birth_date else Q()
    for key in keys:
        for word in key.split():
            if len(word) >= 2:
                query |= Q(search_names__contains=f" {word}")
    candidates = Patient.objects.filter(crisis=crisis, merged_into__isnull=True).filter(query)
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    matches = []
    for candidate in candidates[:500]:
        reason = duplicate_reason(traits, traits_of(candidate))
        if reason:
            matches.append(Match(candidate, reason))
    return matches


def create_patient(patient: Patient, user, *, confirmed_new: bool = False) -> Patient:
    """Give the patient the next identifier of its site and save it.

    The site row is locked for the whole check-then-insert, so two agents registering the same person at
    the same moment queue up: the second one is shown the first one's patient as a probable duplicate
    instead of silently creating a second patient.
    """
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=patient.site_id)
        if not confirmed_new:
            matches = probable_duplicates(patient.crisis, traits_of(patient))
            if matches:
                raise ProbableDuplicate(matches)
        if site.next_number > site.last_number:
            raise RangeExhausted(site.code)
        patient.downtime_id = site.identifier(site.next_number)
        site.next_number += 1
        site.save(update_fields=["next_number"])
        patient.created_by = user
        patient.search_names = search_names(patient)
        patient.save(force_insert=True)
    return patient


def update_patient(patient: Patient) -> Patient:
    patient.search_names = search_names(patient)
    patient.save()
    return patient


def search(crisis: Crisis, text: str) -> list[Patient]:
    """Patients matching a few keystrokes: name prefixes in any order, a date (dd/mm/yyyy) or an identifier."""
    text = text.strip()
    if not text:
        return []
    patients = Patient.objects.filter(crisis=crisis, merged_into__isnull=True)
    query = Q()
    for word in text.split():
        parsed = _parse_date(word)
        if parsed:
            query &= Q(birth_date=parsed)
        elif any(c.isdigit() for c in word):
            query &= Q(downtime_id__icontains=word) | Q(ins__startswith=word.replace(" ", "")) | Q(phone__contains=word)
        else:
            normalised = normalise_name(word)
            for part in normalised.split():
                query &= Q(search_names__contains=f" {part}")
    return list(patients.filter(query)[:SEARCH_LIMIT])


def _parse_date(word: str) -> date | None:
    for separator in "/.-":
        parts = word.split(separator)
        if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
            try:
                return date(int(parts[2]), int(parts[1]), int(parts[0]))
            except ValueError:
                return None
    return None


@transaction.atomic
def merge(crisis: Crisis, kept: Patient, duplicate: Patient, user) -> Patient:
    """Move everything of `duplicate` onto `kept`; the duplicate stays, marked merged, for the record."""
    if kept.pk == duplicate.pk or duplicate.merged_into_id or kept.merged_into_id:
        raise ValueError("these two patients cannot be merged")
    now = timezone.now()
    moved = {}
    for relation in ("appointments", "documents", "payments"):
        # Plain UPDATE: payments are immutable through save(), but which patient they belong to is
        # bookkeeping of the identity, not of the money.
        moved[relation] = getattr(duplicate, relation).update(patient=kept, changed_at=now)
    Patient.objects.filter(pk=duplicate.pk).update(merged_into=kept, changed_at=now)
    duplicate.merged_into = kept
    # The running log is read by the whole cell: it names identifiers, never a patient's identity.
    journal.record(
        crisis,
        _("Front desk: patient %(dup)s merged into %(kept)s (%(a)d appointments, %(d)d documents, "
          "%(p)d payments moved).") % {"dup": duplicate.downtime_id, "kept": kept.downtime_id,
                                       "a": moved["appointments"], "d": moved["documents"], "p": moved["payments"]},
        kind=LogEntry.Kind.ACTION,
        author=user,
    )
    return kept
