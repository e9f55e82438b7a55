"""Read and write the native YAML map format, validated against the published JSON Schema.

Every problem names where it is (file, line, node) and what is wrong; a map with any error is
rejected as a whole, so an import is all or nothing. Warnings (dependency cycles, nodes that are not
UP even in the normal state) do not block loading and are kept on ``Map.warnings``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from garde.impact.model import (
    ACTION_TARGET_KINDS,
    TARGET_KINDS,
    Action,
    ActionKind,
    Dependency,
    DepKind,
    Kind,
    Map,
    Node,
    Reach,
    Scenario,
)

Locate = Callable[[tuple], str]


@dataclass(frozen=True)
class Problem:
    where: str
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class MapError(ValueError):
    """The map cannot be used; ``problems`` lists every error found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"- {p}" for p in problems)
        super().__init__(f"the map has {len(problems)} error(s):\n{lines}")


@cache
def schema() -> dict:
    return json.loads(resources.files("garde.impact").joinpath("schema/map.schema.json").read_text("utf-8"))


def load_map(source: str | Path, *, filename: str = "") -> Map:
    """Load a map from a path (``Path``, or a string ending in .yaml/.yml/.json) or from YAML text.

    Raises ``MapError`` listing every error, each with its line and node.
    """
    text, filename = _read(source, filename)
    data, locate = parse_yaml(text, filename)
    return build_map(data, locate)


def check_map(source: str | Path, *, filename: str = "") -> list[Problem]:
    """Errors and warnings of a map, without raising: what ``garde map check`` prints."""
    try:
        return [Problem("", w, "warning") for w in load_map(source, filename=filename).warnings]
    except MapError as error:
        return error.problems


def _read(source: str | Path, filename: str) -> tuple[str, str]:
    if isinstance(source, Path) or (
        "\n" not in source and source.strip().lower().endswith((".yaml", ".yml", ".json"))
    ):
        path = Path(source)
        return path.read_text("utf-8"), filename or str(path)
    return source, filename or "<map>"


