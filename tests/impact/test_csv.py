"""CSV import: nodes and dependencies, with errors naming file, row and column."""

import pytest

from garde import impact
from garde.impact import State
from garde.impact.csvimport import load_csv

NODES = """id;kind;name;criticality;max_downtime_minutes;public;link_kind;cached_login
lan;zone;LAN;;;;;
net;zone;Internet;;;;;
inet;link;Internet;;;;internet;
tc-platform;external;Plateforme de téléconsultation;;;;;
s1;server;S1;;;;;
s2;server;S2;;;;;
pc;application;Postes;;;;;oui
tc;business_service;Téléconsultation;3;60;oui;;
"""
DEPS = """source,kind,target,k,group,capability,via
lan,reaches,net,,,,inet
tc-platform,in_zone,net,,,,
tc,in_zone,lan,,,,
tc,requires,tc-platform,,,,
tc,requires_one_of,s1,1,servers,,
tc,requires_one_of,s2,1,servers,,
"""


def test_it_imports_nodes_and_dependencies():
    m = load_csv(NODES, DEPS, name="csv")
    assert m["tc"].public and m["tc"].criticality == 3 and m["pc"].cached_login
    [group] = m["tc"].deps(impact.DepKind.REQUIRES_ONE_OF)
    assert group.targets == ("s1", "s2") and group.k == 1
    result = impact.simulate(m, ["cut_link:inet"])
    assert result.states["tc"] == State.DOWN
    assert "joignable uniquement par le lien « Internet »" in result.explain("tc")


def test_it_names_file_row_and_column_of_bad_cells():
    nodes = NODES.replace("tc;business_service;Téléconsultation;3;60;oui", "tc;business_service;Téléconsultation;trois;60;peut-être")
    with pytest.raises(impact.MapError) as caught:
        load_csv(nodes, DEPS)
    assert [str(p) for p in caught.value.problems] == [
        "nodes.csv row 9, column 'criticality': 'trois' is not a whole number",
        "nodes.csv row 9, column 'public': 'peut-être' is not yes/no",
    ]


def test_it_names_the_row_of_an_unknown_reference():
    deps = DEPS + "tc,requires,nowhere,,,,\n"
    with pytest.raises(impact.MapError) as caught:
        load_csv(NODES, deps)
    assert [str(p) for p in caught.value.problems] == ["dependencies.csv row 8: requires unknown node 'nowhere'"]


def test_it_names_the_row_of_a_schema_error():
    with pytest.raises(impact.MapError) as caught:
        load_csv(NODES + "x;router;X;;;;;\n", DEPS)
    assert str(caught.value.problems[0]).startswith("nodes.csv row 10: field 'kind': 'router' is not one of")


def test_it_reads_files_with_a_bom(tmp_path):
    (tmp_path / "n.csv").write_text("\ufeff" + NODES, encoding="utf-8")
    (tmp_path / "d.csv").write_text(DEPS, encoding="utf-8")
    assert len(load_csv(tmp_path / "n.csv", tmp_path / "d.csv").nodes) == 8
