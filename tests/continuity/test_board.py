"""The status board, the public page, the Statuspage-compatible API, procedures and printed notices."""

import json
from datetime import timedelta

import pypdfium2
import pytest
from django.urls import reverse
from django.utils import timezone

from garde.cell.models import Crisis, LogEntry
from garde.continuity import services
from garde.continuity.models import ServiceStatus
from garde.systems import store
from tests.systems.helpers import scenario

API = ["continuity:api_summary", "continuity:api_status", "continuity:api_components", "continuity:api_incidents",
       "continuity:api_unresolved"]


@pytest.fixture
def applied(as_role, crisis, demo_map):
    as_role("director").post(reverse("systems:scenario_apply", args=[crisis.pk, scenario().pk]))
    return crisis


def row(crisis, service) -> ServiceStatus:
    return ServiceStatus.objects.get(crisis=crisis, service=service)


def pdf_text(content: bytes) -> str:
    document = pypdfium2.PdfDocument(content)
    return " ".join(" ".join(page.get_textpage().get_text_range() for page in document).split())


def test_it_sets_a_service_by_hand_with_a_note_and_logs_it(as_role, applied, client):
    target = row(applied, "urgences")
    response = as_role("communication").post(reverse("continuity:status_edit", args=[applied.pk, target.pk]), {
        "state": "degraded", "note": "Scanner en panne", "public_message_fr": "Attente prolongée aux urgences.",
    })
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.state == "degraded" and target.source == "manual" and target.note == "Scanner en panne"
    texts = list(LogEntry.objects.filter(crisis=applied).values_list("text", flat=True))
    assert any("Urgences" in t and "Scanner en panne" in t for t in texts)
    assert any("Attente prolongée aux urgences." in t for t in texts)


def test_it_writes_nothing_when_nothing_changes(as_role, applied):
    target = row(applied, "urgences")
    before = LogEntry.objects.filter(crisis=applied).count()
    as_role("director").post(reverse("continuity:status_edit", args=[applied.pk, target.pk]), {"state": "up"})
    assert LogEntry.objects.filter(crisis=applied).count() == before


def test_it_counts_downtime_against_the_maximum_tolerable(as_role, applied):
    target = row(applied, "paiement-carte")
    ServiceStatus.objects.filter(pk=target.pk).update(since=timezone.now() - timedelta(minutes=target.max_downtime_minutes + 5))
    page = as_role("frontdesk").get(reverse("continuity:board", args=[applied.pk])).content.decode()
    assert "Paiement par carte bancaire" in page and 'class="board-row over"' in page
    assert row(applied, "paiement-carte").over_limit


def test_it_shows_staff_messages_in_the_reader_language(as_role, applied):
    services.set_status(row(applied, "messagerie"), state="down", note="", user=None, messages={
        "staff_message_fr": "Utiliser le fax", "staff_message_en": "Use the fax"})
    client = as_role("frontdesk")
    assert "Utiliser le fax" in client.get(reverse("continuity:board", args=[applied.pk])).content.decode()
    client.cookies["django_language"] = "en"
    assert "Use the fax" in client.get(reverse("continuity:board", args=[applied.pk])).content.decode()


def test_it_fills_the_board_from_the_map_once(as_role, crisis, demo_map):
    client = as_role("director")
    client.post(reverse("continuity:board_fill", args=[crisis.pk]))
    count = ServiceStatus.objects.filter(crisis=crisis).count()
    client.post(reverse("continuity:board_fill", args=[crisis.pk]))
    assert count == len(store.load().map.services) == ServiceStatus.objects.filter(crisis=crisis).count()
    assert not ServiceStatus.objects.filter(crisis=crisis).exclude(state="up").exists()


