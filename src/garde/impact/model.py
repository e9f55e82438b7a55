"""The IS map: nodes, their dependencies, and how zones reach each other through links.

Plain frozen dataclasses so that a map can be shared between threads and requests without copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from functools import cached_property


class State(IntEnum):
    """Ordered so that ``min`` is the worst state and ``max`` the best."""

    DOWN = 0
    DEGRADED = 1
    UP = 2


class Kind(StrEnum):
    BUSINESS_SERVICE = "business_service"
    APPLICATION = "application"
    DATASTORE = "datastore"
    SERVER = "server"
    IDENTITY = "identity"
    ZONE = "zone"
    EXTERNAL = "external"
    LINK = "link"
    SITE = "site"


class DepKind(StrEnum):
    REQUIRES = "requires"
    REQUIRES_ONE_OF = "requires_one_of"
    DEGRADED_WITHOUT = "degraded_without"
    HOSTED_ON = "hosted_on"
    IN_ZONE = "in_zone"
    AUTHENTICATES_VIA = "authenticates_via"


IDENTITY_KINDS = ("ad", "dns", "pki", "sso", "other")
LINK_KINDS = ("internet", "bank", "partner", "telephony", "wan", "other")

# Which node kinds a dependency may point at; anything else is a modelling error worth naming.
TARGET_KINDS: dict[DepKind, frozenset[Kind]] = {
    DepKind.HOSTED_ON: frozenset({Kind.SERVER}),
    DepKind.IN_ZONE: frozenset({Kind.ZONE}),
    DepKind.AUTHENTICATES_VIA: frozenset({Kind.IDENTITY}),
}

# Dependencies whose target must also be reachable over the network from the source's zone.
NETWORKED = frozenset(
    {DepKind.REQUIRES, DepKind.REQUIRES_ONE_OF, DepKind.DEGRADED_WITHOUT, DepKind.AUTHENTICATES_VIA}
)


@dataclass(frozen=True)
class Dependency:
    kind: DepKind
    targets: tuple[str, ...]
    k: int = 1  # requires_one_of: how many of ``targets`` must be available
    capability: str = ""  # degraded_without: what the source loses without the target


@dataclass(frozen=True)
class Reach:
    """Traffic from the owning zone reaches ``zone``, through ``via`` (a link) when given."""

    zone: str
    via: str = ""


@dataclass(frozen=True)
class Node:
    id: str
    kind: Kind
    name: str
    description: str = ""
    owner: str = ""
    site: str = ""
    ad_tier: int | None = None
    restore_minutes: int = 0
    restore_skill: str = ""
    cached_login: bool = False
    # business services
    criticality: int | None = None
    max_downtime_minutes: int | None = None
    public: bool = False
    procedure: str = ""
    public_message: str = ""
    # identity services and links
    identity_kind: str = ""
    link_kind: str = ""
    # zones
    reaches: tuple[Reach, ...] = ()
    dependencies: tuple[Dependency, ...] = ()

    def deps(self, kind: DepKind) -> tuple[Dependency, ...]:
        return tuple(d for d in self.dependencies if d.kind == kind)

    @property
    def zone(self) -> str:
        for dep in self.dependencies:
            if dep.kind == DepKind.IN_ZONE:
                return dep.targets[0]
        return ""

    @property
    def host(self) -> str:
        for dep in self.dependencies:
            if dep.kind == DepKind.HOSTED_ON:
                return dep.targets[0]
        return ""

    @property
    def tier0(self) -> bool:
        return self.kind == Kind.IDENTITY or self.ad_tier == 0


class ActionKind(StrEnum):
    CUT_LINK = "cut_link"
    ISOLATE_ZONE = "isolate_zone"
    STOP_HOST = "stop_host"
    COMPROMISE_HOST = "compromise_host"


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    target: str

    @classmethod
    def parse(cls, text: str) -> Action:
        """``"cut_link:internet"`` -> Action(CUT_LINK, "internet")."""
        kind, sep, target = text.partition(":")
        if not sep or not target.strip():
            raise ValueError(f"action {text!r}: expected 'kind:target', e.g. 'cut_link:internet'")
        try:
            return cls(ActionKind(kind.strip()), target.strip())
        except ValueError:
            kinds = ", ".join(k.value for k in ActionKind)
            raise ValueError(f"action {text!r}: unknown kind {kind.strip()!r} (expected one of {kinds})") from None

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.target}"


ACTION_TARGET_KINDS: dict[ActionKind, frozenset[Kind]] = {
    ActionKind.CUT_LINK: frozenset({Kind.LINK}),
    ActionKind.ISOLATE_ZONE: frozenset({Kind.ZONE}),
    ActionKind.STOP_HOST: frozenset({Kind.SERVER, Kind.APPLICATION, Kind.DATASTORE, Kind.IDENTITY}),
    ActionKind.COMPROMISE_HOST: frozenset({Kind.SERVER, Kind.APPLICATION, Kind.DATASTORE, Kind.IDENTITY}),
}


@dataclass(frozen=True)
class Scenario:
    name: str
    actions: tuple[Action, ...]
    description: str = ""


@dataclass(frozen=True)
class Map:
    name: str
    nodes: tuple[Node, ...]
    description: str = ""
    scenarios: tuple[Scenario, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @cached_property
    def by_id(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes}

    def __getitem__(self, node_id: str) -> Node:
        return self.by_id[node_id]

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.by_id

    def of_kind(self, kind: Kind) -> list[Node]:
        return [n for n in self.nodes if n.kind == kind]

    @property
    def services(self) -> list[Node]:
        return self.of_kind(Kind.BUSINESS_SERVICE)

    def zone_of(self, node_id: str) -> str:
        """The node's zone, or its host's zone when it declares none (an application lives where its
        server does). Zones are in themselves. Empty when unknown: reachable from everywhere."""
        seen: set[str] = set()
        node = self.by_id.get(node_id)
        while node is not None and node.id not in seen:
            if node.kind == Kind.ZONE:
                return node.id
            if node.zone:
                return node.zone
            seen.add(node.id)
            node = self.by_id.get(node.host)
        return ""

    def scenario(self, name: str) -> Scenario:
        for scenario in self.scenarios:
            if scenario.name == name:
                return scenario
        known = ", ".join(repr(s.name) for s in self.scenarios) or "none"
        raise KeyError(f"no scenario named {name!r} in map {self.name!r} (known: {known})")
