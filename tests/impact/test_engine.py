"""Each propagation rule of DESIGN.md ("Impact rules") on the smallest map that shows it."""

from garde import impact
from garde.impact import State
from tests.impact.conftest import build

UP, DEGRADED, DOWN = State.UP, State.DEGRADED, State.DOWN

NETWORK = """
- {id: lan, kind: zone, name: LAN, reaches: [{zone: net, via: inet}]}
- {id: net, kind: zone, name: Internet zone}
- {id: inet, kind: link, link_kind: internet, name: Internet}
- {id: platform, kind: external, in_zone: net, name: Plateforme de téléconsultation}
- id: tc
  kind: business_service
  name: Téléconsultation
  criticality: 3
  max_downtime_minutes: 60
  procedure: Appeler les patients.
  in_zone: lan
  requires: [platform]
"""


def states(result, *ids):
    return tuple(result.states[i] for i in ids)


def test_it_leaves_everything_up_with_no_action():
    result = impact.simulate(build(NETWORK))
    assert set(result.states.values()) == {UP}
    assert result.changes() == []


def test_it_sets_action_targets_down():
    m = build(NETWORK + "- {id: srv, kind: server}\n")
    result = impact.simulate(m, ["cut_link:inet", "isolate_zone:lan", "stop_host:srv"])
    assert states(result, "inet", "lan", "srv") == (DOWN, DOWN, DOWN)


def test_it_explains_a_dependency_reachable_only_through_a_cut_link():
    result = impact.simulate(build(NETWORK), ["cut_link:inet"])
    assert result.states["tc"] == DOWN
    assert result.explain("tc", "fr") == (
        "Téléconsultation : DOWN — requiert « Plateforme de téléconsultation » (externe), "
        "joignable uniquement par le lien « Internet », qui est coupé")
    assert result.explain("tc", "en") == (
        "Téléconsultation: DOWN — requires 'Plateforme de téléconsultation' (external), "
        "reachable only through link 'Internet', which is cut")


def test_it_keeps_the_target_itself_up_when_only_the_path_is_cut():
    result = impact.simulate(build(NETWORK), ["cut_link:inet"])
    assert result.states["platform"] == UP


def test_it_blocks_paths_through_an_isolated_zone_but_not_inside_it():
    m = build("""
    - {id: a, kind: zone, reaches: [{zone: b}]}
    - {id: b, kind: zone}
    - {id: db, kind: datastore, in_zone: a, name: Base}
    - {id: local, kind: application, in_zone: a, requires: db}
    - {id: remote, kind: application, in_zone: b, requires: db}
    """)
    result = impact.simulate(m, ["isolate_zone:a"])
    assert states(result, "db", "local", "remote") == (UP, UP, DOWN)
    assert "la zone « a » est isolée" in result.explain("remote")


def test_it_follows_reachability_in_its_declared_direction_only():
    m = build("""
    - {id: a, kind: zone, reaches: [{zone: b}]}
    - {id: b, kind: zone}
    - {id: in_a, kind: application, in_zone: a}
    - {id: in_b, kind: application, in_zone: b}
    - {id: a_uses_b, kind: application, in_zone: a, requires: in_b}
    - {id: b_uses_a, kind: application, in_zone: b, requires: in_a}
    """)
    result = impact.simulate(m)
    assert states(result, "a_uses_b", "b_uses_a") == (UP, DOWN)
    assert "aucune route déclarée" in result.explain("b_uses_a")


def test_it_uses_an_alternative_route_when_one_link_is_cut():
    m = build("""
    - {id: a, kind: zone, reaches: [{zone: b, via: l1}, {zone: c, via: l2}]}
    - {id: c, kind: zone, reaches: [{zone: b}]}
    - {id: b, kind: zone}
    - {id: l1, kind: link, link_kind: wan}
    - {id: l2, kind: link, link_kind: wan}
    - {id: x, kind: external, in_zone: b}
    - {id: user, kind: application, in_zone: a, requires: x}
    """)
    assert impact.simulate(m, ["cut_link:l1"]).states["user"] == UP
    both = impact.simulate(m, ["cut_link:l1", "cut_link:l2"])
    assert both.states["user"] == DOWN
    assert "unusable" in both.explain("user", "en")


