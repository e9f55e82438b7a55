"""Mercator's XLSX exports imported into the native map (garde.impact.mercator)."""

import pytest

from garde import impact
from tests.impact.mercator_files import COLUMNS, HOSPITAL, one_workbook, workbook_bytes, write_exports

EXTRA = """\
version: 1
name: CH de Mercator
nodes:
  - id: resultats
    kind: business_service
    name: Résultats de laboratoire
    criticality: 4
    max_downtime_minutes: 240
    procedure: Résultats imprimés et portés par coursier.
    in_zone: subnet-11
    requires: [app-1001]
scenarios:
  - name: Serveur du labo arrêté
    actions: [stop_host: srv-101]
"""


@pytest.fixture
def exports(tmp_path):
    return write_exports(tmp_path)


def test_it_imports_the_objects_and_their_relations(exports):
    m = impact.load_mercator(exports)
    assert {n.id: n.kind.value for n in m.nodes if n.id.startswith(("app", "srv", "db"))} == {
        "srv-100": "server", "srv-101": "server", "srv-102": "server", "db-200": "datastore",
        "app-1000": "application", "app-1001": "application", "app-1002": "application", "app-1003": "application"}
    assert m["app-1000"].name == "DPI" and m["app-1000"].owner == "Direction des soins"
    assert m.zone_of("srv-100") == "subnet-10" and m.zone_of("srv-102") == "subnet-12"  # by address_ip
    assert m.zone_of("app-1002") == "subnet-12"  # through its host
    deps = {(d.kind.value, t) for d in m["app-1000"].dependencies for t in d.targets}
    assert ("hosted_on", "srv-100") in deps and ("requires", "db-200") in deps  # from both sides of the relation
    assert ("degraded_without", "app-1001") in deps
    assert m["link-net-2"].link_kind == "internet"
    assert not impact.simulate(m).not_up()  # everything up normally


def test_the_map_answers_what_if_questions(exports):
    m = impact.load_mercator(exports)
    r = impact.simulate(m, ["stop_host:srv-101"])
    assert r.states["app-1001"] == impact.State.DOWN
    assert r.states["app-1000"] == impact.State.DEGRADED
    assert "Résultats HL7" in r.capabilities_lost("app-1000")
    r = impact.simulate(m, ["cut_link:link-net-2"])
    assert r.states["net-2"] == impact.State.UP and r.states["app-1000"] == impact.State.UP


def test_unsupported_rows_and_cycles_of_flows_are_warnings(exports):
    warnings = "\n".join(impact.load_mercator(exports).warnings)
    assert "Flux-20261129.xlsx sheet 'Worksheet' row 4: flow 'Service interne'" in warnings
    assert "row 5: flow 'Prescriptions connectées' ignored" in warnings


def test_one_workbook_with_a_sheet_per_model_gives_the_same_map(exports, tmp_path):
    assert impact.load_mercator([one_workbook(tmp_path / "mercator.xlsx")]) == impact.load_mercator(exports)


def test_a_sheet_is_recognised_by_its_columns(tmp_path):
    data = {"Network": HOSPITAL["Network"], "Subnetwork": HOSPITAL["Subnetwork"]}
    sources = [(f"export{i}.xlsx", workbook_bytes(model, rows, sheet="Feuil1")) for i, (model, rows) in
               enumerate(data.items())]
    m = impact.load_mercator(sources)
    assert {"net-1", "subnet-10"} <= set(m.by_id)


