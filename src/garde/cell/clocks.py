"""Regulatory clocks: which obligations apply to a crisis, when each is due and how urgent it is."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from garde.cell.models import Crisis, Membership, Obligation, ObligationRule

# Amber once less than this share of the allowed time is left (at least the last hour is always amber).
SOON_SHARE = 0.25


@dataclass(frozen=True)
class Clock:
    obligation: Obligation
    due_at: datetime | None
    state: str  # "done", "overdue", "soon", "running" or "open" (no fixed deadline)
    seconds_left: int | None
    soon_seconds: int | None = None  # how long before the deadline the clock turns amber

    @property
    def rule(self) -> ObligationRule:
        return self.obligation.rule


def rule_applies(rule: ObligationRule, crisis: Crisis) -> bool:
    if rule.applies_when == ObligationRule.AppliesWhen.PERSONAL_DATA:
        return crisis.personal_data
    if rule.applies_when == ObligationRule.AppliesWhen.NIS2:
        return crisis.nis2
    return True


@transaction.atomic
def sync_obligations(crisis: Crisis) -> None:
    """Create the obligations the crisis's scope calls for, set aside those it no longer calls for, and
    give each unowned obligation to a member holding its owner role."""
    existing = {o.rule_id: o for o in Obligation.objects.filter(crisis=crisis)}
    owners = _owners_by_role(crisis)
    for rule in ObligationRule.objects.all():
        obligation = existing.get(rule.pk)
        applies = rule_applies(rule, crisis)
        if obligation is None and applies:
            Obligation.objects.create(crisis=crisis, rule=rule, owner=owners.get(rule.default_owner_role))
        elif obligation is not None and obligation.owner_id is None and rule.default_owner_role in owners:
            # A member who joins after T0 takes the obligations their role owns that nobody holds yet.
            obligation.owner = owners[rule.default_owner_role]
            obligation.save(update_fields=["owner"])
        elif obligation is not None and not applies and obligation.status == Obligation.Status.TODO:
            obligation.status = Obligation.Status.NOT_APPLICABLE
            obligation.save(update_fields=["status"])
        elif obligation is not None and applies and obligation.status == Obligation.Status.NOT_APPLICABLE:
            obligation.status = Obligation.Status.TODO
            obligation.save(update_fields=["status"])


def _owners_by_role(crisis: Crisis) -> dict:
    owners = {}
    for membership in Membership.objects.filter(crisis=crisis).select_related("user").order_by("user__username"):
        owners.setdefault(membership.role, membership.user)
    return owners


def clock_for(obligation: Obligation, now: datetime | None = None) -> Clock:
    now = now or timezone.now()
    due = obligation.due_at
    if obligation.is_done:
        return Clock(obligation, due, "done", None)
    if due is None:
        return Clock(obligation, None, "open", None)
    left = int((due - now).total_seconds())
    soon = max((due - obligation.crisis.t0) * SOON_SHARE, timedelta(hours=1))
    if left < 0:
        state = "overdue"
    else:
        state = "soon" if timedelta(seconds=left) <= soon else "running"
    return Clock(obligation, due, state, left, int(soon.total_seconds()))


def clocks_for(crisis: Crisis, now: datetime | None = None) -> list[Clock]:
    obligations = Obligation.objects.filter(crisis=crisis).select_related("rule", "owner", "crisis")
    return [clock_for(o, now) for o in obligations if o.status != Obligation.Status.NOT_APPLICABLE]
