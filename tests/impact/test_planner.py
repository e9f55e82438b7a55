"""Restoration plan: tasks, precedence, ANSSI rules, greedy schedule and CP-SAT."""

import pytest

from garde import impact
from tests.impact.conftest import build

MAP = """
- {id: dmz, kind: zone, reaches: [{zone: net, via: inet}]}
- {id: net, kind: zone}
- {id: inet, kind: link, link_kind: internet, restore_minutes: 30, restore_skill: network}
- {id: dc, kind: server, ad_tier: 0, restore_minutes: 120, restore_skill: identity}
- {id: ad, kind: identity, identity_kind: ad, hosted_on: dc}
- {id: srv, kind: server, in_zone: dmz, restore_minutes: 60, restore_skill: system}
- {id: app, kind: application, hosted_on: srv, restore_minutes: 45, restore_skill: system, authenticates_via: ad}
- {id: ext, kind: external, in_zone: net}
- {id: web, kind: business_service, criticality: 2, max_downtime_minutes: 60, in_zone: dmz, requires: [app, ext]}
- {id: core, kind: business_service, criticality: 5, max_downtime_minutes: 60, requires: [ad]}
"""
STAFF = {"network": 1, "identity": 1, "system": 1}


def test_it_derives_one_task_per_node_to_bring_back():
    m = build(MAP)
    result = impact.simulate(m, ["compromise_host:srv", "cut_link:inet", "stop_host:dc"])
    found = {t.node: t for t in impact.tasks(m, result)}
    assert set(found) == {"srv", "app", "inet", "dc", "ad", "web", "core"}
    assert (found["srv"].work, found["srv"].minutes, found["srv"].skill) == ("rebuild", 60, "system")
    assert (found["app"].work, found["app"].minutes) == ("restore", 45)  # hosted on a compromised host
    assert (found["inet"].work, found["dc"].work) == ("reconnect", "restart")
    assert (found["core"].minutes, found["core"].skill) == (0, "")  # a milestone


def test_it_orders_tasks_by_dependencies_and_routes():
    m = build(MAP)
    result = impact.simulate(m, ["compromise_host:srv", "cut_link:inet", "stop_host:dc"])
    found = {t.node: t for t in impact.tasks(m, result)}
    # a compromised node is rebuilt from its host alone, after tier 0; no wait for 'ad' itself
    assert found["app"].after == ("dc", "srv")
    assert set(found["web"].after) == {"app", "inet"}  # the route to 'ext' crosses the cut link
    assert found["core"].after == ("ad",)


def test_it_puts_identity_and_tier_0_first():
    m = build(MAP)
    result = impact.simulate(m, ["compromise_host:srv", "cut_link:inet", "stop_host:dc"])
    p = impact.plan(m, result, STAFF)
    for node in ("srv", "app", "inet"):
        assert p.slot(node).start >= p.slot("dc").end


def test_it_reconnects_a_zone_only_after_cleaning_it():
    m = build(MAP)
    result = impact.simulate(m, ["compromise_host:srv", "isolate_zone:dmz"])
    found = {t.node: t for t in impact.tasks(m, result)}
    assert {"srv", "app"} <= set(found["dmz"].after)
    p = impact.plan(m, result, {"system": 1, "general": 1})
    assert p.slot("dmz").start >= p.slot("app").end


def test_it_waits_for_k_alternatives_only():
    m = build("""
    - {id: s1, kind: server, restore_minutes: 10, restore_skill: system}
    - {id: s2, kind: server, restore_minutes: 100, restore_skill: system}
    - {id: svc, kind: business_service, criticality: 5, max_downtime_minutes: 5,
       requires_one_of: [{k: 1, of: [s1, s2]}]}
    """)
    p = impact.plan(m, impact.simulate(m, ["stop_host:s1", "stop_host:s2"]), {"system": 1})
    assert p.service_minutes == {"svc": 10}
    assert p.objective == 50


def test_it_serves_the_most_critical_services_first():
    m = build("""
    - {id: a, kind: server, restore_minutes: 30, restore_skill: system}
    - {id: b, kind: server, restore_minutes: 30, restore_skill: system}
    - {id: minor, kind: business_service, criticality: 1, max_downtime_minutes: 5, requires: [a]}
    - {id: major, kind: business_service, criticality: 5, max_downtime_minutes: 5, requires: [b]}
    """)
    p = impact.plan(m, impact.simulate(m, ["stop_host:a", "stop_host:b"]), {"system": 1})
    assert p.service_minutes == {"major": 30, "minor": 60}
    assert p.objective == 5 * 30 + 60
    assert [s.worker for s in p.slots if s.task.minutes] == ["system 1", "system 1"]


def test_it_names_skills_without_staff():
    m = build(MAP)
    with pytest.raises(ValueError, match="no staff for skill.*identity"):
        impact.plan(m, impact.simulate(m, ["stop_host:dc"]), {"system": 1})


def test_it_plans_the_demo_ransomware_with_identity_first(demo):
    result = impact.simulate(demo, demo.scenario("Rançongiciel sur le domaine").actions)
    staff = {"systeme": 2, "reseau": 1, "identite": 1, "applicatif": 2, "biomedical": 1, "telecom": 1}
    p = impact.plan(demo, result, staff)
    assert p.slot("l-internet").start >= max(p.slot("srv-dc01").end, p.slot("srv-dc02").end)
    assert p.lower_bound <= p.objective
    assert set(p.service_minutes) == {s.id for s in demo.services if result.states[s.id] != impact.State.UP}


def test_it_improves_or_proves_the_greedy_plan_with_cp_sat(demo):
    pytest.importorskip("ortools")
    result = impact.simulate(demo, demo.scenario("Isolement complet du SI").actions)
    staff = {"systeme": 1, "reseau": 1, "identite": 1, "applicatif": 1, "biomedical": 1, "telecom": 1}
    greedy = impact.plan(demo, result, staff)
    best = impact.plan(demo, result, staff, solver="cp-sat", time_limit=5)
    assert best.solver == "cp-sat"
    assert best.lower_bound <= best.objective <= greedy.objective
    assert best.optimal and best.gap == 0.0


def test_it_keeps_cp_sat_plans_within_staff_and_precedence():
    pytest.importorskip("ortools")
    m = build("""
    - {id: a, kind: server, restore_minutes: 30, restore_skill: system}
    - {id: b, kind: server, restore_minutes: 20, restore_skill: system}
    - {id: c, kind: server, restore_minutes: 10, restore_skill: system, requires: [a]}
    - {id: s1, kind: business_service, criticality: 1, max_downtime_minutes: 5, requires: [c]}
    - {id: s2, kind: business_service, criticality: 4, max_downtime_minutes: 5, requires: [b]}
    """)
    p = impact.plan(m, impact.simulate(m, ["stop_host:a", "stop_host:b", "stop_host:c"]), {"system": 1},
                    solver="cp-sat", time_limit=2)
    work = sorted((s.start, s.end) for s in p.slots if s.task.minutes)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(work, work[1:], strict=False))
    assert p.slot("c").start >= p.slot("a").end
    assert p.optimal and p.objective == 4 * 20 + 1 * 60