def test_every_error_is_located_and_nothing_is_imported(tmp_path):
    apps = [
        {"id": 1, "name": "DPI", "logicalServers": "9"},
        {"id": 1, "name": "Doublon"},
        {"id": "abc", "name": "Sans id"},
        {"id": 3, "name": ""},
        {"id": 4, "name": "PACS", "logicalServers": "1, x"},
    ]
    servers = [{"id": 1, "name": "SRV", "address_ip": "10.0.0.1"}]
    flows = [{"id": 1, "name": "HL7", "application_source_id": 1, "application_dest_id": 77},
             {"id": 2, "name": "Vide"}]
    files = [("MApplication-20261129.xlsx", workbook_bytes("MApplication", apps)),
             ("LogicalServer-20261129.xlsx", workbook_bytes("LogicalServer", servers)),
             ("Flux-20261129.xlsx", workbook_bytes("Flux", flows))]
    with pytest.raises(impact.MapError) as caught:
        impact.load_mercator(files)
    found = [str(p) for p in caught.value.problems]
    app = "MApplication-20261129.xlsx sheet 'Worksheet'"
    assert f"{app} row 2: column 'logicalServers': unknown logical server id 9 (not in the logical server sheets)" in found
    assert any(p.startswith(f"{app} row 3: application id 1 appears twice") for p in found)
    assert f"{app} row 4, column 'id': 'abc' is not a whole number" in found
    assert f"{app} row 5, column 'name': the name is empty" in found
    assert f"{app} row 6, column 'logicalServers': 'x' is not an id" in found
    assert any(p.startswith("Flux-20261129.xlsx sheet 'Worksheet' row 2: column 'application_dest_id': unknown "
                            "application id 77") for p in found)
    assert any(p.startswith("Flux-20261129.xlsx sheet 'Worksheet' row 3: flow 'Vide' needs a source") for p in found)


def test_a_missing_column_or_a_file_that_is_not_xlsx_is_an_error(tmp_path):
    no_name = workbook_bytes("Network", [{"id": 1}], columns=["id", "description", "protocol_type"])
    with pytest.raises(impact.MapError) as caught:
        impact.load_mercator([("Network-20261129.xlsx", no_name), ("notes.xlsx", b"PK\x03\x04 not really")])
    found = [str(p) for p in caught.value.problems]
    assert "Network-20261129.xlsx sheet 'Worksheet' row 1: no column 'name' (a Mercator network export has them)" in found
    assert any(p.startswith("notes.xlsx: not a readable XLSX workbook") for p in found)


def test_a_workbook_of_nothing_importable_is_an_error():
    other = workbook_bytes("Site", [{"id": 1, "name": "Site"}], columns=["id", "name", "description"], sheet="Site")
    with pytest.raises(impact.MapError, match="no sheet of applications"):
        impact.load_mercator([("Site-20261129.xlsx", other)])


def test_an_application_on_several_servers_requires_each():
    apps = [{"id": 1, "name": "GAM", "logicalServers": "1, 2"}]
    servers = [{"id": 1, "name": "A"}, {"id": 2, "name": "B"}]
    m = impact.load_mercator([("MApplication.xlsx", workbook_bytes("MApplication", apps)),
                              ("LogicalServer.xlsx", workbook_bytes("LogicalServer", servers))])
    required = {t for d in m["app-1"].dependencies if d.kind == impact.DepKind.REQUIRES for t in d.targets}
    assert required == {"srv-1", "srv-2"}
    assert not any(d.kind == impact.DepKind.HOSTED_ON for d in m["app-1"].dependencies)


def test_a_native_yaml_file_adds_services_and_scenarios(exports):
    m = impact.load_mercator(exports, extra_yaml=EXTRA, extra_filename="services.yaml")
    assert m.name == "CH de Mercator" and m.scenarios[0].name == "Serveur du labo arrêté"
    r = impact.simulate(m, m.scenarios[0].actions)
    assert r.states["resultats"] == impact.State.DOWN
    bad = EXTRA.replace("requires: [app-1001]", "requires: [app-1010]")
    with pytest.raises(impact.MapError) as caught:
        impact.load_mercator(exports, extra_yaml=bad, extra_filename="services.yaml")
    assert any(str(p).startswith("services.yaml line 11, node 'resultats': requires unknown node 'app-1010'") for p in caught.value.problems)


def test_the_columns_are_mercators():
    assert COLUMNS["Flux"][3] == "application_source_id" and "logicalServers" in COLUMNS["MApplication"]
