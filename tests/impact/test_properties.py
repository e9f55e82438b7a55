"""Properties of the propagation that hold on any map."""

from hypothesis import given, settings
from hypothesis import strategies as st

from garde import impact
from garde.impact import Map, State
from tests.impact.strategies import actions, maps


@st.composite
def map_and_two_scenarios(draw):
    m = draw(maps())
    return m, draw(actions(m)), draw(actions(m))


@settings(max_examples=300, deadline=None)
@given(map_and_two_scenarios())
def test_it_never_improves_any_node_when_more_is_cut(case):
    m, some, more = case
    fewer = impact.simulate(m, some).states
    worse = impact.simulate(m, some + more).states
    assert all(worse[i] <= fewer[i] for i in fewer)


@settings(max_examples=200, deadline=None)
@given(map_and_two_scenarios())
def test_it_downs_every_target_of_an_action(case):
    m, some, _ = case
    result = impact.simulate(m, some)
    assert all(result.states[a.target] == State.DOWN for a in some)


@settings(max_examples=200, deadline=None)
@given(map_and_two_scenarios(), st.randoms(use_true_random=False))
def test_it_does_not_depend_on_the_order_of_nodes_or_actions(case, random):
    m, some, _ = case
    nodes, shuffled_actions = list(m.nodes), list(some)
    random.shuffle(nodes)
    random.shuffle(shuffled_actions)
    again = impact.simulate(Map(name=m.name, nodes=tuple(nodes)), shuffled_actions)
    assert again.states == impact.simulate(m, some).states


@settings(max_examples=200, deadline=None)
@given(map_and_two_scenarios())
def test_it_explains_every_node_that_is_not_up(case):
    m, some, _ = case
    result = impact.simulate(m, some)
    for node_id, state in result.states.items():
        if state != State.UP:
            assert result.causes[node_id]
            assert result.explain(node_id, "fr").startswith(f"{node_id} : {state.name} — ")
            assert result.explain(node_id, "en")


@settings(max_examples=200, deadline=None)
@given(map_and_two_scenarios())
def test_it_reaches_a_fixed_point(case):
    m, some, _ = case
    result = impact.simulate(m, some)
    graph = result.graph
    state = [result.states[n.id] for n in graph.nodes]
    cap = [State.DOWN if n.id in result.acted else State.UP for n in graph.nodes]
    reach = graph.reach(state)
    assert [graph.evaluate(i, state, reach, cap) for i in range(len(state))] == state
