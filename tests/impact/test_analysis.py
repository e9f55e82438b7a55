"""Peacetime analysis: single points of failure, minimal cut sets, services without procedure."""

from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from garde import impact
from garde.impact import State
from garde.impact.analysis import CutSets
from garde.impact.engine import Graph
from tests.impact.conftest import build
from tests.impact.strategies import maps

MAP = """
- {id: lan, kind: zone, reaches: [{zone: net, via: inet}]}
- {id: net, kind: zone}
- {id: inet, kind: link, link_kind: internet, requires: fw}
- {id: fw, kind: server}
- {id: ext, kind: external, in_zone: net}
- {id: s1, kind: server}
- {id: s2, kind: server}
- {id: db, kind: datastore, hosted_on: s1}
- {id: app, kind: application, in_zone: lan, requires: [db, ext], requires_one_of: [{of: [s1, s2]}]}
- {id: opt, kind: server}
- id: svc
  kind: business_service
  criticality: 5
  max_downtime_minutes: 60
  requires: [app]
  degraded_without: [{target: opt, capability: C}]
- {id: minor, kind: business_service, criticality: 2, max_downtime_minutes: 60, procedure: Papier.}
"""


def test_it_finds_single_points_of_failure_including_through_the_network():
    risk = impact.analyse(build(MAP)).risk("svc")
    assert set(risk.single_points) == {"app", "db", "s1", "ext", "inet", "fw", "lan", "net"}


def test_it_never_counts_degraded_without_as_a_point_of_failure():
    assert "opt" not in impact.analyse(build(MAP)).risk("svc").single_points


def test_it_finds_minimal_cut_sets_of_alternatives():
    m = build("""
    - {id: a, kind: server}
    - {id: b, kind: server}
    - {id: c, kind: server}
    - {id: svc, kind: business_service, criticality: 5, max_downtime_minutes: 5,
       requires_one_of: [{k: 2, of: [a, b, c]}]}
    """)
    risk = impact.analyse(m).risk("svc")
    assert risk.single_points == ()
    assert risk.cut_sets == (("a", "b"), ("a", "c"), ("b", "c"))


def test_it_only_analyses_critical_services_and_lists_those_without_procedure():
    analysis = impact.analyse(build(MAP))
    assert [r.service.id for r in analysis.risks] == ["svc"]
    assert [n.id for n in analysis.without_procedure] == ["svc"]
    assert [r.service.id for r in impact.analyse(build(MAP), min_criticality=1).risks] == ["svc", "minor"]


def test_it_finds_the_single_points_of_the_demo_emergencies(demo):
    risk = impact.analyse(demo).risk("urgences")
    assert {"san", "cluster", "dpi", "db-dpi"} <= set(risk.single_points)
    assert "srv-dc01" not in risk.single_points
    assert ("srv-dc01", "srv-dc02") in risk.cut_sets
    assert [n.id for n in impact.analyse(demo).without_procedure] == ["partage-documents"]


def brute_force(m, node_id, size):
    graph = Graph.of(m)
    everything = range(len(graph.nodes))
    found = []
    for n in range(1, size + 1):
        for chosen in combinations(everything, n):
            if any(set(f) <= set(chosen) for f in found):
                continue
            cap = [State.DOWN if i in chosen else State.UP for i in everything]
            if graph.fixpoint(cap)[0][graph.index[node_id]] == State.DOWN:
                found.append(chosen)
    return sorted((tuple(sorted(graph.nodes[i].id for i in c)) for c in found), key=lambda c: (len(c), c))


@settings(max_examples=80, deadline=None)
@given(maps(max_nodes=7), st.data())
def test_it_agrees_with_brute_force_simulation(m, data):
    graph = Graph.of(m)
    if any(s != State.UP for s in graph.normal):
        return  # cut sets are about losing what works
    node = data.draw(st.sampled_from([n.id for n in m.nodes]))
    assert CutSets(graph, max_size=2).of(node) == brute_force(m, node, 2)
