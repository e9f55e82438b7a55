"""Import a map from two CSV files, as spreadsheets export them: nodes and dependencies.

nodes.csv: one row per node; columns ``id`` and ``kind`` are required, the others are the fields of
the native format (``name``, ``owner``, ``criticality``, ``max_downtime_minutes``, ``public``,
``procedure``, ``public_message``, ``ad_tier``, ``restore_minutes``, ``restore_skill``,
``cached_login``, ``identity_kind``, ``link_kind``, ``site``, ``description``); empty cells are absent.

dependencies.csv: columns ``source``, ``kind``, ``target`` and optionally ``k``, ``group``,
``capability``, ``via``. ``kind`` is a dependency kind, or ``reaches`` (source and target are zones,
``via`` the link). Rows of ``requires_one_of`` with the same source and ``group`` form one group.

The rows are turned into the native format and validated the same way; every error names the file,
the row and the column. Delimiter (comma or semicolon) and a UTF-8 BOM are detected.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from garde.impact.loader import MapError, Problem, build_map
from garde.impact.model import DepKind, Map

INTEGERS = {"criticality", "max_downtime_minutes", "ad_tier", "restore_minutes", "k"}
BOOLEANS = {"public", "cached_login"}
TRUE, FALSE = {"1", "true", "yes", "oui", "vrai", "x"}, {"0", "false", "no", "non", "faux", ""}


def load_csv(nodes: str | Path, dependencies: str | Path | None = None, *, name: str = "") -> Map:
    """Build a map from CSV text or paths. Raises ``MapError`` listing every problem."""
    node_rows, node_file = _rows(nodes, "nodes.csv")
    dep_rows, dep_file = _rows(dependencies, "dependencies.csv") if dependencies is not None else ([], "")
    problems: list[Problem] = []
    where: dict[tuple, str] = {}
    items: list[dict] = []
    index: dict[str, int] = {}
    for line, row in node_rows:
        item = {}
        for column, raw in row.items():
            if column is None:
                problems.append(Problem(f"{node_file} row {line}", "more cells than columns"))
                continue
            value = (raw or "").strip()
            if value == "":
                continue
            converted = _convert(column, value, f"{node_file} row {line}, column {column!r}", problems)
            if converted is not None:
                item[column] = converted
        where[("nodes", len(items))] = f"{node_file} row {line}"
        if isinstance(item.get("id"), str):
            index.setdefault(item["id"], len(items))
        items.append(item)
    groups: dict[tuple[str, str], dict] = {}
    for line, row in dep_rows:
        here = f"{dep_file} row {line}"
        source, kind, target = ((row.get(column) or "").strip() for column in ("source", "kind", "target"))
        if not source or not kind or not target:
            problems.append(Problem(here, "columns 'source', 'kind' and 'target' are all required"))
            continue
        if source not in index:
            problems.append(Problem(here, f"source {source!r} is not a node of {node_file}"))
            continue
        position = index[source]
        item = items[position]
        where[("nodes", position, kind)] = here
        if kind == "reaches":
            via = (row.get("via") or "").strip()
            item.setdefault("reaches", []).append({"zone": target, **({"via": via} if via else {})})
        elif kind == DepKind.REQUIRES_ONE_OF:
            k = _convert("k", (row.get("k") or "1").strip(), f"{here}, column 'k'", problems) or 1
            key = (source, (row.get("group") or "").strip())
            if key not in groups:
                groups[key] = {"k": k, "of": []}
                item.setdefault("requires_one_of", []).append(groups[key])
            groups[key]["of"].append(target)
        elif kind == DepKind.DEGRADED_WITHOUT:
            capability = (row.get("capability") or "").strip()
            item.setdefault("degraded_without", []).append({"target": target, "capability": capability})
        elif kind in (DepKind.REQUIRES, DepKind.AUTHENTICATES_VIA):
            item.setdefault(kind, []).append(target)
        elif kind in (DepKind.HOSTED_ON, DepKind.IN_ZONE):
            if kind in item:
                problems.append(Problem(here, f"{source!r} already has a {kind} ({item[kind]!r})"))
            item[kind] = target
        else:
            kinds = ", ".join([k.value for k in DepKind] + ["reaches"])
            problems.append(Problem(here, f"column 'kind': {kind!r} is not one of: {kinds}"))
    if problems:
        raise MapError(problems)

    def locate(path: tuple) -> str:
        for end in range(len(path), 0, -1):
            if tuple(path[:end]) in where:
                return where[tuple(path[:end])]
        return node_file

    return build_map({"version": 1, "name": name, "nodes": items}, locate)


def _rows(source: str | Path, default_name: str) -> tuple[list[tuple[int, dict]], str]:
    if isinstance(source, Path) or ("\n" not in source and source.lower().endswith(".csv")):
        path = Path(source)
        text, filename = path.read_text("utf-8-sig"), path.name
    else:
        text, filename = source.removeprefix("\ufeff"), default_name
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    rows = [(reader.line_num, row) for row in reader]
    return rows, filename


def _convert(column: str, value: str, where: str, problems: list[Problem]):
    if column in INTEGERS:
        try:
            return int(value)
        except ValueError:
            problems.append(Problem(where, f"{value!r} is not a whole number"))
            return None
    if column in BOOLEANS:
        if value.lower() in TRUE:
            return True
        if value.lower() in FALSE:
            return False
        problems.append(Problem(where, f"{value!r} is not yes/no"))
        return None
    return value
