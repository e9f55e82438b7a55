"""Chains of causes in plain French and English.

One step per node: "Name : STATE — cause ; cause", then the step of the node the first cause points
at, until an action of the scenario is reached, e.g.
"Prise de RDV en ligne : DOWN — requiert « Portail RDV » (application), qui est hors service.
Portail RDV : DOWN — requiert « Plateforme RDV » (externe), joignable uniquement par le lien
« Internet », qui est coupé".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from garde.impact.model import ActionKind, DepKind, Kind, State

if TYPE_CHECKING:
    from garde.impact.engine import Cause, Result

MAX_STEPS = 8
MAX_CAUSES = 3

KIND_LABELS = {
    "fr": {
        Kind.BUSINESS_SERVICE: "service", Kind.APPLICATION: "application", Kind.DATASTORE: "base de données",
        Kind.SERVER: "serveur", Kind.IDENTITY: "service d'identité", Kind.ZONE: "zone",
        Kind.EXTERNAL: "externe", Kind.LINK: "lien", Kind.SITE: "site",
    },
    "en": {
        Kind.BUSINESS_SERVICE: "service", Kind.APPLICATION: "application", Kind.DATASTORE: "datastore",
        Kind.SERVER: "server", Kind.IDENTITY: "identity service", Kind.ZONE: "zone",
        Kind.EXTERNAL: "external", Kind.LINK: "link", Kind.SITE: "site",
    },
}
FEMININE = {Kind.APPLICATION, Kind.DATASTORE, Kind.ZONE}

PARTICIPLES = {
    "fr": {ActionKind.CUT_LINK: ("coupé", "coupée"), ActionKind.ISOLATE_ZONE: ("isolé", "isolée"),
           ActionKind.STOP_HOST: ("arrêté", "arrêtée"), ActionKind.COMPROMISE_HOST: ("compromis", "compromise")},
    "en": {ActionKind.CUT_LINK: ("cut",) * 2, ActionKind.ISOLATE_ZONE: ("isolated",) * 2,
           ActionKind.STOP_HOST: ("stopped",) * 2, ActionKind.COMPROMISE_HOST: ("compromised",) * 2},
}
STATE_WORDS = {
    # an UP alternative of requires_one_of is only missing because the network does not reach it
    "fr": {State.DOWN: ("hors service", "hors service"), State.DEGRADED: ("dégradé", "dégradée"),
           State.UP: ("injoignable", "injoignable")},
    "en": {State.DOWN: ("down", "down"), State.DEGRADED: ("degraded", "degraded"),
           State.UP: ("unreachable", "unreachable")},
}

PHRASES = {
    "fr": {
        "colon": " : ",
        "quote": "« {} »",
        "action": "{participle} (action du scénario)",
        DepKind.REQUIRES: "requiert {target}",
        DepKind.HOSTED_ON: "hébergé sur {target}",
        DepKind.AUTHENTICATES_VIA: "s'authentifie via {target}",
        DepKind.DEGRADED_WITHOUT: "perd « {capability} » sans {target}",
        DepKind.REQUIRES_ONE_OF: "requiert {k} parmi {targets} ; {available} autre(s) disponible(s)",
        "cached": " ; connexion en cache possible",
        "which_is": ", qui est {state}",
        "only_through": ", joignable uniquement par le {kind} {element}, qui est {state}",
        "isolated": ", injoignable car la zone {element} est {state}",
        "no_path": ", injoignable depuis la zone {source} : {elements} hors d'usage",
        "no_route": ", aucune route déclarée de la zone {source} vers la zone {target}",
        "cycle": " (dépendance circulaire)",
        "more": " ; et {count} autre(s) cause(s)",
    },
    "en": {
        "colon": ": ",
        "quote": "'{}'",
        "action": "{participle} (scenario action)",
        DepKind.REQUIRES: "requires {target}",
        DepKind.HOSTED_ON: "hosted on {target}",
        DepKind.AUTHENTICATES_VIA: "authenticates via {target}",
        DepKind.DEGRADED_WITHOUT: "loses '{capability}' without {target}",
        DepKind.REQUIRES_ONE_OF: "requires {k} of {targets}; {available} other(s) available",
        "cached": "; cached login works",
        "which_is": ", which is {state}",
        "only_through": ", reachable only through {kind} {element}, which is {state}",
        "isolated": ", unreachable because zone {element} is {state}",
        "no_path": ", unreachable from zone {source}: {elements} unusable",
        "no_route": ", no route declared from zone {source} to zone {target}",
        "cycle": " (dependency cycle)",
        "more": "; and {count} more cause(s)",
    },
}


def explain(result: Result, node_id: str, lang: str = "fr") -> str:
    if lang not in PHRASES:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(PHRASES)}")
    text = _Renderer(result, lang)
    steps: list[str] = []
    seen: set[str] = set()
    current: str | None = node_id
    while current is not None and len(steps) < MAX_STEPS:
        if current in seen:
            steps[-1] += PHRASES[lang]["cycle"]
            break
        seen.add(current)
        step, current = text.step(current)
        steps.append(step)
    return ". ".join(steps)


class _Renderer:
    def __init__(self, result: Result, lang: str):
        self.result, self.lang, self.words = result, lang, PHRASES[lang]

    def name(self, node_id: str) -> str:
        return self.words["quote"].format(self.result.map[node_id].name)

    def labelled(self, node_id: str) -> str:
        return f"{self.name(node_id)} ({KIND_LABELS[self.lang][self.result.map[node_id].kind]})"

    def with_state(self, node_id: str) -> str:
        kind = KIND_LABELS[self.lang][self.result.map[node_id].kind]
        return f"{self.name(node_id)} ({kind}, {self.state_word(node_id)})"

    def state_word(self, node_id: str) -> str:
        """How an element is: the action that hit it ("coupé"), else its state ("hors service")."""
        feminine = self.lang == "fr" and self.result.map[node_id].kind in FEMININE
        action = self.result.acted.get(node_id)
        if action is not None:
            return PARTICIPLES[self.lang][action][feminine]
        return STATE_WORDS[self.lang][self.result.states[node_id]][feminine]

    def step(self, node_id: str) -> tuple[str, str | None]:
        """One sentence for ``node_id``, and the node whose own causes explain it further."""
        node = self.result.map[node_id]
        state = self.result.states[node_id]
        head = f"{node.name}{self.words['colon']}{state.name}"
        if state == State.UP:
            return head, None
        causes = self.result.causes[node_id]
        phrases, follow = [], None
        for cause in causes[:MAX_CAUSES]:
            phrase, culprit = self.cause(cause, node_id)
            phrases.append(phrase)
            if follow is None and culprit is not None and culprit not in self.result.acted:
                follow = culprit
        if len(causes) > MAX_CAUSES:
            phrases[-1] += self.words["more"].format(count=len(causes) - MAX_CAUSES)
        separator = " ; " if self.lang == "fr" else "; "
        return f"{head} — {separator.join(phrases)}", follow

    def cause(self, cause: Cause, node_id: str) -> tuple[str, str | None]:
        """The phrase for one cause, and the node to explain next (None at an action)."""
        words = self.words
        if cause.dep is None:
            return words["action"].format(participle=self.state_word(node_id)), None
        if cause.dep == DepKind.REQUIRES_ONE_OF:
            targets = ", ".join(self.with_state(t) for t in cause.targets)
            phrase = words[DepKind.REQUIRES_ONE_OF].format(k=cause.k, targets=targets, available=cause.available)
            if cause.blocked is None:
                return phrase, cause.targets[0]
        else:
            phrase = words[cause.dep].format(target=self.labelled(cause.targets[0]), capability=cause.capability)
        if cause.blocked is not None:
            network, culprit = self.network(cause.blocked)
            phrase += network
        else:
            culprit = cause.targets[0]
            phrase += words["which_is"].format(state=self.state_word(culprit))
        if cause.dep == DepKind.AUTHENTICATES_VIA and cause.cached_login:
            phrase += words["cached"]
        return phrase, culprit

    def network(self, blocked: tuple[str, str]) -> tuple[str, str | None]:
        """Why no usable path leads from one zone to another, and which element to explain next."""
        result, words = self.result, self.words
        graph = result.graph
        source, target = blocked
        for zone in (source, target):
            if result.states[zone] == State.DOWN:
                return words["isolated"].format(element=self.name(zone), state=self.state_word(zone)), zone
        essential = graph.essential((graph.index[source], graph.index[target]))
        if essential is None:
            return words["no_route"].format(source=self.name(source), target=self.name(target)), None
        for e in essential:
            element = graph.nodes[e]
            if result.states[element.id] != State.UP and element.id not in blocked:
                return words["only_through"].format(
                    kind=KIND_LABELS[self.lang][element.kind], element=self.name(element.id),
                    state=self.state_word(element.id)), element.id
        broken = self._broken_on_paths(graph.index[source])
        elements = ", ".join(f"{self.name(e)} ({self.state_word(e)})" for e in broken)
        return words["no_path"].format(source=self.name(source), elements=elements), (broken[0] if broken else None)

    def _broken_on_paths(self, source: int) -> list[str]:
        """Links and zones at the edge of what the source zone still reaches, that are not UP."""
        graph, states = self.result.graph, self.result.states
        up = graph._reachable(source, lambda e: states[graph.nodes[e].id] == State.UP)
        broken: list[str] = []
        for zone in sorted(up):
            for nxt, link in graph.adjacency.get(zone, ()):
                for e in (link, nxt):
                    if e >= 0 and states[graph.nodes[e].id] != State.UP and graph.nodes[e].id not in broken:
                        broken.append(graph.nodes[e].id)
                        break
        return broken