def test_it_makes_a_requiring_node_as_bad_as_its_worst_hard_dependency():
    m = build("""
    - {id: srv, kind: server}
    - {id: opt, kind: external, name: Option}
    - {id: app, kind: application, hosted_on: srv, degraded_without: [{target: opt, capability: Envoi}]}
    - {id: svc, kind: application, requires: [app]}
    """)
    assert impact.simulate(m, ["stop_host:srv"]).states["svc"] == DOWN
    m2 = build("""
    - {id: srv, kind: server}
    - {id: opt, kind: server, name: Option}
    - {id: app, kind: application, degraded_without: [{target: opt, capability: Envoi}]}
    - {id: svc, kind: application, requires: [app]}
    """)
    assert states(impact.simulate(m2, ["stop_host:opt"]), "app", "svc") == (DEGRADED, DEGRADED)


ONE_OF = """
- {id: s1, kind: server}
- {id: s2, kind: server}
- {id: s3, kind: server}
- {id: d2, kind: server}
- {id: weak, kind: application, hosted_on: d2, degraded_without: [{target: s3, capability: C}]}
- id: cluster
  kind: application
  requires_one_of: [{k: 2, of: [s1, s2, weak]}]
"""


def test_it_keeps_requires_one_of_up_while_k_alternatives_are_up():
    assert impact.simulate(build(ONE_OF), ["stop_host:s1"]).states["cluster"] == UP
    assert impact.simulate(build(ONE_OF), ["stop_host:s3"]).states["cluster"] == UP


def test_it_degrades_requires_one_of_when_k_are_available_only_counting_degraded_ones():
    result = impact.simulate(build(ONE_OF), ["stop_host:s1", "stop_host:s3"])
    assert states(result, "weak", "cluster") == (DEGRADED, DEGRADED)


def test_it_downs_requires_one_of_when_fewer_than_k_are_available():
    result = impact.simulate(build(ONE_OF), ["stop_host:s1", "stop_host:d2"])
    assert result.states["cluster"] == DOWN
    assert "requires 2 of" in result.explain("cluster", "en")


def test_it_names_the_capability_lost_by_degraded_without():
    m = build("""
    - {id: mss, kind: server, name: MSSanté}
    - {id: dpi, kind: application, degraded_without: [{target: mss, capability: Envoi des comptes rendus}]}
    """)
    result = impact.simulate(m, ["stop_host:mss"])
    assert result.states["dpi"] == DEGRADED
    assert result.capabilities_lost("dpi") == ("Envoi des comptes rendus",)
    assert "perd « Envoi des comptes rendus » sans « MSSanté » (serveur), qui est arrêté" in result.explain("dpi")


IDENTITY = """
- {id: dc, kind: server}
- {id: ad, kind: identity, identity_kind: ad, name: AD, hosted_on: dc}
- {id: app, kind: application, authenticates_via: ad}
- {id: pc, kind: application, authenticates_via: ad, cached_login: true}
"""


def test_it_downs_a_node_whose_identity_service_is_down():
    result = impact.simulate(build(IDENTITY), ["stop_host:dc"])
    assert result.states["app"] == DOWN


def test_it_only_degrades_a_node_with_cached_login():
    result = impact.simulate(build(IDENTITY), ["stop_host:dc"])
    assert result.states["pc"] == DEGRADED
    assert "connexion en cache possible" in result.explain("pc")
    assert result.capabilities_lost("pc", "en") == ("new logins through 'AD' (only cached sessions work)",)


