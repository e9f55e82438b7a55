"""Garde's impact engine: the IS map, what-if containment, peacetime analysis and restoration plan.

A plain Python library: it never imports Django, so it can be tested and benchmarked alone.

Public API::

    from garde import impact

    m = impact.load_map("chu.yaml")        # or YAML text, or impact.load_csv(nodes, dependencies)
                                            # raises impact.MapError(problems): file, line, node, what
    impact.load_mercator(["MApplication.xlsx", ...])   # Mercator's XLSX exports (mercator.py)
    impact.check_map("chu.yaml")           # [Problem] errors and warnings, never raises
    impact.dump_map(m)                     # native YAML text; impact.to_dict(m) for plain data

    r = impact.simulate(m, ["cut_link:internet"])   # or [impact.Action(impact.ActionKind.CUT_LINK, "internet")]
    r.states["teleconsultation"]           # State.DOWN (State.UP > State.DEGRADED > State.DOWN)
    r.explain("teleconsultation", "fr")    # "Téléconsultation : DOWN — requiert « Plateforme de
                                            #  téléconsultation » (externe), joignable uniquement par le
                                            #  lien « Internet », qui est coupé"
    r.services()                           # [ServiceImpact] most critical first: state, normal_state,
                                            #  reason_fr, reason_en, capabilities_lost, procedure
    r.procedures()                         # services not UP: their degraded-mode procedure is active
    r.capabilities_lost("dpi", "fr")       # ("Envoi des comptes rendus par messagerie", ...)
    r.changes()                            # [(node id, normal state, scenario state)]
    r.to_dict()                            # JSON-ready summary

    a = impact.analyse(m)                  # Analysis: single points of failure and minimal cut sets
                                            #  (size <= 3) of critical services, services with no procedure
    p = impact.plan(m, r, {"system": 2, "network": 1})   # Plan: tasks, start/end minutes, service
                                            #  return times, objective; solver="cp-sat" to improve it
                                            #  with OR-Tools (objective, lower bound, gap)

    impact.to_dot(m, r), impact.to_svg(m, r)   # Graphviz DOT text and a standalone SVG, coloured by state

The rules are those of DESIGN.md ("Impact rules"); engine.py states them precisely.
"""

from garde.impact.analysis import Analysis, ServiceRisk, analyse
from garde.impact.csvimport import load_csv
from garde.impact.engine import Cause, Result, ServiceImpact, simulate
from garde.impact.export import to_dot, to_svg
from garde.impact.loader import MapError, Problem, check_map, dump_map, load_map, to_dict
from garde.impact.mercator import load_mercator
from garde.impact.model import (
    Action,
    ActionKind,
    Dependency,
    DepKind,
    Kind,
    Map,
    Node,
    Reach,
    Scenario,
    State,
)
from garde.impact.planner import Plan, Slot, Task, plan, tasks

__all__ = [
    "Analysis", "ServiceRisk", "analyse", "Plan", "Slot", "Task", "plan", "tasks",
    "Action", "ActionKind", "Cause", "Dependency", "DepKind", "Kind", "Map", "MapError", "Node", "Problem",
    "Reach", "Result", "Scenario", "ServiceImpact", "State", "check_map", "dump_map", "load_map", "simulate",
    "to_dict", "load_csv", "load_mercator", "to_dot", "to_svg",
]
