"""DOT and SVG drawings of a map."""

import xml.etree.ElementTree as ET

from garde import impact


def test_it_draws_a_standalone_svg_coloured_by_state(demo):
    result = impact.simulate(demo, ["cut_link:l-internet"])
    svg = impact.to_svg(demo, result, title="Coupure d'Internet")
    root = ET.fromstring(svg)
    rects = root.findall("{http://www.w3.org/2000/svg}g/{http://www.w3.org/2000/svg}rect")
    assert len(rects) == len(demo.nodes)
    assert "#f6b8b8" in svg and "#d8f0d8" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # nothing fetched from outside
    assert "joignable uniquement par le lien « Internet »" in svg


def test_it_writes_graphviz_dot_with_zone_clusters(demo):
    dot = impact.to_dot(demo)
    assert dot.startswith('digraph "CHU de Démo" {')
    assert 'subgraph "cluster_z-dmz"' in dot
    assert '"teleconsultation" -> "teleconsultation-plateforme" [style=solid' in dot
    assert dot.count("{") == dot.count("}")
