"""Restoration plans stored for a crisis: compute, mark tasks done or late, re-plan, send to actions.

A re-plan starts from now. What is done is taken out of the scenario (a reconnected link is no longer
cut, a rebuilt host no longer compromised), and a late task gets the duration still needed; the engine
then plans what is left with the same rules as the first plan.
"""

from dataclasses import replace
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from garde import impact
from garde.cell import journal, services
from garde.cell.models import Action, Crisis, LogEntry
from garde.systems import store
from garde.systems.models import MapVersion, Plan, PlanTask


def skills_needed(map_: impact.Map, result: impact.Result) -> list[str]:
    return sorted({t.skill for t in impact.tasks(map_, result) if t.skill})


def _remaining(map_: impact.Map, actions: list[str], done: set[str], overrides: dict) -> tuple[impact.Map, list]:
    """The map and actions left once ``done`` nodes are restored and late tasks re-estimated."""
    parsed = [impact.Action.parse(a) for a in actions]
    compromised = {a.target for a in parsed if a.kind == impact.ActionKind.COMPROMISE_HOST}
    hosted: dict[str, list[str]] = {}
    for node in map_.nodes:
        if node.host:
            hosted.setdefault(node.host, []).append(node.id)
    left = [a for a in parsed if a.target not in done]
    # A rebuilt host hands its hosted nodes over as nodes still to restore, which the engine plans as a
    # restart of their own (same duration and skill as the restore they needed).
    queue = [c for c in compromised if c in done]
    while queue:
        for child in hosted.get(queue.pop(), []):
            if child in done:
                queue.append(child)
            elif child not in compromised:
                left.append(impact.Action(impact.ActionKind.STOP_HOST, child))
    if overrides:
        nodes = tuple(replace(n, restore_minutes=int(overrides[n.id])) if n.id in overrides else n for n in map_.nodes)
        map_ = impact.Map(name=map_.name, nodes=nodes, description=map_.description, scenarios=map_.scenarios)
    return map_, [str(a) for a in dict.fromkeys(left)]


@transaction.atomic
def compute(crisis: Crisis, *, name: str, actions: list[str], version: MapVersion, staff: dict[str, int],
            solver: str, time_limit: int, user, previous: Plan | None = None) -> Plan:
    """Compute and store a plan; raises ValueError (missing staff, unknown node) with the reason."""
    map_ = store.load(version).map
    done = set(previous.done_nodes) if previous else set()
    overrides = dict(previous.overrides) if previous else {}
    if previous:
        for task in previous.tasks.all():
            if task.status == PlanTask.Status.DONE:
                done.add(task.node)
            elif task.status == PlanTask.Status.LATE and task.remaining_minutes:
                overrides[task.node] = task.remaining_minutes
    planning_map, left = _remaining(map_, actions, done, overrides)
    result = impact.simulate(planning_map, left)
    computed = impact.plan(planning_map, result, staff, solver=solver, time_limit=time_limit)
    plan = Plan.objects.create(
        crisis=crisis, name=name, actions=actions, map_version=version, staff=staff, solver=computed.solver,
        time_limit=time_limit, done_nodes=sorted(done), overrides=overrides, objective=computed.objective,
        lower_bound=computed.lower_bound, optimal=computed.optimal, makespan=computed.makespan,
        warnings=list(computed.warnings), starts_at=timezone.now(), previous=previous, created_by=user,
    )
    sent = {}
    if previous:
        sent = {t.node: t.action_id for t in previous.tasks.all() if t.action_id}
    PlanTask.objects.bulk_create(
        PlanTask(plan=plan, position=i, node=s.task.node, name=s.task.name, kind=map_[s.task.node].kind.value,
                 work=s.task.work, skill=s.task.skill, worker=s.worker, minutes=s.task.minutes, start=s.start,
                 end=s.end, criticality=map_[s.task.node].criticality or 0, action_id=sent.get(s.task.node))
        for i, s in enumerate(computed.slots)
    )
    text = (_("Restoration plan computed for “%(name)s” (%(solver)s): %(tasks)d tasks, all services back in "
              "%(hours)s h; objective %(objective)d, lower bound %(bound)d, gap %(gap)s %%.")
            if previous is None else
            _("Restoration re-planned for “%(name)s” (%(solver)s): %(tasks)d tasks left, all services back in "
              "%(hours)s h; objective %(objective)d, lower bound %(bound)d, gap %(gap)s %%."))
    journal.record(crisis, text % {
        "name": name, "solver": computed.solver, "tasks": len(computed.slots),
        "hours": number_format(computed.makespan / 60, 1), "objective": computed.objective,
        "bound": computed.lower_bound, "gap": number_format(computed.gap * 100, 1),
    }, kind=LogEntry.Kind.ACTION, author=user)
    return plan


def current_plan(crisis: Crisis) -> Plan | None:
    return Plan.objects.filter(crisis=crisis).order_by("-created_at").first()


@transaction.atomic
def mark_done(task: PlanTask, user) -> None:
    if task.status == PlanTask.Status.DONE:
        return
    task.status = PlanTask.Status.DONE
    task.save(update_fields=["status"])
    journal.record(task.plan.crisis, _("Restoration: “%(task)s” done.") % {"task": task_title(task)},
                   kind=LogEntry.Kind.ACTION, author=user)
    if task.action_id and task.action.is_open:
        services.set_action_status(task.action, Action.Status.DONE, user)


@transaction.atomic
def mark_late(task: PlanTask, remaining_minutes: int, user) -> None:
    task.status = PlanTask.Status.LATE
    task.remaining_minutes = remaining_minutes
    task.save(update_fields=["status", "remaining_minutes"])
    journal.record(task.plan.crisis, ngettext(
        "Restoration: “%(task)s” is late, %(n)d more minute needed.",
        "Restoration: “%(task)s” is late, %(n)d more minutes needed.", remaining_minutes) % {
        "task": task_title(task), "n": remaining_minutes}, kind=LogEntry.Kind.ACTION, author=user)


def task_title(task: PlanTask) -> str:
    labels = {
        "rebuild": _("Rebuild"), "restore": _("Restore"), "reconnect": _("Reconnect"), "restart": _("Restart"),
    }
    label = labels.get(task.work) or _("Bring back")
    return f"{label}: {task.name}"


@transaction.atomic
def send_to_actions(plan: Plan, user) -> int:
    """Create a crisis action for every task with work that has none yet; return how many were created."""
    created = 0
    for task in plan.tasks.filter(action__isnull=True, minutes__gt=0).exclude(status=PlanTask.Status.DONE):
        action = Action(
            crisis=plan.crisis, title=task_title(task)[:300],
            details=_("Restoration plan “%(plan)s”: %(skill)s, %(worker)s, from +%(start)s min to +%(end)s min.") % {
                "plan": plan.name, "skill": task.skill, "worker": task.worker, "start": task.start, "end": task.end},
            due_at=plan.starts_at + timedelta(minutes=task.end),
            priority=Action.Priority.URGENT if task.start == 0 else Action.Priority.HIGH,
        )
        services.create_action(action, user)
        task.action = action
        task.save(update_fields=["action"])
        created += 1
    return created
