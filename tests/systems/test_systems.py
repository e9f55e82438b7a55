"""The IS map in the UI: import, export, editing, scenarios, the analysis, and applying to a crisis."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from garde import impact
from garde.cell.models import LogEntry
from garde.continuity.models import ServiceStatus
from garde.systems import store
from garde.systems.models import Application, MapVersion, Scenario
from tests.systems.helpers import DEMO, INTERNET_CUT, scenario

SMALL = """version: 1
name: Petit CHU
nodes:
  - {id: z-in, kind: zone, name: Interne, reaches: [{zone: z-out, via: l-net}]}
  - {id: z-out, kind: zone, name: Internet}
  - {id: l-net, kind: link, link_kind: internet, name: Internet, restore_minutes: 30, restore_skill: reseau}
  - {id: mail, kind: external, name: Messagerie, in_zone: z-out}
  - id: courriel
    kind: business_service
    name: Courriel
    criticality: 3
    max_downtime_minutes: 240
    procedure: Téléphone et fax.
    requires: [app]
  - {id: app, kind: application, name: Client, in_zone: z-in, requires: [mail]}
"""


def upload(name, text):
    return SimpleUploadedFile(name, text.encode("utf-8"))


def test_it_imports_a_yaml_map_through_the_form_as_a_new_version(as_role, crisis, demo_map):
    response = as_role("it_lead").post(reverse("systems:import", args=[crisis.pk]),
                                       {"yaml_file": upload("petit.yaml", SMALL)})
    assert response.status_code == 302
    assert store.load().version.number == 2 and store.load().map.name == "Petit CHU"
    assert MapVersion.objects.get(number=2).source == "petit.yaml"


def test_it_shows_every_import_error_with_its_location_and_imports_nothing(as_role, crisis, demo_map):
    broken = SMALL.replace("requires: [mail]", "requires: [mial]").replace("criticality: 3", "criticality: 9")
    response = as_role("it_lead").post(reverse("systems:import", args=[crisis.pk]),
                                       {"yaml_file": upload("petit.yaml", broken)})
    page = response.content.decode()
    assert response.status_code == 200
    assert "petit.yaml line" in page and "criticality" in page
    assert MapVersion.objects.count() == 1


def test_it_names_unknown_references_with_their_node(as_role, crisis, demo_map):
    broken = SMALL.replace("requires: [mail]", "requires: [mial]")
    page = as_role("it_lead").post(reverse("systems:import", args=[crisis.pk]),
                                   {"yaml_file": upload("petit.yaml", broken)}).content.decode()
    assert "node &#x27;app&#x27;" in page and "mial" in page and "mail" in page
    assert MapVersion.objects.count() == 1


def test_it_imports_csv_nodes_and_dependencies(as_role, crisis, db):
    nodes = ("id;kind;name;criticality;max_downtime_minutes;link_kind\n"
             "svc;business_service;Service;3;60;\napp;application;Application;;;\n")
    deps = "source;kind;target\nsvc;requires;app\n"
    response = as_role("it_lead").post(reverse("systems:import", args=[crisis.pk]), {
        "nodes_file": upload("nodes.csv", nodes), "dependencies_file": upload("dependencies.csv", deps)})
    assert response.status_code == 302
    assert store.load().map["svc"].dependencies[0].targets == ("app",)


def test_it_locates_csv_errors_by_row_and_column(as_role, crisis, db):
    nodes = "id;kind;criticality\nsvc;business_service;haute\n"
    page = as_role("it_lead").post(reverse("systems:import", args=[crisis.pk]),
                                   {"nodes_file": upload("nodes.csv", nodes)}).content.decode()
    assert "nodes.csv row 2" in page and "criticality" in page
    assert not MapVersion.objects.exists()


def test_it_checks_a_map_without_importing_it(as_role, crisis, db):
    response = as_role("it_lead").post(reverse("systems:import", args=[crisis.pk]),
                                       {"yaml_file": upload("petit.yaml", SMALL), "check": "1"})
    assert response.status_code == 200 and not MapVersion.objects.exists()


def test_it_exports_the_map_as_yaml_dot_and_svg(as_role, crisis, demo_map):
    client = as_role("observer")
    yaml_text = client.get(reverse("systems:export", args=[crisis.pk, "yaml"])).content.decode()
    assert impact.load_map(yaml_text) == impact.load_map(DEMO)
    dot = client.get(reverse("systems:export", args=[crisis.pk, "dot"])).content.decode()
    assert dot.startswith("digraph")
    svg = client.get(reverse("systems:export", args=[crisis.pk, "svg"]) + f"?scenario={scenario().pk}")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert client.get(reverse("systems:export", args=[crisis.pk, "exe"])).status_code == 404


def test_it_edits_a_node_as_a_new_version(as_role, crisis, demo_map):
    client = as_role("it_lead")
    url = reverse("systems:node_edit", args=[crisis.pk, "messagerie"])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v not in (None, False)}
    data["procedure"] = "Utiliser le fax du secrétariat."
    assert client.post(url, data).status_code == 302
    assert store.load().map["messagerie"].procedure == "Utiliser le fax du secrétariat."
    assert store.load().map["messagerie"].dependencies == impact.load_map(DEMO)["messagerie"].dependencies
    assert store.load().version.number == 2


def test_it_refuses_an_edit_that_breaks_the_map(as_role, crisis, demo_map):
    client = as_role("it_lead")
    url = reverse("systems:node_edit", args=[crisis.pk, "messagerie"])
    data = {k: v for k, v in client.get(url).context["form"].initial.items() if v not in (None, False)}
    data["requires"] = "serveur-inexistant"
    page = client.post(url, data).content.decode()
    assert "serveur-inexistant" in page and "node &#x27;messagerie&#x27;" in page
    assert MapVersion.objects.count() == 1


def test_it_refuses_to_delete_a_node_others_depend_on(as_role, crisis, demo_map):
    client = as_role("it_lead")
    response = client.post(reverse("systems:node_delete", args=[crisis.pk, "dpi"]), follow=True)
    assert "dpi" in response.content.decode() and MapVersion.objects.count() == 1


def test_it_creates_a_scenario_from_the_form(as_role, crisis, demo_map):
    response = as_role("director").post(reverse("systems:scenario_new", args=[crisis.pk]), {
        "name": "Coupure monétique", "cut_link": ["l-monetique"]})
    created = Scenario.objects.get(name="Coupure monétique")
    assert response.status_code == 302 and created.actions == ["cut_link:l-monetique"]


def test_it_refuses_an_empty_scenario(as_role, crisis, demo_map):
    response = as_role("director").post(reverse("systems:scenario_new", args=[crisis.pk]), {"name": "Rien"})
    assert response.status_code == 200 and not Scenario.objects.filter(name="Rien").exists()


def test_it_shows_a_scenario_against_the_normal_state_with_reasons_in_the_current_language(as_role, crisis, demo_map):
    client = as_role("observer")
    url = reverse("systems:scenario", args=[crisis.pk, scenario().pk])
    page = client.get(url).content.decode()
    assert "joignable uniquement par le lien" in page and "<svg" in page
    client.cookies["django_language"] = "en"
    page = client.get(url).content.decode()
    assert "reachable only through link" in page


def test_it_applies_the_june_2023_scenario_to_the_crisis(as_role, crisis, demo_map):
    response = as_role("director").post(reverse("systems:scenario_apply", args=[crisis.pk, scenario().pk]))
    assert response.status_code == 302 and response["Location"] == reverse("continuity:board", args=[crisis.pk])
    states = dict(ServiceStatus.objects.filter(crisis=crisis).values_list("service", "state"))
    for service in ["messagerie", "imagerie-distance", "tele-expertise", "teleconsultation", "rdv-en-ligne",
                    "portail", "paiement-carte"]:
        assert states[service] != ServiceStatus.State.UP, service
    for service in ["urgences", "samu", "consultations"]:
        assert states[service] == ServiceStatus.State.UP, service
    row = ServiceStatus.objects.get(crisis=crisis, service="teleconsultation")
    assert row.procedure and "Internet" in row.reason_fr and row.source == ServiceStatus.Source.SCENARIO
    texts = list(LogEntry.objects.filter(crisis=crisis).values_list("text", flat=True))
    assert any(INTERNET_CUT in t and "Internet" in t for t in texts)
    assert any("Téléconsultation" in t for t in texts)
    assert Application.objects.get(crisis=crisis).map_version == demo_map


def test_it_keeps_the_time_a_service_went_down_when_a_scenario_is_applied_again(as_role, crisis, demo_map):
    client = as_role("director")
    client.post(reverse("systems:scenario_apply", args=[crisis.pk, scenario().pk]))
    since = ServiceStatus.objects.get(crisis=crisis, service="teleconsultation").since
    entries = LogEntry.objects.filter(crisis=crisis).count()
    client.post(reverse("systems:scenario_apply", args=[crisis.pk, scenario().pk]))
    assert ServiceStatus.objects.get(crisis=crisis, service="teleconsultation").since == since
    assert LogEntry.objects.filter(crisis=crisis).count() == entries + 1  # the application only


def test_it_says_when_a_scenario_no_longer_fits_the_map(as_role, crisis, demo_map):
    stale = Scenario.objects.create(name="Ancien", actions=["cut_link:l-disparu"])
    response = as_role("observer").get(reverse("systems:scenario", args=[crisis.pk, stale.pk]), follow=True)
    assert "l-disparu" in response.content.decode()


def test_it_shows_the_peacetime_analysis(as_role, crisis, demo_map):
    page = as_role("observer").get(reverse("systems:analysis", args=[crisis.pk])).content.decode()
    assert "Urgences" in page and "SAMU" in page


def test_it_asks_for_a_map_before_anything_else(as_role, crisis, db):
    page = as_role("it_lead").get(reverse("systems:scenarios", args=[crisis.pk])).content.decode()
    assert reverse("systems:import", args=[crisis.pk]) in page
