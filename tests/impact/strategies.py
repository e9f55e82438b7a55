"""Hypothesis strategies: small random maps with zones, links, every dependency kind, and cycles."""

from hypothesis import strategies as st

from garde.impact import Action, ActionKind, Dependency, DepKind, Kind, Map, Node, Reach

ZONES = ["z0", "z1", "z2"]
LINKS = ["l0", "l1"]


@st.composite
def maps(draw, max_nodes: int = 9) -> Map:
    count = draw(st.integers(2, max_nodes))
    ids = [f"n{i}" for i in range(count)]
    kinds = {i: draw(st.sampled_from([Kind.SERVER, Kind.APPLICATION, Kind.IDENTITY])) for i in ids}
    servers = [i for i in ids if kinds[i] == Kind.SERVER]
    identities = [i for i in ids if kinds[i] == Kind.IDENTITY]
    nodes = [Node(id=link, kind=Kind.LINK, name=link, link_kind="wan") for link in LINKS]
    for zone in ZONES:
        targets = draw(st.lists(st.tuples(st.sampled_from(ZONES), st.sampled_from(LINKS + [""])), max_size=2))
        reaches = tuple(Reach(z, via) for z, via in targets if z != zone)
        nodes.append(Node(id=zone, kind=Kind.ZONE, name=zone, reaches=reaches))
    for node_id in ids:
        others = [i for i in ids if i != node_id]
        deps: list[Dependency] = []
        for target in draw(st.lists(st.sampled_from(others + LINKS), max_size=2, unique=True)):
            deps.append(Dependency(DepKind.REQUIRES, (target,)))
        if draw(st.booleans()):
            alternatives = draw(st.lists(st.sampled_from(others), min_size=1, max_size=3, unique=True))
            deps.append(Dependency(DepKind.REQUIRES_ONE_OF, tuple(alternatives),
                                   k=draw(st.integers(1, len(alternatives)))))
        if draw(st.booleans()):
            deps.append(Dependency(DepKind.DEGRADED_WITHOUT, (draw(st.sampled_from(others)),), capability="c"))
        hosts = [s for s in servers if s != node_id]
        if hosts and draw(st.booleans()):
            deps.append(Dependency(DepKind.HOSTED_ON, (draw(st.sampled_from(hosts)),)))
        if draw(st.booleans()):
            deps.append(Dependency(DepKind.IN_ZONE, (draw(st.sampled_from(ZONES)),)))
        auth = [i for i in identities if i != node_id]
        if auth and draw(st.booleans()):
            deps.append(Dependency(DepKind.AUTHENTICATES_VIA, (draw(st.sampled_from(auth)),)))
        nodes.append(Node(id=node_id, kind=kinds[node_id], name=node_id, dependencies=tuple(deps),
                          cached_login=draw(st.booleans())))
    return Map(name="random", nodes=tuple(nodes))


def actions(map_: Map):
    choices = []
    for node in map_.nodes:
        if node.kind == Kind.LINK:
            choices.append(Action(ActionKind.CUT_LINK, node.id))
        elif node.kind == Kind.ZONE:
            choices.append(Action(ActionKind.ISOLATE_ZONE, node.id))
        else:
            choices += [Action(ActionKind.STOP_HOST, node.id), Action(ActionKind.COMPROMISE_HOST, node.id)]
    return st.lists(st.sampled_from(choices), max_size=4)
