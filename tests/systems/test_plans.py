"""Restoration plans in the UI: staff by skill, greedy and CP-SAT, Gantt chart, progress and re-planning."""

import re

from django.urls import reverse

from garde.cell.models import Action, LogEntry
from garde.systems import gantt, restoration
from garde.systems.models import Plan, PlanTask
from tests.systems.helpers import DOMAIN_RANSOMWARE, scenario


def make_plan(client, crisis, solver="greedy", **staff):
    staff = staff or {"identite": 1, "reseau": 1}
    data = {"solver": solver, "time_limit": 2, **{f"staff_{k}": v for k, v in staff.items()}}
    response = client.post(reverse("systems:plan_new", args=[crisis.pk, scenario(DOMAIN_RANSOMWARE).pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Plan.objects.latest("created_at")


def test_it_asks_for_staff_in_each_skill_the_tasks_need(as_role, crisis, demo_map):
    form = as_role("it_lead").get(reverse("systems:plan_new", args=[crisis.pk, scenario(DOMAIN_RANSOMWARE).pk]))
    assert set(form.context["form"].skills) == {"identite", "reseau"}


def test_it_computes_a_greedy_plan_with_identity_first(as_role, crisis, demo_map):
    plan = make_plan(as_role("it_lead"), crisis)
    tasks = {t.node: t for t in plan.tasks.all()}
    assert tasks["srv-dc01"].work == "rebuild" and tasks["srv-dc01"].start == 0
    assert tasks["l-internet"].start >= tasks["srv-dc01"].end
    assert plan.objective >= plan.lower_bound > 0
    assert LogEntry.objects.filter(crisis=crisis, text__contains=f"{plan.objective}, ").exists()


def test_it_improves_with_cp_sat_and_reports_bound_and_gap(as_role, crisis, demo_map):
    client = as_role("it_lead")
    greedy = make_plan(client, crisis)
    improved = make_plan(client, crisis, solver="cp-sat")
    assert improved.solver == "cp-sat" and improved.objective <= greedy.objective
    page = client.get(reverse("systems:plan", args=[crisis.pk, improved.pk])).content.decode()
    assert str(improved.lower_bound) in page and "%" in page and "<svg" in page


def test_it_marks_tasks_done_or_late_and_replans_what_is_left(as_role, crisis, demo_map):
    client = as_role("it_lead")
    plan = make_plan(client, crisis)
    first = plan.tasks.get(node="srv-dc01")
    other = plan.tasks.get(node="srv-dc02")
    client.post(reverse("systems:task_done", args=[crisis.pk, plan.pk, first.pk]))
    client.post(reverse("systems:task_late", args=[crisis.pk, plan.pk, other.pk]), {"remaining_minutes": 500})
    assert PlanTask.objects.get(pk=first.pk).status == PlanTask.Status.DONE
    assert PlanTask.objects.get(pk=other.pk).remaining_minutes == 500
    response = client.post(reverse("systems:plan_replan", args=[crisis.pk, plan.pk]))
    new = Plan.objects.latest("created_at")
    assert response["Location"] == reverse("systems:plan", args=[crisis.pk, new.pk])
    nodes = {t.node: t for t in new.tasks.all()}
    assert "srv-dc01" not in nodes and nodes["srv-dc02"].minutes == 500
    assert new.done_nodes == ["srv-dc01"] and new.previous == plan
    texts = " ".join(LogEntry.objects.filter(crisis=crisis).values_list("text", flat=True))
    assert "500" in texts and "replanifiée" in texts  # the UI (and so the log) speaks French by default


def test_it_restores_what_a_rebuilt_host_carried(demo_map, crisis, users):
    plan = restoration.compute(crisis, name="x", actions=["compromise_host:srv-sil"], version=demo_map,
                               staff={"systeme": 1, "applicatif": 1}, solver="greedy", time_limit=1,
                               user=users["director"])
    hosted = [t for t in plan.tasks.all() if t.work == "restore"]
    plan.tasks.filter(node="srv-sil").update(status=PlanTask.Status.DONE)
    again = restoration.compute(crisis, name="x", actions=plan.actions, version=demo_map, staff=plan.staff,
                                solver="greedy", time_limit=1, user=users["director"], previous=plan)
    left = {t.node for t in again.tasks.filter(minutes__gt=0)}
    assert "srv-sil" not in left and {t.node for t in hosted} <= left


def test_it_sends_plan_tasks_to_the_crisis_actions_once(as_role, crisis, demo_map):
    client = as_role("it_lead")
    plan = make_plan(client, crisis)
    work = plan.tasks.filter(minutes__gt=0).count()
    client.post(reverse("systems:plan_send", args=[crisis.pk, plan.pk]))
    client.post(reverse("systems:plan_send", args=[crisis.pk, plan.pk]))
    actions = Action.objects.filter(crisis=crisis, title__contains="Rebuild") | Action.objects.filter(
        crisis=crisis, details__contains=plan.name)
    assert actions.distinct().count() == work
    task = plan.tasks.filter(minutes__gt=0).first()
    client.post(reverse("systems:task_done", args=[crisis.pk, plan.pk, task.pk]))
    assert Action.objects.get(pk=PlanTask.objects.get(pk=task.pk).action_id).status == Action.Status.DONE


def test_it_prints_the_plan_as_pdf(as_role, crisis, demo_map):
    client = as_role("observer")
    plan = make_plan(as_role("it_lead"), crisis)
    response = client.get(reverse("systems:plan_pdf", args=[crisis.pk, plan.pk]))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")


def test_it_draws_the_gantt_without_inline_style_or_script(demo_map, crisis, users):
    plan = restoration.compute(crisis, name="<script>", actions=["cut_link:l-internet"], version=demo_map,
                               staff={"reseau": 1}, solver="greedy", time_limit=1, user=users["director"])
    svg = gantt.to_svg(list(plan.tasks.all()), plan.makespan)
    assert svg.startswith("<svg") and "<script" not in svg and not re.search(r"\sstyle=", svg)
    assert "Internet" in svg
