"""Propagation of a containment scenario through the map, to a fixed point.

Rules (DESIGN.md, "Impact rules"), states ordered UP > DEGRADED > DOWN:

- an action sets its target DOWN: ``cut_link`` a link, ``isolate_zone`` a zone, ``stop_host`` and
  ``compromise_host`` a server (or an application, datastore or identity service);
- a dependency counts only if its target is UP and, when both ends have a zone, a network path
  exists from the source's zone to the target's zone; a path goes from zone to zone along declared
  ``reaches``, and is as good as its worst zone or link (a DOWN link or an isolated zone blocks it).
  Traffic inside a zone never needs a path: an isolated zone keeps working inside;
- ``requires`` and ``hosted_on``: the node is at best its dependency's state;
- ``requires_one_of k``: UP if k alternatives are UP, DEGRADED if k are at least DEGRADED, else DOWN;
- ``degraded_without``: losing the target makes the node DEGRADED at worst, and names the capability;
- ``authenticates_via``: identity DOWN makes the node DOWN, or DEGRADED when cached login works
  (``cached_login`` on either the node or the identity service).

The fixed point is the least one, computed upwards from "everything DOWN": a node is available only if
something outside any cycle makes it so. Two servers that back each other up through
``requires_one_of`` therefore do not keep each other alive when both lose their real support, which
is the pessimistic reading a crisis cell wants. Every rule is monotone, so more actions never improve
any state.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from garde.impact.model import (
    ACTION_TARGET_KINDS,
    NETWORKED,
    Action,
    ActionKind,
    DepKind,
    Kind,
    Map,
    Node,
    State,
)

UP, DEGRADED, DOWN = State.UP, State.DEGRADED, State.DOWN
Pair = tuple[int, int]


class Graph:
    """The map compiled into integer-indexed lists, built once per map and reused by every scenario."""

    def __init__(self, map_: Map):
        self.map = map_
        self.nodes: list[Node] = list(map_.nodes)
        self.index = {node.id: i for i, node in enumerate(self.nodes)}
        n = len(self.nodes)
        self.zone = [self.index.get(map_.zone_of(node.id), -1) for node in self.nodes]
        # per node: (target, pair to cross or None, dependency kind)
        self.hard: list[list[tuple[int, Pair | None, DepKind]]] = [[] for _ in range(n)]
        self.groups: list[list[tuple[int, list[tuple[int, Pair | None]]]]] = [[] for _ in range(n)]
        self.degraded: list[list[tuple[int, Pair | None, str]]] = [[] for _ in range(n)]
        self.auth: list[list[tuple[int, Pair | None, bool]]] = [[] for _ in range(n)]
        dependents: list[set[int]] = [set() for _ in range(n)]
        self.watchers: dict[Pair, list[int]] = {}
        for i, node in enumerate(self.nodes):
            for dep in node.dependencies:
                if dep.kind == DepKind.IN_ZONE:
                    continue
                targets = [(self.index[t], self._pair(i, self.index[t], dep.kind)) for t in dep.targets]
                for t, pair in targets:
                    dependents[t].add(i)
                    if pair is not None:
                        self.watchers.setdefault(pair, []).append(i)
                match dep.kind:
                    case DepKind.REQUIRES | DepKind.HOSTED_ON:
                        self.hard[i] += [(t, pair, dep.kind) for t, pair in targets]
                    case DepKind.REQUIRES_ONE_OF:
                        self.groups[i].append((dep.k, targets))
                    case DepKind.DEGRADED_WITHOUT:
                        self.degraded[i] += [(t, pair, dep.capability) for t, pair in targets]
                    case DepKind.AUTHENTICATES_VIA:
                        self.auth[i] += [(t, pair, node.cached_login or self.nodes[t].cached_login)
                                         for t, pair in targets]
        self.dependents = [sorted(d) for d in dependents]
        # zone-level network: adjacency zone -> [(zone, link or -1)]
        self.adjacency: dict[int, list[tuple[int, int]]] = {}
        self.network: set[int] = set()
        for i, node in enumerate(self.nodes):
            for reach in node.reaches:
                z, link = self.index[reach.zone], self.index.get(reach.via, -1) if reach.via else -1
                self.adjacency.setdefault(i, []).append((z, link))
                self.network |= {i, z} | ({link} if link >= 0 else set())
        self.sources = sorted({a for a, _ in self.watchers})
        self._essential: dict[Pair, list[int] | None] = {}
        self._routes: dict[Pair, list[int]] = {}

    @classmethod
    def of(cls, map_: Map) -> Graph:
        # Maps are immutable, so the compiled form is cached on the instance itself.
        graph = map_.__dict__.get("_graph")
        if graph is None:
            graph = map_.__dict__["_graph"] = cls(map_)
        return graph

    def _pair(self, i: int, t: int, kind: DepKind) -> Pair | None:
        a, b = self.zone[i], self.zone[t]
        if kind in NETWORKED and a >= 0 and b >= 0 and a != b:
            return (a, b)
        return None

    # -- fixed point ----------------------------------------------------------------------------

    def fixpoint(self, cap: list[State]) -> tuple[list[State], dict[Pair, State]]:
        state = [DOWN] * len(self.nodes)
        reach: dict[Pair, State] = {}
        queue = deque(range(len(self.nodes)))
        queued = [True] * len(self.nodes)
        network_changed = False
        while True:
            while queue:
                i = queue.popleft()
                queued[i] = False
                new = self.evaluate(i, state, reach, cap)
                if new > state[i]:
                    state[i] = new
                    for j in self.dependents[i]:
                        if not queued[j]:
                            queued[j] = True
                            queue.append(j)
                    network_changed |= i in self.network
            if not network_changed:
                return state, reach
            network_changed = False
            fresh = self.reach(state)
            for pair, watchers in self.watchers.items():
                if fresh.get(pair, DOWN) != reach.get(pair, DOWN):
                    for j in watchers:
                        if not queued[j]:
                            queued[j] = True
                            queue.append(j)
            reach = fresh

    def effective(self, t: int, pair: Pair | None, state: list[State], reach: dict[Pair, State]) -> State:
        if pair is None:
            return state[t]
        return min(state[t], reach.get(pair, DOWN))

    def evaluate(self, i: int, state: list[State], reach: dict[Pair, State], cap: list[State]) -> State:
        best = cap[i]
        if best == DOWN:
            return DOWN
        for t, pair, _ in self.hard[i]:
            best = min(best, self.effective(t, pair, state, reach))
            if best == DOWN:
                return DOWN
        for k, alternatives in self.groups[i]:
            best = min(best, self.one_of(k, alternatives, state, reach))
            if best == DOWN:
                return DOWN
        for t, pair, cached in self.auth[i]:
            got = self.effective(t, pair, state, reach)
            if got == DOWN and not cached:
                return DOWN
            best = min(best, max(got, DEGRADED))
        for t, pair, _ in self.degraded[i]:
            if best == UP and self.effective(t, pair, state, reach) < UP:
                best = DEGRADED
        return best

    def one_of(self, k: int, alternatives, state, reach) -> State:
        up = usable = 0
        for t, pair in alternatives:
            got = self.effective(t, pair, state, reach)
            up += got == UP
            usable += got >= DEGRADED
        return UP if up >= k else DEGRADED if usable >= k else DOWN

    def reach(self, state: list[State]) -> dict[Pair, State]:
        """Best path state from every zone that some dependency leaves, to every zone it reaches."""
        out: dict[Pair, State] = {}
        for source in self.sources:
            for level in (DEGRADED, UP):
                for zone in self._reachable(source, lambda e, level=level: state[e] >= level):
                    if zone != source:
                        out[(source, zone)] = level
        return out

    def _reachable(self, source: int, passable) -> set[int]:
        if not passable(source):
            return {source}
        seen, stack = {source}, [source]
        while stack:
            zone = stack.pop()
            for nxt, link in self.adjacency.get(zone, ()):
                if nxt not in seen and passable(nxt) and (link < 0 or passable(link)):
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    def essential(self, pair: Pair) -> list[int] | None:
        """Links and zones that every path of the normal network from ``pair[0]`` to ``pair[1]`` goes
        through (the zones at both ends included); ``None`` when no path is declared at all."""
        if pair not in self._essential:
            source, target = pair
            if target not in self._reachable(source, lambda e: True):
                self._essential[pair] = None
            else:
                candidates = {source, target}
                for zone in self._reachable(source, lambda e: True):
                    candidates.add(zone)
                    candidates.update(link for _, link in self.adjacency.get(zone, ()) if link >= 0)
                self._essential[pair] = sorted(
                    e for e in candidates
                    if e in pair or target not in self._reachable(source, lambda x, e=e: x != e)
                )
        return self._essential[pair]

    def route_elements(self, pair: Pair, limit: int = 200) -> list[int]:
        """Zones and links on the simple paths of the normal network from ``pair[0]`` to ``pair[1]``
        (the first ``limit`` paths, shortest first)."""
        if pair not in self._routes:
            import networkx as nx

            zones = nx.DiGraph()
            for zone, edges in self.adjacency.items():
                for nxt, _ in edges:
                    zones.add_edge(zone, nxt)
            found: set[int] = set()
            if pair[0] in zones and pair[1] in zones and nx.has_path(zones, *pair):
                for count, path in enumerate(nx.shortest_simple_paths(zones, *pair)):
                    if count >= limit:
                        break
                    found.update(path)
                    for a, b in zip(path, path[1:], strict=False):
                        found.update(link for nxt, link in self.adjacency[a] if nxt == b and link >= 0)
            self._routes[pair] = sorted(found)
        return self._routes[pair]

    @cached_property
    def normal(self) -> list[State]:
        return self.fixpoint([UP] * len(self.nodes))[0]


# -- results ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    """One reason why a node is not UP. ``dep`` is None when an action hit the node itself."""

    state: State  # the worst state this cause allows
    dep: DepKind | None = None
    targets: tuple[str, ...] = ()
    action: ActionKind | None = None
    k: int = 1
    available: int = 0  # requires_one_of: how many alternatives are UP
    capability: str = ""
    cached_login: bool = False
    blocked: tuple[str, str] | None = None  # (from zone, to zone) when the network is what fails


@dataclass(frozen=True)
class ServiceImpact:
    """What the status board and the procedures need to know about one business service."""

    node: Node
    state: State
    normal_state: State
    reason_fr: str
    reason_en: str
    capabilities_lost: tuple[str, ...]

    @property
    def procedure(self) -> str:
        return self.node.procedure

    @property
    def changed(self) -> bool:
        return self.state != self.normal_state


@dataclass
class Result:
    map: Map
    actions: tuple[Action, ...]
    states: dict[str, State]
    normal: dict[str, State]
    causes: dict[str, tuple[Cause, ...]]
    graph: Graph = field(repr=False)
    acted: dict[str, ActionKind] = field(repr=False)

    def state(self, node_id: str) -> State:
        return self.states[node_id]

    def changes(self) -> list[tuple[str, State, State]]:
        """(node id, normal state, state in the scenario) for every node the scenario affects."""
        return [(i, self.normal[i], s) for i, s in self.states.items() if s != self.normal[i]]

    def not_up(self, kind: Kind | None = None) -> list[str]:
        return [i for i, s in self.states.items() if s != UP and (kind is None or self.map[i].kind == kind)]

    def capabilities_lost(self, node_id: str, lang: str = "fr") -> tuple[str, ...]:
        lost = []
        for cause in self.causes.get(node_id, ()):
            if cause.dep == DepKind.DEGRADED_WITHOUT:
                lost.append(cause.capability)
            elif cause.dep == DepKind.AUTHENTICATES_VIA and cause.state == DEGRADED:
                name = self.map[cause.targets[0]].name
                lost.append(_WORDS[lang]["new_logins"].format(name=name))
        return tuple(lost)

    def all_capabilities_lost(self, lang: str = "fr") -> dict[str, tuple[str, ...]]:
        found = {i: self.capabilities_lost(i, lang) for i in self.causes}
        return {i: lost for i, lost in found.items() if lost}

    def services(self) -> list[ServiceImpact]:
        """Every business service, most critical first, with its state, reasons and procedure."""
        services = sorted(self.map.services, key=lambda n: (-(n.criticality or 0), n.name))
        return [
            ServiceImpact(node=n, state=self.states[n.id], normal_state=self.normal[n.id],
                          reason_fr=self.explain(n.id, "fr"), reason_en=self.explain(n.id, "en"),
                          capabilities_lost=self.capabilities_lost(n.id, "fr"))
            for n in services
        ]

    def procedures(self) -> list[ServiceImpact]:
        """Services not UP: their degraded-mode procedure is active, their downtime clock runs."""
        return [s for s in self.services() if s.state != UP]

    def explain(self, node_id: str, lang: str = "fr") -> str:
        """The chain of causes in plain words, e.g. "Téléconsultation : DOWN — requiert « Plateforme
        de téléconsultation » (externe), joignable uniquement par le lien « Internet », qui est coupé"."""
        from garde.impact.explain import explain

        return explain(self, node_id, lang)

    def to_dict(self) -> dict:
        """A JSON-ready summary, e.g. to store a scenario's outcome alongside the crisis."""
        return {
            "actions": [str(a) for a in self.actions],
            "nodes": {
                i: {"state": s.name, "normal": self.normal[i].name,
                    "reason_fr": self.explain(i, "fr"), "reason_en": self.explain(i, "en"),
                    "capabilities_lost": list(self.capabilities_lost(i, "fr"))}
                for i, s in self.states.items() if s != UP or self.normal[i] != UP
            },
        }


