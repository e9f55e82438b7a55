"""What the public may see: public services, their state and public message, published notices, nothing else.

The same snapshot feeds the public page and the Statuspage-compatible API. It is cached, because in a
crisis patients, partners and monitors reload it constantly; a board change makes the cache stale at
once in this process (services.public_changed) and in the others within PUBLIC_CACHE_SECONDS.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from garde.cell.models import Crisis
from garde.continuity.models import PublicNotice, ServiceStatus
from garde.continuity.services import PUBLIC_VERSION_KEY
from garde.lib.hashing import sha256_bytes

PUBLIC_CACHE_SECONDS = 10
RANK = {ServiceStatus.State.DOWN: 0, ServiceStatus.State.DEGRADED: 1, ServiceStatus.State.UP: 2}
# Statuspage's vocabulary: a degraded service still works, with less; a service down is an outage.
COMPONENT_STATUS = {
    ServiceStatus.State.UP: "operational",
    ServiceStatus.State.DEGRADED: "degraded_performance",
    ServiceStatus.State.DOWN: "major_outage",
}


@dataclass(frozen=True)
class Component:
    id: str
    name: str
    state: str
    message: str
    since: datetime | None
    updated_at: datetime | None
    position: int


@dataclass(frozen=True)
class Incident:
    id: str
    started_at: datetime
    updated_at: datetime
    components: tuple[str, ...]
    messages: tuple[str, ...]
    impact: str


@dataclass(frozen=True)
class Notice:
    id: str
    title: str
    body: str
    published_at: datetime


@dataclass(frozen=True)
class Snapshot:
    components: tuple[Component, ...]
    incidents: tuple[Incident, ...]
    updated_at: datetime
    notices: tuple[Notice, ...] = ()

    @property
    def indicator(self) -> str:
        states = {c.state for c in self.components}
        if ServiceStatus.State.DOWN in states:
            return "major"
        if ServiceStatus.State.DEGRADED in states:
            return "minor"
        return "none"


def cached(key: str, build, lang: str):
    version = cache.get(PUBLIC_VERSION_KEY, 0)
    full_key = f"continuity:public:{version}:{key}:{lang}"
    value = cache.get(full_key)
    if value is None:
        value = build()
        cache.set(full_key, value, PUBLIC_CACHE_SECONDS)
    return value


def snapshot(lang: str) -> Snapshot:
    return cached("snapshot", lambda: _build(lang), lang)


def _map_services() -> list:
    from garde.systems import store

    try:
        return [n for n in store.load().map.services if n.public]
    except store.NoMap:
        return []


def _build(lang: str) -> Snapshot:
    now = timezone.now()
    rows = list(
        ServiceStatus.objects.filter(public=True).exclude(crisis__phase=Crisis.Phase.CLOSED).order_by("crisis_id")
    )
    worst: dict[str, ServiceStatus] = {}
    for row in rows:
        if row.service not in worst or RANK[row.state] < RANK[worst[row.service].state]:
            worst[row.service] = row
    names = {n.id: (n.name, n.criticality or 0) for n in _map_services()}
    for row in worst.values():
        names.setdefault(row.service, (row.name, row.criticality))
    ordered = sorted(names, key=lambda s: (-names[s][1], names[s][0]))
    components = []
    for position, service in enumerate(ordered, start=1):
        row = worst.get(service)
        components.append(Component(
            id=service, name=names[service][0],
            state=row.state if row else ServiceStatus.State.UP,
            message=row.public_message(lang) if row else "",
            since=row.since if row and not row.is_up else None,
            updated_at=row.updated_at if row else None,
            position=position,
        ))
    incidents = []
    by_crisis: dict = {}
    for row in rows:
        if not row.is_up:
            by_crisis.setdefault(row.crisis_id, []).append(row)
    for crisis_id, affected in by_crisis.items():
        # An opaque id: the public must not be able to tell crises apart by their internal identifiers.
        incidents.append(Incident(
            id=sha256_bytes(f"incident:{crisis_id}".encode())[:16],
            started_at=min(r.since for r in affected),
            updated_at=max(r.updated_at for r in affected),
            components=tuple(r.service for r in affected),
            messages=tuple(dict.fromkeys(m for m in (r.public_message(lang) for r in affected) if m)),
            impact="major" if any(r.state == ServiceStatus.State.DOWN for r in affected) else "minor",
        ))
    incidents.sort(key=lambda i: i.started_at, reverse=True)
    notices = tuple(_notices(lang))
    updated = max([c.updated_at for c in components if c.updated_at] + [n.published_at for n in notices] or [now])
    return Snapshot(components=tuple(components), incidents=tuple(incidents), updated_at=updated, notices=notices)


def _notices(lang: str):
    """Notices shown until withdrawn, whatever the crisis's phase: taking one down is a decision of its own.
    Only the title and the text go out; the crisis and the source stay inside."""
    for notice in PublicNotice.objects.filter(withdrawn_at__isnull=True).order_by("-published_at"):
        yield Notice(id=sha256_bytes(f"notice:{notice.pk}".encode())[:16], title=notice.title(lang),
                     body=notice.body(lang), published_at=notice.published_at)