def test_it_honours_cached_login_declared_on_the_identity_service():
    m = build("""
    - {id: dc, kind: server}
    - {id: ad, kind: identity, identity_kind: ad, hosted_on: dc, cached_login: true}
    - {id: app, kind: application, authenticates_via: ad}
    """)
    assert impact.simulate(m, ["compromise_host:dc"]).states["app"] == DEGRADED


def test_it_finds_the_host_zone_of_a_node_without_its_own():
    m = build("""
    - {id: a, kind: zone}
    - {id: b, kind: zone}
    - {id: srv, kind: server, in_zone: a}
    - {id: x, kind: external, in_zone: b}
    - {id: app, kind: application, hosted_on: srv, requires: x}
    """)
    assert m.zone_of("app") == "a"
    assert impact.simulate(m).states["app"] == DOWN  # no route declared from a to b


def test_it_reaches_a_fixed_point_on_a_cycle_of_requires_one_of():
    m = build("""
    - {id: x, kind: server}
    - {id: y, kind: server}
    - {id: a, kind: application, requires_one_of: [{of: [b, x]}]}
    - {id: b, kind: application, requires_one_of: [{of: [a, y]}]}
    """)
    assert states(impact.simulate(m, ["stop_host:x"]), "a", "b") == (UP, UP)
    assert states(impact.simulate(m, ["stop_host:y"]), "a", "b") == (UP, UP)
    # Each backs the other up, yet neither keeps the other alive once both real supports are gone.
    both = impact.simulate(m, ["stop_host:x", "stop_host:y"])
    assert states(both, "a", "b") == (DOWN, DOWN)
    assert "cycle" in both.explain("a", "en")


def test_it_treats_an_ungrounded_cycle_pessimistically_and_warns_about_it():
    m = build("""
    - {id: a, kind: application, requires: b}
    - {id: b, kind: application, requires: a}
    """)
    assert states(impact.simulate(m), "a", "b") == (DOWN, DOWN)
    assert any("dependency cycle between a, b" in w for w in m.warnings)
    assert any("'a' is DOWN even with no action" in w for w in m.warnings)


def test_it_reports_the_stronger_action_when_a_host_is_stopped_and_compromised():
    m = build("- {id: s, kind: server, name: S}\n")
    result = impact.simulate(m, ["stop_host:s", "compromise_host:s"])
    assert result.explain("s") == "S : DOWN — compromis (action du scénario)"


def test_it_rejects_actions_on_unknown_or_wrong_targets():
    m = build(NETWORK)
    for action, message in [("cut_link:nowhere", "no node 'nowhere'"), ("cut_link:lan", "is a zone, expected a link"),
                            ("unplug:inet", "unknown kind 'unplug'"), ("inet", "expected 'kind:target'")]:
        try:
            impact.simulate(m, [action])
        except ValueError as error:
            assert message in str(error)
        else:
            raise AssertionError(f"{action} was accepted")


def test_it_lists_active_procedures_and_changes_from_the_normal_state():
    result = impact.simulate(build(NETWORK), ["cut_link:inet"])
    [active] = result.procedures()
    assert (active.node.id, active.state, active.normal_state, active.procedure) == (
        "tc", DOWN, UP, "Appeler les patients.")
    assert active.changed
    assert sorted(result.changes()) == [("inet", UP, DOWN), ("tc", UP, DOWN)]
    assert result.to_dict()["nodes"]["tc"]["state"] == "DOWN"


def test_it_limits_the_causes_listed_per_step():
    m = build("""
    - {id: s, kind: server}
    - {id: a1, kind: application, hosted_on: s}
    - {id: a2, kind: application, hosted_on: s}
    - {id: a3, kind: application, hosted_on: s}
    - {id: a4, kind: application, hosted_on: s}
    - {id: svc, kind: application, requires: [a1, a2, a3, a4]}
    """)
    text = impact.simulate(m, ["stop_host:s"]).explain("svc", "en")
    assert "and 1 more cause(s)" in text