def parse_actions(map_: Map, actions: Iterable[Action | str]) -> tuple[Action, ...]:
    parsed = tuple(a if isinstance(a, Action) else Action.parse(a) for a in actions)
    for action in parsed:
        if action.target not in map_:
            raise ValueError(f"action {action}: no node {action.target!r} in the map")
        kind = map_[action.target].kind
        if kind not in ACTION_TARGET_KINDS[action.kind]:
            allowed = " or ".join(sorted(ACTION_TARGET_KINDS[action.kind]))
            raise ValueError(f"action {action}: {action.target!r} is a {kind}, expected a {allowed}")
    return parsed


def simulate(map_: Map, actions: Iterable[Action | str] = ()) -> Result:
    """Every node's state under ``actions`` (``Action`` objects or strings like "cut_link:internet")."""
    graph = Graph.of(map_)
    actions = parse_actions(map_, actions)
    acted: dict[str, ActionKind] = {}
    for action in actions:
        # a compromise is the stronger fact to report when a host is both stopped and compromised
        if acted.get(action.target) != ActionKind.COMPROMISE_HOST:
            acted[action.target] = action.kind
    cap = [UP] * len(graph.nodes)
    for target in acted:
        cap[graph.index[target]] = DOWN
    state, reach = graph.fixpoint(cap)
    ids = [n.id for n in graph.nodes]
    causes = {ids[i]: _causes(graph, i, state, reach, acted) for i in range(len(ids)) if state[i] != UP}
    return Result(map=map_, actions=actions, states=dict(zip(ids, state, strict=True)),
                  normal=dict(zip(ids, graph.normal, strict=True)), causes=causes, graph=graph, acted=acted)