def test_it_shows_only_public_services_and_messages_on_the_public_page(applied, client):
    services.set_status(row(applied, "rdv-en-ligne"), state="down", note="secret-note-xyz", user=None, messages={
        "staff_message_fr": "secret-staff-xyz", "public_message_fr": "Prise de rendez-vous : par téléphone"})
    page = client.get(reverse("continuity:public")).content.decode()
    assert "Prise de rendez-vous : par téléphone" in page
    assert "Paiement : espèces ou chèque." in page
    assert "Urgences" in page
    internal = [applied.title, "secret-note-xyz", "secret-staff-xyz", "Messagerie", "Internet", "srv-", "joignable",
                row(applied, "teleconsultation").procedure[:30], str(applied.pk)]
    api = "".join(client.get(reverse(name)).content.decode() for name in API)
    for secret in internal:
        assert secret not in page, secret
        assert secret not in api, secret


def test_it_answers_in_the_statuspage_v2_format(applied, client):
    summary = client.get(reverse("continuity:api_summary")).json()
    assert set(summary) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    assert summary["status"]["indicator"] == "major"
    statuses = {c["id"]: c["status"] for c in summary["components"]}
    assert statuses["paiement-carte"] == "major_outage" and statuses["urgences"] == "operational"
    assert {"id", "name", "status", "position", "updated_at"} <= set(summary["components"][0])
    incident = summary["incidents"][0]
    assert incident["status"] == "identified" and incident["incident_updates"][0]["body"]
    assert set(client.get(reverse("continuity:api_status")).json()) == {"page", "status"}
    assert "components" in client.get(reverse("continuity:api_components")).json()
    assert client.get(reverse("continuity:api_incidents"))["Access-Control-Allow-Origin"] == "*"


def test_it_refreshes_the_public_page_and_api_when_the_board_changes(applied, client):
    assert "major_outage" in client.get(reverse("continuity:api_components")).content.decode()
    before = client.get(reverse("continuity:public")).content.decode()
    for target in ServiceStatus.objects.filter(crisis=applied).exclude(state="up"):
        services.set_status(target, state="up", note="", messages={}, user=None)
    components = client.get(reverse("continuity:api_components")).json()["components"]
    assert {c["status"] for c in components} == {"operational"}
    assert client.get(reverse("continuity:public")).content.decode() != before
    assert client.get(reverse("continuity:api_status")).json()["status"]["indicator"] == "none"


def test_it_ignores_closed_crises_on_the_public_page(applied, client):
    Crisis.objects.filter(pk=applied.pk).update(phase=Crisis.Phase.CLOSED)
    services.public_changed()
    summary = client.get(reverse("continuity:api_summary")).json()
    assert summary["status"]["indicator"] == "none" and summary["incidents"] == []


def test_it_serves_the_public_page_in_english_on_request(applied, client):
    page = client.get(reverse("continuity:public") + "?lang=en").content.decode()
    assert '<html lang="en">' in page and "Unavailable" in page


def test_it_keeps_the_public_page_free_of_scripts_and_inline_styles(applied, client):
    response = client.get(reverse("continuity:public"))
    page = response.content.decode()
    assert "<script" not in page and " style=" not in page and "http://" not in page.replace("http://testserver", "")
    assert "Content-Security-Policy" in response.headers


def test_it_prints_the_procedures_of_services_not_up(as_role, applied):
    response = as_role("frontdesk").get(reverse("continuity:procedures_pdf", args=[applied.pk]))
    text = pdf_text(response.content)
    assert "Téléconsultation" in text and "Urgences" not in text


def test_it_prints_an_entrance_notice_with_public_messages_only(as_role, applied):
    response = as_role("frontdesk").get(reverse("continuity:notice_pdf", args=[applied.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Paiement : espèces ou chèque." in text
    assert applied.title not in text and "Messagerie" not in text and "Internet" not in text


def test_it_prints_the_switchboard_script(as_role, applied):
    text = pdf_text(as_role("frontdesk").get(reverse("continuity:switchboard_pdf", args=[applied.pk])).content)
    assert "Prise de rendez-vous en ligne" in text and applied.title not in text


def test_it_keeps_the_board_json_free_of_lost_types(applied):
    # The board keeps capabilities as plain strings, so backups and exports stay JSON.
    for target in ServiceStatus.objects.filter(crisis=applied):
        json.dumps(target.capabilities_lost)
