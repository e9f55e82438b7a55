"""Restoration plans: staff by skill, greedy or CP-SAT, Gantt chart, progress, re-plan, send to actions."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from garde import impact
from garde.accounts.roles import Capability as C
from garde.cell.access import crisis_view
from garde.printing import pdf_response
from garde.systems import gantt, restoration, store
from garde.systems.forms import LateForm, PlanForm
from garde.systems.models import Plan, PlanTask, Scenario
from garde.systems.views.maps import no_map


@crisis_view(C.VIEW_SYSTEMS)
def plans(request, crisis):
    items = Plan.objects.filter(crisis=crisis).select_related("created_by")
    return render(request, "systems/plans.html", {"crisis": crisis, "plans": items})


@crisis_view(C.PLAN_RESTORATION)
def plan_new(request, crisis, scenario_id):
    scenario = get_object_or_404(Scenario, pk=scenario_id)
    try:
        loaded = store.load()
        result = impact.simulate(loaded.map, scenario.actions)
    except store.NoMap:
        return no_map(request, crisis)
    except ValueError as error:
        messages.error(request, _("This scenario does not fit the current map: %(error)s") % {"error": error})
        return redirect("systems:scenarios", crisis.pk)
    skills = restoration.skills_needed(loaded.map, result)
    form = PlanForm(request.POST or None, skills=skills)
    if request.method == "POST" and form.is_valid():
        try:
            plan = restoration.compute(
                crisis, name=scenario.name, actions=scenario.actions, version=loaded.version, staff=form.staff(),
                solver=form.cleaned_data["solver"], time_limit=form.cleaned_data["time_limit"], user=request.user,
            )
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            return redirect("systems:plan", crisis.pk, plan.pk)
    return render(request, "systems/plan_form.html", {
        "crisis": crisis, "scenario": scenario, "form": form,
        "task_count": len(impact.tasks(loaded.map, result)),
    })


def _context(crisis, plan: Plan) -> dict:
    tasks = list(plan.tasks.select_related("action"))
    for task in tasks:
        task.due_at = plan.starts_at + timedelta(minutes=task.end)
    return {
        "crisis": crisis, "plan": plan, "tasks": tasks,
        "work_tasks": [t for t in tasks if t.minutes], "services": [t for t in tasks if t.criticality],
        "gantt": mark_safe(gantt.to_svg(tasks, plan.makespan)),  # noqa: S308 - every text is escaped in gantt
        "gap_percent": f"{plan.gap * 100:.1f}",
        "is_current": restoration.current_plan(crisis) == plan,
        "late_form": LateForm(),
    }


@crisis_view(C.VIEW_SYSTEMS)
def plan(request, crisis, plan_id):
    return render(request, "systems/plan.html", _context(crisis, get_object_or_404(Plan, pk=plan_id, crisis=crisis)))


@crisis_view(C.VIEW_SYSTEMS)
def plan_pdf(request, crisis, plan_id):
    item = get_object_or_404(Plan, pk=plan_id, crisis=crisis)
    return pdf_response("systems/print/plan.html", _context(crisis, item), "plan-de-reprise.pdf", request)


def _task(crisis, plan_id, task_id) -> PlanTask:
    task = get_object_or_404(PlanTask, pk=task_id, plan_id=plan_id, plan__crisis=crisis)
    if task.is_milestone:
        raise Http404
    return task


@require_POST
@crisis_view(C.PLAN_RESTORATION)
def task_done(request, crisis, plan_id, task_id):
    restoration.mark_done(_task(crisis, plan_id, task_id), request.user)
    return redirect("systems:plan", crisis.pk, plan_id)


@require_POST
@crisis_view(C.PLAN_RESTORATION)
def task_late(request, crisis, plan_id, task_id):
    task = _task(crisis, plan_id, task_id)
    form = LateForm(request.POST)
    if form.is_valid():
        restoration.mark_late(task, form.cleaned_data["remaining_minutes"], request.user)
    else:
        messages.error(request, _("Give the number of minutes still needed."))
    return redirect("systems:plan", crisis.pk, plan_id)


@require_POST
@crisis_view(C.PLAN_RESTORATION)
def plan_replan(request, crisis, plan_id):
    previous = get_object_or_404(Plan, pk=plan_id, crisis=crisis)
    try:
        new = restoration.compute(
            crisis, name=previous.name, actions=previous.actions, version=previous.map_version,
            staff=previous.staff, solver=previous.solver, time_limit=previous.time_limit, user=request.user,
            previous=previous,
        )
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("systems:plan", crisis.pk, previous.pk)
    messages.success(request, _("Re-planned from now."))
    return redirect("systems:plan", crisis.pk, new.pk)


@require_POST
@crisis_view(C.PLAN_RESTORATION)
def plan_send(request, crisis, plan_id):
    item = get_object_or_404(Plan, pk=plan_id, crisis=crisis)
    created = restoration.send_to_actions(item, request.user)
    messages.success(request, ngettext("%(n)d action created.", "%(n)d actions created.", created) % {"n": created})
    return redirect("systems:plan", crisis.pk, item.pk)
