"""Mercator XLSX exports imported from the import form and from `garde map check|import`."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from typer.testing import CliRunner

from garde.systems import store
from garde.systems.cli import app
from garde.systems.models import MapVersion, Scenario
from tests.impact.mercator_files import HOSPITAL, workbook_bytes, write_exports
from tests.impact.test_mercator import EXTRA

runner = CliRunner()


def uploads(data=None):
    return [SimpleUploadedFile(f"{model}-20261129.xlsx", workbook_bytes(model, rows))
            for model, rows in (data or HOSPITAL).items()]


def test_the_form_imports_mercator_exports_with_a_yaml_file_of_services(as_role, crisis, db):
    response = as_role("it_lead").post(reverse("systems:import", args=[crisis.pk]), {
        "mercator_files": uploads(), "yaml_file": SimpleUploadedFile("services.yaml", EXTRA.encode())})
    assert response.status_code == 302
    loaded = store.load()
    assert loaded.map.name == "CH de Mercator" and "app-1000" in loaded.map and "resultats" in loaded.map
    assert loaded.version.source.startswith("services.yaml + Network-20261129.xlsx")
    assert Scenario.objects.filter(name="Serveur du labo arrêté").exists()


def test_the_form_shows_located_errors_and_imports_nothing(as_role, crisis, demo_map):
    data = {**HOSPITAL, "MApplication": [{"id": 1000, "name": "DPI", "logicalServers": "999"}]}
    response = as_role("it_lead").post(reverse("systems:import", args=[crisis.pk]), {"mercator_files": uploads(data)})
    page = response.content.decode()
    assert response.status_code == 200
    assert "MApplication-20261129.xlsx sheet &#x27;Worksheet&#x27; row 2" in page and "999" in page
    assert MapVersion.objects.count() == 1


def test_the_form_refuses_mercator_exports_with_csv_files(as_role, crisis, db):
    response = as_role("it_lead").post(reverse("systems:import", args=[crisis.pk]), {
        "mercator_files": uploads(), "nodes_file": SimpleUploadedFile("nodes.csv", b"id;kind\n")})
    assert response.status_code == 200 and not MapVersion.objects.exists()


def test_the_command_line_checks_and_imports_mercator_exports(db, tmp_path):
    files = [str(p) for p in write_exports(tmp_path)]
    result = runner.invoke(app, ["check", *files])
    assert result.exit_code == 0 and "valid" in result.output
    assert "flow 'Service interne'" in result.output  # a warning
    extra = tmp_path / "services.yaml"
    extra.write_text(EXTRA, encoding="utf-8")
    assert runner.invoke(app, ["import", *files, str(extra)]).exit_code == 0
    assert "resultats" in store.load().map


def test_the_command_line_imports_nothing_from_a_broken_export(db, tmp_path):
    bad = tmp_path / "MApplication-20261129.xlsx"
    bad.write_bytes(workbook_bytes("MApplication", [{"id": "x", "name": "DPI"}]))
    result = runner.invoke(app, ["import", str(bad)])
    assert result.exit_code == 1 and "row 2, column 'id'" in result.output
    assert not MapVersion.objects.exists()
