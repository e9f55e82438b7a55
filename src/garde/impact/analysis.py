"""Peacetime analysis: what can bring a critical service DOWN, before anything happens.

A *cut set* of a service is a set of nodes (servers, links, zones, applications...) whose simultaneous
loss makes the service DOWN under the propagation rules; it is minimal when no smaller part of it
does. A single point of failure is a cut set of one node other than the service itself.

Only DOWN matters here, and DOWN depends on DOWN alone: ``requires`` and ``hosted_on`` pass DOWN on,
``requires_one_of k of m`` is DOWN once m - k + 1 alternatives are DOWN, identity loss is DOWN
without cached login, a path is DOWN once a set of zones and links separates the two zones;
``degraded_without`` never makes anything DOWN. So cut sets are computed symbolically, top-down, as
in fault-tree analysis (MOCUS), keeping only sets of at most ``max_size`` nodes. A node met again
while it is being expanded counts as already lost, which is the least-fixed-point reading of cycles
that ``engine`` uses; tests check the result against brute-force simulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from garde.impact.engine import Graph, Pair
from garde.impact.model import Map, Node

Family = frozenset[frozenset[int]]
NOTHING: Family = frozenset({frozenset()})  # already lost: no further failure needed


@dataclass(frozen=True)
class ServiceRisk:
    service: Node
    single_points: tuple[str, ...]  # node ids
    cut_sets: tuple[tuple[str, ...], ...]  # minimal, by size then ids; singles included


@dataclass(frozen=True)
class Analysis:
    risks: tuple[ServiceRisk, ...]  # critical services, most critical first
    without_procedure: tuple[Node, ...]  # business services with no degraded-mode procedure
    warnings: tuple[str, ...]  # from loading: cycles, nodes not UP in the normal state

    def risk(self, service_id: str) -> ServiceRisk:
        return next(r for r in self.risks if r.service.id == service_id)


def analyse(map_: Map, *, min_criticality: int = 4, max_size: int = 3) -> Analysis:
    """Single points of failure and minimal cut sets (up to ``max_size`` nodes) of every service of
    criticality ``min_criticality`` or more, and the services that have no procedure."""
    cuts = CutSets(Graph.of(map_), max_size)
    risks = []
    services = sorted(map_.services, key=lambda n: (-(n.criticality or 0), n.name))
    for service in services:
        if (service.criticality or 0) < min_criticality:
            continue
        found = cuts.of(service.id)
        risks.append(ServiceRisk(
            service=service,
            single_points=tuple(c[0] for c in found if len(c) == 1 and c[0] != service.id),
            cut_sets=tuple(c for c in found if c != (service.id,)),
        ))
    missing = tuple(n for n in services if not n.procedure.strip())
    return Analysis(risks=tuple(risks), without_procedure=missing, warnings=map_.warnings)


class CutSets:
    def __init__(self, graph: Graph, max_size: int = 3):
        self.graph, self.max_size = graph, max_size
        self._memo: dict[int, Family] = {}
        self._separators: dict[Pair, list[frozenset[int]]] = {}

    def of(self, node_id: str) -> list[tuple[str, ...]]:
        family, _ = self._node(self.graph.index[node_id], [])
        ids = [n.id for n in self.graph.nodes]
        named = [tuple(sorted(ids[i] for i in cut)) for cut in family]
        return sorted(named, key=lambda c: (len(c), c))

    # A family is a set of cut sets; ``or`` is union, ``and`` is pairwise union; both are minimised.

    def _or(self, *families: Family) -> Family:
        return _minimise(frozenset().union(*families))

    def _and(self, *families: Family) -> Family:
        result: Family = NOTHING
        for family in families:
            result = frozenset(a | b for a in result for b in family if len(a | b) <= self.max_size)
            if not result:
                break
        return _minimise(result)

    def _node(self, i: int, stack: list[int]) -> tuple[Family, int]:
        """Cut sets of node ``i``, and the lowest stack position the computation leaned on (only
        results independent of the nodes being expanded can be memoised)."""
        if i in self._memo:
            return self._memo[i], len(stack)
        if i in stack:
            return NOTHING, stack.index(i)
        stack.append(i)
        lowest = len(stack)
        graph = self.graph
        parts: list[Family] = [frozenset({frozenset({i})})]

        def effective(t: int, pair: Pair | None) -> Family:
            nonlocal lowest
            family, low = self._node(t, stack)
            lowest = min(lowest, low)
            if pair is not None:
                path, low = self._path(pair, stack)
                lowest = min(lowest, low)
                family = self._or(family, path)
            return family

        for t, pair, _ in graph.hard[i]:
            parts.append(effective(t, pair))
        for t, pair, cached in graph.auth[i]:
            if not cached:
                parts.append(effective(t, pair))
        for k, alternatives in graph.groups[i]:
            families = [effective(t, pair) for t, pair in alternatives]
            needed = len(families) - k + 1
            parts.append(self._or(*(self._and(*chosen) for chosen in combinations(families, needed))))
        stack.pop()
        result = self._or(*parts)
        if lowest >= len(stack):
            self._memo[i] = result
        return result, lowest

    def _path(self, pair: Pair, stack: list[int]) -> tuple[Family, int]:
        lowest = len(stack)
        options = []
        for separator in self.separators(pair):
            families = []
            for element in separator:
                family, low = self._node(element, stack)
                lowest = min(lowest, low)
                families.append(family)
            options.append(self._and(*families))
        return self._or(*options), lowest

    def separators(self, pair: Pair) -> list[frozenset[int]]:
        """Minimal sets of zones and links (at most ``max_size``) whose loss leaves no path."""
        if pair not in self._separators:
            graph = self.graph
            source, target = pair
            everything = graph._reachable(source, lambda e: True)
            if target not in everything:
                self._separators[pair] = [frozenset()]  # no route at all: always cut
                return self._separators[pair]
            elements = set(everything)
            for zone in everything:
                elements.update(link for _, link in graph.adjacency.get(zone, ()) if link >= 0)
            found: list[frozenset[int]] = []
            for size in range(1, self.max_size + 1):
                for chosen in combinations(sorted(elements), size):
                    candidate = frozenset(chosen)
                    if any(s <= candidate for s in found):
                        continue
                    if target not in graph._reachable(source, lambda e, c=candidate: e not in c):
                        found.append(candidate)
            self._separators[pair] = found
        return self._separators[pair]


def _minimise(family: frozenset[frozenset[int]]) -> Family:
    ordered = sorted(family, key=len)
    kept: list[frozenset[int]] = []
    for cut in ordered:
        if not any(k <= cut for k in kept):
            kept.append(cut)
    return frozenset(kept)