def _causes(graph: Graph, i: int, state, reach, acted) -> tuple[Cause, ...]:
    node = graph.nodes[i]
    if node.id in acted:
        return (Cause(DOWN, action=acted[node.id]),)
    ids = graph.nodes
    found: list[Cause] = []

    def blocked(t: int, pair: Pair | None) -> tuple[str, str] | None:
        if pair is not None and reach.get(pair, DOWN) < state[t]:
            return (ids[pair[0]].id, ids[pair[1]].id)
        return None

    for t, pair, kind in graph.hard[i]:
        got = graph.effective(t, pair, state, reach)
        if got < UP:
            found.append(Cause(got, dep=kind, targets=(ids[t].id,), blocked=blocked(t, pair)))
    for k, alternatives in graph.groups[i]:
        got = graph.one_of(k, alternatives, state, reach)
        if got < UP:
            missing = [(t, p) for t, p in alternatives if graph.effective(t, p, state, reach) < UP]
            blocks = [blocked(t, p) for t, p in missing]
            found.append(Cause(got, dep=DepKind.REQUIRES_ONE_OF, targets=tuple(ids[t].id for t, _ in missing),
                               k=k, available=len(alternatives) - len(missing),
                               blocked=next((b for b in blocks if b), None) if all(blocks) else None))
    for t, pair, cached in graph.auth[i]:
        got = graph.effective(t, pair, state, reach)
        if got < UP:
            allowed = DOWN if got == DOWN and not cached else DEGRADED
            found.append(Cause(allowed, dep=DepKind.AUTHENTICATES_VIA, targets=(ids[t].id,),
                               cached_login=cached, blocked=blocked(t, pair)))
    for t, pair, capability in graph.degraded[i]:
        if graph.effective(t, pair, state, reach) < UP:
            found.append(Cause(DEGRADED, dep=DepKind.DEGRADED_WITHOUT, targets=(ids[t].id,),
                               capability=capability, blocked=blocked(t, pair)))
    found.sort(key=lambda c: c.state)
    return tuple(found)


_WORDS = {
    "fr": {"new_logins": "nouvelles connexions via « {name} » (seules les sessions en cache fonctionnent)"},
    "en": {"new_logins": "new logins through '{name}' (only cached sessions work)"},
}
