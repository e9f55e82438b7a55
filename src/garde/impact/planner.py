"""Restoration plan: bring back what a scenario took down, most critical services first.

Tasks. One per node that is UP in the normal state but not in the scenario. Nodes that need work
(targets of the scenario's actions, and everything hosted on a compromised host, whose data can no
longer be trusted) take their ``restore_minutes`` and one person with their ``restore_skill``;
the others are milestones of zero length that come back with their dependencies.

Precedence.
- from the dependencies: a node comes back after what it requires, is hosted on, authenticates
  via, loses a capability without, and after the zones and links its paths cross; for
  ``requires_one_of k`` after k alternatives (those already UP count as done). A compromised node is
  rebuilt from its host alone: rebuilding needs no network, bringing it into service does;
- ANSSI: identity and AD tier 0 first (every other task that needs work waits for all of them,
  except those that tier 0 itself depends on), and no zone reconnected (an isolated zone, or a link
  into it) before every compromised node in it is rebuilt.

Objective: the criticality-weighted sum of the times at which business services come back.
``greedy`` is a serial list schedule (weighted shortest processing time on what each task unblocks);
``cp-sat`` starts OR-Tools CP-SAT from it and reports the objective, the solver's lower bound and
the gap. Without OR-Tools installed the greedy plan still works and reports a critical-path bound.
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from dataclasses import dataclass

from garde.impact.engine import Graph, Result
from garde.impact.model import ActionKind, Kind, Map, State

DEFAULT_SKILL = "general"


@dataclass(frozen=True)
class Task:
    node: str
    name: str
    minutes: int
    skill: str  # "" for a milestone
    work: str  # "rebuild", "restore", "reconnect", "restart" or "" for a milestone
    after: tuple[str, ...]  # every one of these first
    after_any: tuple[tuple[int, tuple[str, ...]], ...] = ()  # k of these first


@dataclass(frozen=True)
class Slot:
    task: Task
    start: int
    end: int
    worker: str  # e.g. "systeme 2"; "" for a milestone


@dataclass(frozen=True)
class Plan:
    slots: tuple[Slot, ...]  # by start time
    service_minutes: dict[str, int]  # business service -> minutes until it is back
    objective: int
    lower_bound: int
    solver: str  # "greedy" or "cp-sat"
    optimal: bool
    warnings: tuple[str, ...] = ()

    @property
    def gap(self) -> float:
        return 0.0 if self.objective == 0 else (self.objective - self.lower_bound) / self.objective

    @property
    def makespan(self) -> int:
        return max((s.end for s in self.slots), default=0)

    def slot(self, node_id: str) -> Slot:
        return next(s for s in self.slots if s.task.node == node_id)


def tasks(map_: Map, result: Result) -> list[Task]:
    """The restore tasks of a scenario, with their precedence (see the module docstring)."""
    graph = Graph.of(map_)
    back = [n for n in graph.nodes if result.states[n.id] != State.UP and result.normal[n.id] == State.UP]
    todo = {n.id for n in back}
    compromised = _compromised(map_, result)
    built: dict[str, Task] = {}
    for node in back:
        work = _work(node.id, result, compromised)
        i = graph.index[node.id]
        after: set[str] = set()
        after_any = []
        if node.id in compromised:
            after.update(d for d in (node.host,) if d in todo)
        else:
            for t, pair, _ in graph.hard[i]:
                after.update(_needed(graph, t, pair, result, todo))
            for t, pair, _ in graph.auth[i] + graph.degraded[i]:
                after.update(_needed(graph, t, pair, result, todo))
            for k, alternatives in graph.groups[i]:
                group = _alternatives(graph, alternatives, result, todo)
                k_left = k - sum(1 for t, p in alternatives if not _missing(graph, t, p, result, todo))
                if k_left > 0 and group:
                    after_any.append((min(k_left, len(group)), group))
        minutes = node.restore_minutes if work else 0
        built[node.id] = Task(node=node.id, name=node.name, minutes=minutes,
                              skill=(node.restore_skill or DEFAULT_SKILL) if minutes else "",
                              work=work, after=tuple(sorted(after)), after_any=tuple(after_any))
    return _add_anssi_rules(map_, graph, built, compromised)


def _missing(graph: Graph, t: int, pair, result: Result, todo: set[str]) -> bool:
    return graph.nodes[t].id in todo or _path_down(result, graph, pair)


def _alternatives(graph: Graph, alternatives, result: Result, todo: set[str]) -> tuple[str, ...]:
    """The task standing for each missing alternative: the alternative itself when it is brought
    back, else the first zone or link on its route. (When both an alternative and its route are
    down, only the alternative is waited for: a simplification that keeps groups k-of-n tasks.)"""
    options = []
    for t, pair in alternatives:
        if _missing(graph, t, pair, result, todo):
            needed = _needed(graph, t, pair, result, todo)
            if needed and needed[0] not in options:
                options.append(needed[0])
    return tuple(sorted(options))


def _compromised(map_: Map, result: Result) -> set[str]:
    hosted = defaultdict(list)
    for node in map_.nodes:
        if node.host:
            hosted[node.host].append(node.id)
    found = {t for t, kind in result.acted.items() if kind == ActionKind.COMPROMISE_HOST}
    queue = deque(found)
    while queue:
        for child in hosted[queue.popleft()]:
            if child not in found:
                found.add(child)
                queue.append(child)
    return found


def _work(node_id: str, result: Result, compromised: set[str]) -> str:
    action = result.acted.get(node_id)
    if action == ActionKind.COMPROMISE_HOST:
        return "rebuild"
    if node_id in compromised:
        return "restore"
    if action in (ActionKind.CUT_LINK, ActionKind.ISOLATE_ZONE):
        return "reconnect"
    if action == ActionKind.STOP_HOST:
        return "restart"
    return ""


def _path_down(result: Result, graph: Graph, pair) -> bool:
    if pair is None:
        return False
    return graph.nodes[pair[1]].id not in _reachable_ids(result, graph, pair[0])


def _reachable_ids(result: Result, graph: Graph, source: int) -> set[str]:
    return {graph.nodes[z].id for z in graph._reachable(source, lambda e: result.states[graph.nodes[e].id] == State.UP)}


def _needed(graph: Graph, t: int, pair, result: Result, todo: set[str]) -> list[str]:
    """The target first, then the zones and links on its routes that are being brought back."""
    needed = [graph.nodes[t].id] if graph.nodes[t].id in todo else []
    if pair is not None and _path_down(result, graph, pair):
        # What every route crosses is enough when some of it is down; otherwise wait for all routes.
        essential = [graph.nodes[e].id for e in graph.essential(pair) or () if graph.nodes[e].id in todo]
        needed += essential or [graph.nodes[e].id for e in graph.route_elements(pair) if graph.nodes[e].id in todo]
    return needed


def _add_anssi_rules(map_: Map, graph: Graph, built: dict[str, Task], compromised: set[str]) -> list[Task]:
    successors = defaultdict(set)
    for task in built.values():
        for before in task.after + tuple(a for _, group in task.after_any for a in group):
            successors[before].add(task.node)
    predecessors = defaultdict(set)
    for before, afters in successors.items():
        for after in afters:
            predecessors[after].add(before)

    def closure(start: set[str], edges) -> set[str]:
        seen, queue = set(start), deque(start)
        while queue:
            for nxt in edges[queue.popleft()]:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return seen

    extra: dict[str, set[str]] = defaultdict(set)
    tier0 = {t for t in built if map_[t].tier0 and built[t].minutes}
    needed_by_tier0 = closure(tier0, predecessors)
    for task in built.values():
        if task.minutes and task.node not in needed_by_tier0:
            extra[task.node] |= tier0
    for node_id, task in built.items():
        node = map_[node_id]
        if task.work != "reconnect":
            continue
        zones = {node_id} if node.kind == Kind.ZONE else _zones_of_link(map_, node_id)
        dirty = {c for c in compromised if c in built and map_.zone_of(c) in zones}
        descendants = closure({node_id}, successors)
        extra[node_id] |= {c for c in dirty if c not in descendants}
    return [Task(**{**t.__dict__, "after": tuple(sorted(set(t.after) | extra[t.node]))}) for t in built.values()]


def _zones_of_link(map_: Map, link: str) -> set[str]:
    return {z.id for z in map_.of_kind(Kind.ZONE) for r in z.reaches if r.via == link} | {
        r.zone for z in map_.of_kind(Kind.ZONE) for r in z.reaches if r.via == link}


# -- scheduling -------------------------------------------------------------------------------------


def plan(map_: Map, result: Result, staff: dict[str, int], *, solver: str = "greedy",
         time_limit: float = 10.0) -> Plan:
    """A restoration plan for ``result`` with ``staff`` ({skill: number of people}).

    ``solver="cp-sat"`` improves the greedy plan with OR-Tools within ``time_limit`` seconds.
    """
    todo = tasks(map_, result)
    missing = sorted({t.skill for t in todo if t.skill and staff.get(t.skill, 0) < 1})
    if missing:
        names = {s: [t.name for t in todo if t.skill == s] for s in missing}
        detail = "; ".join(f"{s}: {', '.join(n[:3])}{'...' if len(n) > 3 else ''}" for s, n in names.items())
        raise ValueError(f"no staff for skill(s) {', '.join(missing)} needed by: {detail}")
    weights = {n.id: n.criticality or 0 for n in map_.services}
    greedy = _greedy(todo, staff, weights)
    if solver == "greedy":
        return greedy
    if solver != "cp-sat":
        raise ValueError(f"solver {solver!r}: expected 'greedy' or 'cp-sat'")
    from garde.impact.cpsat import improve

    return improve(todo, staff, weights, greedy, time_limit)


class _Readiness:
    """Counts what each task still waits for, so that tasks are released in linear time."""

    def __init__(self, todo: list[Task]):
        self.by_id = {t.node: t for t in todo}
        self.waiting = {t.node: len(t.after) for t in todo}
        self.groups_left = {t.node: [k for k, _ in t.after_any] for t in todo}
        self.watchers: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for t in todo:
            for before in t.after:
                self.watchers[before].append((t.node, -1))
            for g, (_, group) in enumerate(t.after_any):
                for before in group:
                    self.watchers[before].append((t.node, g))

    def initial(self) -> list[str]:
        return [n for n in self.by_id if self._ready(n)]

    def _ready(self, node: str) -> bool:
        return self.waiting[node] == 0 and all(k <= 0 for k in self.groups_left[node])

    def done(self, node: str) -> list[str]:
        """Mark ``node`` placed; return the tasks this makes ready."""
        released = []
        for after, g in self.watchers[node]:
            was = self._ready(after)
            if g < 0:
                self.waiting[after] -= 1
            else:
                self.groups_left[after][g] -= 1
            if not was and self._ready(after):
                released.append(after)
        return released


def _order(todo: list[Task]) -> list[Task]:
    """Topological order, a k-of-n group counting as met once k of its tasks are placed."""
    readiness = _Readiness(todo)
    queue = deque(readiness.initial())
    order = []
    while queue:
        node = queue.popleft()
        order.append(readiness.by_id[node])
        queue.extend(readiness.done(node))
    if len(order) != len(todo):
        stuck = sorted(set(readiness.by_id) - {t.node for t in order})
        raise ValueError(f"restore tasks wait on each other in a cycle: {', '.join(stuck[:10])}")
    return order


def _unblocked_weight(todo: list[Task], weights: dict[str, int]) -> dict[str, int]:
    """Criticality of every service each task leads to, summed: what finishing it early is worth."""
    order = _order(todo)
    successors = defaultdict(set)
    for t in todo:
        for before in t.after + tuple(a for _, g in t.after_any for a in g):
            successors[before].add(t.node)
    services = [t.node for t in todo if weights.get(t.node)]
    bit = {s: 1 << i for i, s in enumerate(services)}
    mask: dict[str, int] = {}
    for t in reversed(order):
        m = bit.get(t.node, 0)
        for nxt in successors[t.node]:
            m |= mask.get(nxt, 0)  # a k-of-n group member may be placed after its follower
        mask[t.node] = m
    by_level = defaultdict(int)
    for s in services:
        by_level[weights[s]] |= bit[s]
    return {node: sum(level * (m & bits).bit_count() for level, bits in by_level.items()) for node, m in mask.items()}


def earliest(task: Task, end: dict[str, int]) -> int | None:
    """Earliest start allowed by the precedence, or None while a predecessor is unscheduled."""
    if any(b not in end for b in task.after):
        return None
    start = max((end[b] for b in task.after), default=0)
    for k, group in task.after_any:
        done = sorted(end[b] for b in group if b in end)
        if len(done) < k:
            return None
        start = max(start, done[k - 1])
    return start


def _greedy(todo: list[Task], staff: dict[str, int], weights: dict[str, int]) -> Plan:
    value = _unblocked_weight(todo, weights)
    workers = {skill: [(0, n) for n in range(1, count + 1)] for skill, count in staff.items()}
    readiness = _Readiness(todo)
    end: dict[str, int] = {}
    slots: list[Slot] = []
    # Ready tasks by priority: most weight unblocked per minute of work, then most weight, then id.
    ready: list = []

    def push(nodes: list[str]) -> None:
        for node in nodes:
            minutes = readiness.by_id[node].minutes
            heapq.heappush(ready, (-value[node] / max(minutes, 1), -value[node], node))

    push(readiness.initial())
    while ready:
        _, _, node = heapq.heappop(ready)
        task = readiness.by_id[node]
        start = earliest(task, end) or 0
        worker = ""
        if task.minutes:
            free, number = heapq.heappop(workers[task.skill])
            start = max(start, free)
            heapq.heappush(workers[task.skill], (start + task.minutes, number))
            worker = f"{task.skill} {number}"
        end[node] = start + task.minutes
        slots.append(Slot(task, start, end[node], worker))
        push(readiness.done(node))
    if len(slots) != len(todo):
        _order(todo)  # raises, naming the tasks stuck in a cycle
    return _plan(slots, weights, _critical_path_bound(todo, weights), "greedy", optimal=False)


def _critical_path_bound(todo: list[Task], weights: dict[str, int]) -> int:
    end: dict[str, int] = {}
    for task in _order(todo):
        end[task.node] = (earliest(task, end) or 0) + task.minutes
    return sum(weights.get(n, 0) * e for n, e in end.items())


def _plan(slots: list[Slot], weights, lower_bound: int, solver: str, optimal: bool) -> Plan:
    slots = sorted(slots, key=lambda s: (s.start, s.end, s.task.node))
    service_minutes = {s.task.node: s.end for s in slots if s.task.node in weights}
    objective = sum(weights[n] * m for n, m in service_minutes.items())
    return Plan(slots=tuple(slots), service_minutes=service_minutes, objective=objective,
                lower_bound=min(lower_bound, objective), solver=solver, optimal=optimal)

