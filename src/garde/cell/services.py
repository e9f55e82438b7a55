"""Changes that matter to the crisis, each written to the running log by itself.

Views call these functions instead of saving models, so that no decision, action, report or
declaration can change without a trace in the log.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from garde.cell import journal
from garde.cell.clocks import sync_obligations
from garde.cell.models import (
    Action,
    ActionTemplate,
    Crisis,
    Decision,
    ImmutableError,
    LogEntry,
    Membership,
    Obligation,
    SitRep,
)
from garde.lib.hashing import canonical_json, sha256_bytes

TRACKED_CRISIS_FIELDS = ["title", "kind", "t0", "severity", "phase", "personal_data", "nis2", "next_point_at"]


def _show(crisis: Crisis, field: str) -> str:
    value = getattr(crisis, field)
    display = getattr(crisis, f"get_{field}_display", None)
    if display:
        return str(display())
    if hasattr(value, "tzinfo"):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value) if value is not None else "—"


@transaction.atomic
def open_crisis(crisis: Crisis, creator, creator_role: str) -> Crisis:
    crisis.save()
    Membership.objects.create(crisis=crisis, user=creator, role=creator_role)
    sync_obligations(crisis)
    journal.record(
        crisis,
        _("Crisis opened: %(title)s. T0: %(t0)s.") % {"title": crisis.title, "t0": _show(crisis, "t0")},
        kind=LogEntry.Kind.FACT,
        author=creator,
    )
    return crisis


@transaction.atomic
def update_crisis(crisis: Crisis, before: dict, user) -> None:
    """Save the crisis and log each tracked field that changed (before: values read before editing)."""
    crisis.save()
    changes = []
    for field in TRACKED_CRISIS_FIELDS:
        if before[field] != getattr(crisis, field):
            label = Crisis._meta.get_field(field).verbose_name
            changes.append(f"{label}: {_show(crisis, field)}")
    if changes:
        sync_obligations(crisis)
        journal.record(crisis, _("Crisis updated — ") + "; ".join(changes), author=user)


def snapshot(crisis: Crisis) -> dict:
    return {field: getattr(crisis, field) for field in TRACKED_CRISIS_FIELDS}


@transaction.atomic
def record_decision(decision: Decision, user) -> Decision:
    decision.recorded_by = user
    decision.save()
    text = _("Decision: %(title)s (decided by %(who)s)") % {"title": decision.title, "who": decision.decided_by}
    if decision.rationale:
        text += " — " + _("why: %(why)s") % {"why": decision.rationale}
    journal.record(decision.crisis, text, kind=LogEntry.Kind.DECISION, author=user, occurred_at=decision.decided_at)
    return decision


@transaction.atomic
def create_action(action: Action, user) -> Action:
    action.save()
    journal.record(action.crisis, _("Action created: %(title)s") % {"title": action.title},
                   kind=LogEntry.Kind.ACTION, author=user)
    return action


@transaction.atomic
def set_action_status(action: Action, status: str, user) -> Action:
    if action.status == status:
        return action
    action.status = status
    action.done_at = timezone.now() if status == Action.Status.DONE else None
    action.save(update_fields=["status", "done_at"])
    journal.record(
        action.crisis,
        _("Action “%(title)s”: %(status)s") % {"title": action.title, "status": action.get_status_display()},
        kind=LogEntry.Kind.ACTION,
        author=user,
    )
    return action


@transaction.atomic
def create_first_hour_checklist(crisis: Crisis, user) -> int:
    """Create the actions of the first-hour checklist that the crisis does not have yet."""
    existing = set(Action.objects.filter(crisis=crisis).values_list("title", flat=True))
    created = 0
    for item in ActionTemplate.objects.filter(active=True):
        if item.title in existing:
            continue
        Action.objects.create(
            crisis=crisis,
            title=item.title,
            details=item.details,
            priority=item.priority,
            due_at=crisis.t0 + timedelta(minutes=item.due_after_minutes),
        )
        created += 1
    if created:
        journal.record(crisis, ngettext("First-hour checklist created: %(n)d action.", "First-hour checklist created: %(n)d actions.", created) % {"n": created},
                       kind=LogEntry.Kind.ACTION, author=user)
    return created


def sitrep_content(sitrep: SitRep) -> dict:
    return {
        "number": sitrep.number,
        "situation": sitrep.situation,
        "impacts": sitrep.impacts,
        "actions_under_way": sitrep.actions_under_way,
        "needs": sitrep.needs,
        "next_point_at": sitrep.next_point_at.isoformat() if sitrep.next_point_at else None,
    }


def save_sitrep_draft(sitrep: SitRep) -> SitRep:
    if sitrep.pk and SitRep.objects.filter(pk=sitrep.pk, status=SitRep.Status.PUBLISHED).exists():
        raise ImmutableError(_("A published situation report is frozen: start a new draft instead."))
    sitrep.save()
    return sitrep


@transaction.atomic
def publish_sitrep(sitrep: SitRep, user) -> SitRep:
    """Number the report, freeze it with the hash of its content, and log it."""
    locked = SitRep.objects.select_for_update().get(pk=sitrep.pk)
    if locked.is_published:
        raise ImmutableError(_("This situation report is already published."))
    last = SitRep.objects.filter(crisis=locked.crisis, number__isnull=False).order_by("-number").first()
    locked.number = (last.number + 1) if last else 1
    locked.status = SitRep.Status.PUBLISHED
    locked.published_at = timezone.now()
    locked.published_by = user
    locked.content_hash = sha256_bytes(canonical_json(sitrep_content(locked)))
    locked.save()
    crisis = locked.crisis
    if locked.next_point_at:
        crisis.next_point_at = locked.next_point_at
        crisis.save(update_fields=["next_point_at"])
    journal.record(
        crisis,
        _("Situation report no. %(n)d published (SHA-256 %(hash)s).") % {"n": locked.number, "hash": locked.content_hash},
        kind=LogEntry.Kind.COMMUNICATION,
        author=user,
    )
    return locked


def new_draft_from(crisis: Crisis, user) -> SitRep:
    """A new draft starting from the last published report, so each point only says what changed."""
    last = SitRep.objects.filter(crisis=crisis, status=SitRep.Status.PUBLISHED).order_by("-number").first()
    draft = SitRep(crisis=crisis, created_by=user, situation="")
    if last:
        for field in ("situation", "impacts", "actions_under_way", "needs"):
            setattr(draft, field, getattr(last, field))
    draft.save()
    return draft


@transaction.atomic
def save_obligation_draft(obligation: Obligation, draft: dict, user) -> None:
    obligation.draft = draft
    if obligation.status == Obligation.Status.TODO:
        obligation.status = Obligation.Status.DRAFTING
    obligation.save(update_fields=["draft", "status"])


@transaction.atomic
def set_obligation_owner(obligation: Obligation, owner, user) -> None:
    if obligation.owner_id == (owner.pk if owner else None):
        return
    obligation.owner = owner
    obligation.save(update_fields=["owner"])
    journal.record(
        obligation.crisis,
        _("%(title)s: owner is now %(owner)s.") % {
            "title": obligation.rule.title, "owner": (owner.get_full_name() or owner.get_username()) if owner else "—",
        },
        author=user,
    )


@transaction.atomic
def mark_obligation_sent(obligation: Obligation, sent_at, channel: str, reference: str, user) -> None:
    obligation.status = Obligation.Status.SENT
    obligation.sent_at = sent_at
    obligation.channel = channel
    obligation.reference = reference
    obligation.save(update_fields=["status", "sent_at", "channel", "reference"])
    journal.record(
        obligation.crisis,
        _("Declaration sent: %(title)s — via %(channel)s, reference %(ref)s.")
        % {"title": obligation.rule.title, "channel": channel, "ref": reference or "—"},
        kind=LogEntry.Kind.COMMUNICATION,
        author=user,
        occurred_at=sent_at,
    )


@transaction.atomic
def set_membership(crisis: Crisis, user, role: str, by) -> Membership:
    membership, created = Membership.objects.update_or_create(crisis=crisis, user=user, defaults={"role": role})
    sync_obligations(crisis)
    journal.record(
        crisis,
        (_("%(user)s joins the cell as %(role)s.") if created else _("%(user)s is now %(role)s."))
        % {"user": user.get_full_name() or user.get_username(), "role": membership.get_role_display()},
        author=by,
    )
    return membership


@transaction.atomic
def remove_membership(membership: Membership, by) -> None:
    name = membership.user.get_full_name() or membership.user.get_username()
    crisis = membership.crisis
    membership.delete()
    journal.record(crisis, _("%(user)s leaves the cell.") % {"user": name}, author=by)
