"""Improve a greedy restoration plan with OR-Tools CP-SAT (optional dependency ``ortools``).

Model: a start variable per task; precedence as ``start >= end`` of each predecessor, and for a
k-of-n group, k chosen predecessors (booleans) each enforcing it; one cumulative resource per skill
whose capacity is the number of people; objective the criticality-weighted sum of service ends.
The greedy plan is given as a hint, so the solver starts from it and can only report better.
"""

from __future__ import annotations

import math
from dataclasses import replace

from garde.impact.planner import Plan, Slot, Task, _plan


def improve(todo: list[Task], staff: dict[str, int], weights: dict[str, int], greedy: Plan,
            time_limit: float) -> Plan:
    try:
        from ortools.sat.python import cp_model
    except ImportError:
        return replace(greedy, warnings=greedy.warnings + ("ortools is not installed: greedy plan only",))

    model = cp_model.CpModel()
    horizon = greedy.makespan + sum(t.minutes for t in todo) + 1
    start, end = {}, {}
    by_skill: dict[str, list] = {}
    for task in todo:
        start[task.node] = model.new_int_var(0, horizon, f"s_{task.node}")
        end[task.node] = start[task.node] + task.minutes
        if task.minutes:
            interval = model.new_fixed_size_interval_var(start[task.node], task.minutes, f"i_{task.node}")
            by_skill.setdefault(task.skill, []).append(interval)
    for skill, intervals in by_skill.items():
        model.add_cumulative(intervals, [1] * len(intervals), staff[skill])
    for task in todo:
        for before in task.after:
            model.add(start[task.node] >= end[before])
        for g, (k, group) in enumerate(task.after_any):
            chosen = []
            for before in group:
                pick = model.new_bool_var(f"b_{task.node}_{g}_{before}")
                model.add(start[task.node] >= end[before]).only_enforce_if(pick)
                chosen.append(pick)
            model.add(sum(chosen) >= k)
    services = [t.node for t in todo if weights.get(t.node)]
    model.minimize(sum(weights[s] * end[s] for s in services))
    for slot in greedy.slots:
        model.add_hint(start[slot.task.node], slot.start)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 8
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return replace(greedy, warnings=greedy.warnings + (f"CP-SAT found no plan ({solver.status_name(status)})",))
    bound = max(math.ceil(solver.best_objective_bound - 1e-6), greedy.lower_bound)
    if solver.objective_value >= greedy.objective and status != cp_model.OPTIMAL:
        return replace(greedy, lower_bound=min(bound, greedy.objective), solver="cp-sat")
    starts = {t.node: solver.value(start[t.node]) for t in todo}
    slots = _assign_workers(todo, starts)
    plan = _plan(slots, weights, bound, "cp-sat", optimal=status == cp_model.OPTIMAL)
    return plan


def _assign_workers(todo: list[Task], starts: dict[str, int]) -> list[Slot]:
    """Give each task a named person: a sweep by start time, reusing whoever is free first."""
    free: dict[str, list[int]] = {}
    slots = []
    for task in sorted(todo, key=lambda t: (starts[t.node], t.node)):
        s = starts[task.node]
        worker = ""
        if task.minutes:
            ends = free.setdefault(task.skill, [])
            number = next((n for n, e in enumerate(ends) if e <= s), None)
            if number is None:
                ends.append(0)
                number = len(ends) - 1
            ends[number] = s + task.minutes
            worker = f"{task.skill} {number + 1}"
        slots.append(Slot(task, s, s + task.minutes, worker))
    return slots
