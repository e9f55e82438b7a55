"""Changes to the status board, each written to the running log, and the public snapshot.

Views call these functions instead of saving ServiceStatus, so that no state or message changes without a
line in the running log, and the public page and API are refreshed at once.
"""

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from garde import impact
from garde.cell import journal
from garde.cell.models import Crisis, LogEntry
from garde.continuity.models import PublicNotice, ServiceStatus

STATE_OF = {
    impact.State.UP: ServiceStatus.State.UP,
    impact.State.DEGRADED: ServiceStatus.State.DEGRADED,
    impact.State.DOWN: ServiceStatus.State.DOWN,
}
PUBLIC_VERSION_KEY = "continuity:public-version"


def public_changed() -> None:
    """Make every cached public page and API answer stale (other processes follow within the TTL)."""
    try:
        cache.incr(PUBLIC_VERSION_KEY)
    except ValueError:
        cache.set(PUBLIC_VERSION_KEY, 1, None)


def _copy_from_map(row: ServiceStatus, node: impact.Node) -> None:
    row.name = node.name
    row.criticality = node.criticality or 0
    row.max_downtime_minutes = node.max_downtime_minutes
    row.public = node.public
    row.procedure = node.procedure
    row.default_public_message = node.public_message


@transaction.atomic
def fill_from_map(crisis: Crisis, map_: impact.Map, user) -> int:
    """Put every business service of the map on the board, in its normal state; return how many were added."""
    existing = set(ServiceStatus.objects.filter(crisis=crisis).values_list("service", flat=True))
    normal = impact.simulate(map_, ())
    added = 0
    for node in map_.services:
        if node.id in existing:
            continue
        row = ServiceStatus(crisis=crisis, service=node.id, state=STATE_OF[normal.states[node.id]],
                            source=ServiceStatus.Source.MAP, updated_by=user)
        _copy_from_map(row, node)
        row.save()
        added += 1
    if added:
        journal.record(crisis, ngettext("Status board set up with %(n)d business service of the map.",
                                        "Status board set up with %(n)d business services of the map.", added) % {"n": added},
                       kind=LogEntry.Kind.INFORMATION, author=user)
        public_changed()
    return added


@transaction.atomic
def apply_result(crisis: Crisis, result: impact.Result, user) -> list[ServiceStatus]:
    """Set the board from a scenario's result; log every service whose state changes. Returns those."""
    rows = {row.service: row for row in ServiceStatus.objects.select_for_update().filter(crisis=crisis)}
    now = timezone.now()
    changed = []
    for impact_row in result.services():
        node = impact_row.node
        row = rows.get(node.id) or ServiceStatus(crisis=crisis, service=node.id, since=now)
        _copy_from_map(row, node)
        new_state = STATE_OF[impact_row.state]
        is_change = row._state.adding or row.state != new_state
        if row.state != new_state:
            row.since = now
        row.state = new_state
        row.source = ServiceStatus.Source.SCENARIO
        row.reason_fr = impact_row.reason_fr if impact_row.state != impact.State.UP else ""
        row.reason_en = impact_row.reason_en if impact_row.state != impact.State.UP else ""
        row.capabilities_lost = list(impact_row.capabilities_lost)
        row.updated_by = user
        row.save()
        if is_change and (not row.is_up or node.id in rows):
            changed.append(row)
            journal.record(crisis, _status_text(row), kind=LogEntry.Kind.FACT, author=user)
    public_changed()
    return changed


def _status_text(row: ServiceStatus, note: str = "") -> str:
    text = _("Status board: %(service)s is %(state)s.") % {"service": row.name, "state": row.get_state_display()}
    reason = row.reason_fr  # the log is one language for everyone: French, the hospital's language
    if reason and not row.is_up:
        text += " " + reason
    if note:
        text += " — " + _("note: %(note)s") % {"note": note}
    return text


MESSAGE_FIELDS = ["staff_message_fr", "staff_message_en", "public_message_fr", "public_message_en"]


@transaction.atomic
def set_status(row: ServiceStatus, *, state: str, note: str, messages: dict, user) -> bool:
    """Set a service by hand (state, note, messages). Logs the change; returns whether anything changed."""
    row = ServiceStatus.objects.select_for_update().get(pk=row.pk)
    lines = []
    if state != row.state:
        row.state = state
        row.since = timezone.now()
        row.source = ServiceStatus.Source.MANUAL
        if state == ServiceStatus.State.UP:
            row.reason_fr = row.reason_en = ""
            row.capabilities_lost = []
        row.note = note
        lines.append((_status_text(row, note), LogEntry.Kind.FACT))
    elif note != row.note:
        row.note = note
        lines.append((_("Status board: note on %(service)s: %(note)s") % {"service": row.name, "note": note or "—"},
                      LogEntry.Kind.FACT))
    for field in MESSAGE_FIELDS:
        value = messages.get(field, "")
        if value != getattr(row, field):
            setattr(row, field, value)
            label = ServiceStatus._meta.get_field(field).verbose_name
            lines.append((_("Status board: %(service)s, %(field)s: %(value)s") % {
                "service": row.name, "field": label, "value": value or "—"}, LogEntry.Kind.COMMUNICATION))
    if not lines:
        return False
    row.updated_by = user
    row.save()
    for text, kind in lines:
        journal.record(row.crisis, text, kind=kind, author=user)
    public_changed()
    return True


@transaction.atomic
def publish_notice(crisis: Crisis, *, source: str, title_fr: str, title_en: str, body_fr: str, body_en: str,
                   user) -> PublicNotice:
    """Put a text on the public status page; a notice of the same source still shown is replaced by it."""
    for previous in PublicNotice.objects.select_for_update().filter(source=source, withdrawn_at__isnull=True):
        previous.withdrawn_at, previous.withdrawn_by = timezone.now(), user
        previous.save(update_fields=["withdrawn_at", "withdrawn_by"])
    notice = PublicNotice.objects.create(crisis=crisis, source=source, title_fr=title_fr, title_en=title_en,
                                         body_fr=body_fr, body_en=body_en, published_by=user)
    journal.record(crisis, _("Public status page: notice “%(title)s” published.") % {"title": title_fr}
                   + "\n" + body_fr, kind=LogEntry.Kind.COMMUNICATION, author=user)
    public_changed()
    return notice


@transaction.atomic
def withdraw_notice(notice: PublicNotice, user) -> bool:
    """Take a notice off the public status page; returns False when it was already withdrawn."""
    notice = PublicNotice.objects.select_for_update().get(pk=notice.pk)
    if not notice.is_live:
        return False
    notice.withdrawn_at, notice.withdrawn_by = timezone.now(), user
    notice.save(update_fields=["withdrawn_at", "withdrawn_by"])
    journal.record(notice.crisis, _("Public status page: notice “%(title)s” withdrawn.") % {"title": notice.title_fr},
                   kind=LogEntry.Kind.COMMUNICATION, author=user)
    public_changed()
    return True


def live_notice(source: str) -> PublicNotice | None:
    return PublicNotice.objects.filter(source=source, withdrawn_at__isnull=True).first()
