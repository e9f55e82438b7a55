"""Graphviz DOT and standalone SVG drawings of a map, coloured by state when a result is given.

The SVG is drawn here, without Graphviz (which a crisis laptop may not have): one column per layer,
from business services on the left to links and zones on the right, one box per node, and an arrow
per dependency. It embeds no font and no script, and prints on A4 landscape.
"""

from __future__ import annotations

from html import escape

from garde.impact.engine import Result
from garde.impact.model import DepKind, Kind, Map, State

COLOURS = {State.UP: "#d8f0d8", State.DEGRADED: "#ffe7a8", State.DOWN: "#f6b8b8"}
NEUTRAL = "#eeeeee"
LAYERS = [
    [Kind.BUSINESS_SERVICE],
    [Kind.APPLICATION, Kind.EXTERNAL],
    [Kind.DATASTORE, Kind.IDENTITY],
    [Kind.SERVER],
    [Kind.LINK, Kind.ZONE, Kind.SITE],
]
EDGE_STYLES = {
    DepKind.REQUIRES: "solid", DepKind.REQUIRES_ONE_OF: "dashed", DepKind.DEGRADED_WITHOUT: "dotted",
    DepKind.HOSTED_ON: "bold", DepKind.AUTHENTICATES_VIA: "dashed",
}


def _fill(node_id: str, result: Result | None) -> str:
    return COLOURS[result.states[node_id]] if result is not None else NEUTRAL


def to_dot(map_: Map, result: Result | None = None) -> str:
    """Graphviz source; ``in_zone`` becomes a cluster per zone, ``reaches`` an edge between zones."""
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = [f"digraph {q(map_.name or 'map')} {{", "  rankdir=LR;", '  node [shape=box, style="rounded,filled"];']
    by_zone: dict[str, list[str]] = {}
    for node in map_.nodes:
        by_zone.setdefault(node.zone if node.kind != Kind.ZONE else "", []).append(node.id)
    for zone, members in by_zone.items():
        indent = "  "
        if zone:
            lines.append(f"  subgraph {q('cluster_' + zone)} {{ label={q(map_[zone].name)};")
            indent = "    "
        for node_id in members:
            node = map_[node_id]
            label = q(f"{node.name}\n({node.kind.value})")
            lines.append(f'{indent}{q(node.id)} [label={label}, '
                         f'fillcolor="{_fill(node.id, result)}"];')
        if zone:
            lines.append("  }")
    for node in map_.nodes:
        for dep in node.dependencies:
            if dep.kind == DepKind.IN_ZONE:
                continue
            label = dep.capability or (f"{dep.k} of {len(dep.targets)}" if dep.kind == DepKind.REQUIRES_ONE_OF else "")
            for target in dep.targets:
                attributes = f"style={EDGE_STYLES[dep.kind]}, tooltip={q(dep.kind.value)}"
                if label:
                    attributes += f", label={q(label)}"
                lines.append(f"  {q(node.id)} -> {q(target)} [{attributes}];")
        for reach in node.reaches:
            via = f", label={q(map_[reach.via].name)}" if reach.via else ""
            lines.append(f"  {q(node.id)} -> {q(reach.zone)} [style=dashed, color=gray40{via}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(map_: Map, result: Result | None = None, *, title: str = "") -> str:
    box_w, box_h, gap_x, gap_y, margin = 190, 34, 80, 12, 20
    columns = [[n for n in map_.nodes if n.kind in layer] for layer in LAYERS]
    columns = [sorted(c, key=lambda n: (n.kind.value, n.name)) for c in columns if c]
    position: dict[str, tuple[int, int]] = {}
    top = margin + (30 if title else 0)
    for x_index, column in enumerate(columns):
        for y_index, node in enumerate(column):
            position[node.id] = (margin + x_index * (box_w + gap_x), top + y_index * (box_h + gap_y))
    width = margin * 2 + len(columns) * box_w + (len(columns) - 1) * gap_x
    height = top + max(len(c) for c in columns) * (box_h + gap_y) + margin
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#666"/></marker></defs>']
    if title:
        out.append(f'<text x="{margin}" y="{margin + 12}" font-size="15" font-weight="bold">{escape(title)}</text>')
    dashes = {"dashed": ' stroke-dasharray="6 3"', "dotted": ' stroke-dasharray="2 3"', "solid": "", "bold": ""}
    for node in map_.nodes:
        x1, y1 = position[node.id]
        for dep in node.dependencies:
            if dep.kind == DepKind.IN_ZONE:
                continue
            for target in dep.targets:
                x2, y2 = position[target]
                start = (x1 + box_w, y1 + box_h // 2) if x2 > x1 else (x1, y1 + box_h // 2)
                end = (x2, y2 + box_h // 2) if x2 > x1 else (x2 + box_w, y2 + box_h // 2)
                style = EDGE_STYLES[dep.kind]
                stroke = 2 if style == "bold" else 1
                out.append(f'<line x1="{start[0]}" y1="{start[1]}" x2="{end[0]}" y2="{end[1]}" stroke="#888" '
                           f'stroke-width="{stroke}"{dashes[style]} marker-end="url(#arrow)">'
                           f'<title>{escape(dep.kind.value)}</title></line>')
    for node in map_.nodes:
        x, y = position[node.id]
        state = f" — {result.states[node.id].name}" if result is not None else ""
        tooltip = result.explain(node.id, "fr") if result is not None and result.states[node.id] != State.UP else node.name
        name = node.name if len(node.name) <= 30 else node.name[:29] + "…"
        out.append(f'<g><title>{escape(tooltip)}</title>'
                   f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="{_fill(node.id, result)}" '
                   f'stroke="#555"/>'
                   f'<text x="{x + 8}" y="{y + 14}">{escape(name)}</text>'
                   f'<text x="{x + 8}" y="{y + 27}" fill="#555" font-size="9">{escape(node.kind.value + state)}</text></g>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