def parse_yaml(text: str, filename: str = "<map>") -> tuple[object, Locate]:
    """YAML text -> (data, locate) where ``locate(path)`` says where a value is, e.g.
    ``chu.yaml line 12, node 'dpi'``. Syntax errors and duplicate keys raise ``MapError``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{filename} line {mark.line + 1}, column {mark.column + 1}" if mark else filename
        problem = getattr(error, "problem", None) or str(error)
        raise MapError([Problem(where, f"invalid YAML: {problem}")]) from None
    if root is None:
        raise MapError([Problem(filename, "the file is empty")])
    lines: dict[tuple, int] = {}
    duplicates: list[Problem] = []
    _walk(root, (), lines, duplicates, filename)
    if duplicates:
        raise MapError(duplicates)
    data = yaml.SafeLoader(text).get_single_data()
    return data, _locator(data, lines, filename)


def _walk(node, path: tuple, lines: dict, duplicates: list, filename: str) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key, value in node.value:
            if key.value in seen:
                duplicates.append(Problem(f"{filename} line {key.start_mark.line + 1}",
                                          f"key {key.value!r} appears twice in the same mapping"))
            seen.add(key.value)
            lines[path + (key.value,)] = key.start_mark.line + 1
            _walk(value, path + (key.value,), lines, duplicates, filename)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), lines, duplicates, filename)


def _locator(data, lines: dict[tuple, int], filename: str) -> Locate:
    def locate(path: tuple) -> str:
        path = tuple(path)
        line = None
        for end in range(len(path), -1, -1):
            if path[:end] in lines:
                line = lines[path[:end]]
                break
        where = f"{filename} line {line}" if line else filename
        return where + _node_label(data, path)

    return locate


def _node_label(data, path: tuple) -> str:
    if len(path) >= 2 and path[0] in ("nodes", "scenarios") and isinstance(path[1], int):
        try:
            item = data[path[0]][path[1]]
        except (KeyError, IndexError, TypeError):
            return ""
        if isinstance(item, dict):
            key = "id" if path[0] == "nodes" else "name"
            if isinstance(item.get(key), str):
                return f", {path[0][:-1]} {item[key]!r}"
        return f", {path[0][:-1]} #{path[1] + 1}"
    return ""


# -- validation -----------------------------------------------------------------------------------


def build_map(data, locate: Locate) -> Map:
    """Validate ``data`` (schema then meaning) and build the ``Map``; raise ``MapError`` on errors."""
    problems = schema_problems(data, locate)
    if problems:
        raise MapError(problems)
    nodes = tuple(_node(item) for item in data["nodes"])
    scenarios = tuple(_scenario(item) for item in data.get("scenarios", ()))
    problems = semantic_problems(nodes, scenarios, locate)
    if problems:
        raise MapError(problems)
    draft = Map(name=data.get("name", ""), description=data.get("description", ""), nodes=nodes,
                scenarios=scenarios)
    return Map(name=draft.name, description=draft.description, nodes=nodes, scenarios=scenarios,
               warnings=tuple(warnings(draft)))


def schema_problems(data, locate: Locate) -> list[Problem]:
    import jsonschema

    if not isinstance(data, dict):
        return [Problem(locate(()), "a map must be a mapping with 'version' and 'nodes'")]
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    found = [Problem(locate(tuple(e.absolute_path)), _humanize(e)) for e in errors]
    return list(dict.fromkeys(found))  # the schema's conditionals can report the same fault twice


def _humanize(error) -> str:
    path = list(error.absolute_path)
    field = next((p for p in reversed(path) if isinstance(p, str)), "")
    subject = f"field {field!r}: " if field else ""
    instance = error.instance
    match error.validator:
        case "required":
            missing = [k for k in error.validator_value if k not in instance]
            kind = instance.get("kind") if isinstance(instance, dict) else None
            suffix = f" (needed on a {kind} node)" if kind and missing != ["id"] and missing != ["kind"] else ""
            return f"missing field {', '.join(map(repr, missing))}{suffix}"
        case "additionalProperties":
            extra = sorted(set(instance) - set(error.schema.get("properties", {})))
            hint = ""
            if len(extra) == 1:
                close = difflib.get_close_matches(extra[0], error.schema.get("properties", {}), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"unknown field {', '.join(map(repr, extra))}{hint}"
        case "not":
            fields = sorted(_required_in(error.validator_value) & set(instance))
            kind = instance.get("kind", "?")
            return f"field {', '.join(map(repr, fields))} is not allowed on a {kind} node"
        case "enum":
            allowed = ", ".join(map(str, error.validator_value))
            return f"{subject}{instance!r} is not one of: {allowed}"
        case "const":
            return f"{subject}must be {error.validator_value!r}, not {instance!r}"
        case "oneOf" if field in ("requires", "authenticates_via"):
            return f"{subject}expected a node id or a list of node ids, not {instance!r}"
        case "pattern":
            return f"{subject}{instance!r} is not a valid id (letters, digits and _ . : - only)"
        case "type":
            return f"{subject}expected {error.validator_value}, not {type(instance).__name__} {instance!r}"
        case "minProperties" | "maxProperties" if "actions" in path:
            return "each action is one 'kind: target' pair, e.g. 'cut_link: internet'"
        case _:
            return f"{subject}{error.message}"


def _required_in(subschema) -> set[str]:
    if isinstance(subschema, dict):
        found = set(subschema.get("required", ()))
        for value in subschema.values():
            if isinstance(value, list):
                for item in value:
                    found |= _required_in(item)
        return found
    return set()


def semantic_problems(nodes: Iterable[Node], scenarios: Iterable[Scenario], locate: Locate) -> list[Problem]:
    nodes = list(nodes)
    problems: list[Problem] = []
    by_id: dict[str, Node] = {}
    for index, node in enumerate(nodes):
        if node.id in by_id:
            problems.append(Problem(locate(("nodes", index, "id")), f"id {node.id!r} is already used"))
        by_id.setdefault(node.id, node)

    def reference(where: tuple, what: str, target: str, kinds: frozenset[Kind] | None) -> None:
        if target not in by_id:
            close = difflib.get_close_matches(target, by_id, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(Problem(locate(where), f"{what} unknown node {target!r}{hint}"))
        elif kinds and by_id[target].kind not in kinds:
            expected = " or ".join(sorted(kinds))
            problems.append(Problem(locate(where), f"{what} {target!r}, which is a {by_id[target].kind}, "
                                                   f"not a {expected}"))

    for index, node in enumerate(nodes):
        here = ("nodes", index)
        if node.site:
            reference(here + ("site",), "site is", node.site, frozenset({Kind.SITE}))
        for reach in node.reaches:
            reference(here + ("reaches",), "reaches", reach.zone, frozenset({Kind.ZONE}))
            if reach.via:
                reference(here + ("reaches",), "reaches through", reach.via, frozenset({Kind.LINK}))
        for dep in node.dependencies:
            field = here + (dep.kind.value,)
            for target in dep.targets:
                if target == node.id:
                    problems.append(Problem(locate(field), f"{dep.kind.value} itself"))
                else:
                    reference(field, dep.kind.value, target, TARGET_KINDS.get(dep.kind))
            if dep.kind == DepKind.REQUIRES_ONE_OF and dep.k > len(set(dep.targets)):
                problems.append(Problem(locate(field), f"requires_one_of: k={dep.k} but only "
                                                       f"{len(set(dep.targets))} alternative(s) given"))
    for index, scenario in enumerate(scenarios):
        for position, action in enumerate(scenario.actions):
            where = ("scenarios", index, "actions", position)
            reference(where, action.kind.value, action.target, ACTION_TARGET_KINDS[action.kind])
    return problems


def warnings(map_: Map) -> list[str]:
    """Cycles of dependencies and nodes that are not UP in the normal state (ungrounded support)."""
    import networkx as nx

    from garde.impact.engine import simulate

    graph = nx.DiGraph()
    for node in map_.nodes:
        for dep in node.dependencies:
            if dep.kind != DepKind.IN_ZONE:
                graph.add_edges_from((node.id, t) for t in dep.targets)
    found = []
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            found.append(f"dependency cycle between {', '.join(sorted(component))}: each counts as "
                         "unavailable until something outside the cycle makes it available")
    normal = simulate(map_, ())
    for node_id, state in normal.states.items():
        if state.name != "UP":
            found.append(f"node {node_id!r} is {state.name} even with no action: "
                         f"{normal.explain(node_id, 'en')}")
    return found


# -- building the model -----------------------------------------------------------------------------


def _ids(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _node(item: dict) -> Node:
    deps: list[Dependency] = []
    deps += [Dependency(DepKind.REQUIRES, (t,)) for t in _ids(item.get("requires"))]
    for group in item.get("requires_one_of", ()):
        deps.append(Dependency(DepKind.REQUIRES_ONE_OF, tuple(group["of"]), k=group.get("k", 1)))
    for entry in item.get("degraded_without", ()):
        deps.append(Dependency(DepKind.DEGRADED_WITHOUT, (entry["target"],), capability=entry["capability"]))
    if "hosted_on" in item:
        deps.append(Dependency(DepKind.HOSTED_ON, (item["hosted_on"],)))
    if "in_zone" in item:
        deps.append(Dependency(DepKind.IN_ZONE, (item["in_zone"],)))
    deps += [Dependency(DepKind.AUTHENTICATES_VIA, (t,)) for t in _ids(item.get("authenticates_via"))]
    return Node(
        id=item["id"],
        kind=Kind(item["kind"]),
        name=item.get("name") or item["id"],
        description=item.get("description", ""),
        owner=item.get("owner", ""),
        site=item.get("site", ""),
        ad_tier=item.get("ad_tier"),
        restore_minutes=item.get("restore_minutes", 0),
        restore_skill=item.get("restore_skill", ""),
        cached_login=item.get("cached_login", False),
        criticality=item.get("criticality"),
        max_downtime_minutes=item.get("max_downtime_minutes"),
        public=item.get("public", False),
        procedure=item.get("procedure", ""),
        public_message=item.get("public_message", ""),
        identity_kind=item.get("identity_kind", ""),
        link_kind=item.get("link_kind", ""),
        reaches=tuple(Reach(r["zone"], r.get("via", "")) for r in item.get("reaches", ())),
        dependencies=tuple(deps),
    )


def _scenario(item: dict) -> Scenario:
    actions = tuple(Action(ActionKind(kind), target) for entry in item["actions"] for kind, target in entry.items())
    return Scenario(name=item["name"], actions=actions, description=item.get("description", ""))


# -- writing ------------------------------------------------------------------------------------------

_SCALARS = ("name", "description", "owner", "site", "ad_tier", "restore_minutes", "restore_skill",
            "cached_login", "criticality", "max_downtime_minutes", "public", "procedure", "public_message",
            "identity_kind", "link_kind")
_DEFAULTS = {"restore_minutes": 0, "cached_login": False, "public": False}


def to_dict(map_: Map) -> dict:
    """The native format as plain data: ``load_map(dump_map(m)) == m``."""
    out: dict = {"version": 1}
    if map_.name:
        out["name"] = map_.name
    if map_.description:
        out["description"] = map_.description
    out["nodes"] = [_node_dict(node) for node in map_.nodes]
    if map_.scenarios:
        out["scenarios"] = [
            {"name": s.name, **({"description": s.description} if s.description else {}),
             "actions": [{a.kind.value: a.target} for a in s.actions]}
            for s in map_.scenarios
        ]
    return out


def _node_dict(node: Node) -> dict:
    item: dict = {"id": node.id, "kind": node.kind.value}
    for key in _SCALARS:
        value = getattr(node, key)
        if value in ("", None) or _DEFAULTS.get(key, object()) == value:
            continue
        if key == "name" and value == node.id:
            continue
        item[key] = value
    if node.kind == Kind.BUSINESS_SERVICE:
        item.setdefault("public", node.public)
    if node.reaches:
        item["reaches"] = [{"zone": r.zone, **({"via": r.via} if r.via else {})} for r in node.reaches]
    requires = [d.targets[0] for d in node.deps(DepKind.REQUIRES)]
    if requires:
        item["requires"] = requires
    groups = node.deps(DepKind.REQUIRES_ONE_OF)
    if groups:
        item["requires_one_of"] = [{"k": d.k, "of": list(d.targets)} for d in groups]
    degraded = node.deps(DepKind.DEGRADED_WITHOUT)
    if degraded:
        item["degraded_without"] = [{"target": d.targets[0], "capability": d.capability} for d in degraded]
    if node.host:
        item["hosted_on"] = node.host
    if node.zone:
        item["in_zone"] = node.zone
    auth = [d.targets[0] for d in node.deps(DepKind.AUTHENTICATES_VIA)]
    if auth:
        item["authenticates_via"] = auth
    return item


def dump_map(map_: Map) -> str:
    return yaml.safe_dump(to_dict(map_), allow_unicode=True, sort_keys=False, width=100)
