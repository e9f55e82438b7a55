"""Risk decision, CNIL notification filled from the file and frozen as sent, register, public notice."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from garde.breach import notification
from garde.breach.models import Breach, Notification
from garde.cell.models import ImmutableError, LogEntry, Obligation

from .test_import import run_import


def _minutes_ago(minutes):
    return (timezone.localtime() - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


def test_it_records_the_risk_decision_with_its_reasons(as_role, crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    client = as_role("dpo")
    url = reverse("breach:risk", args=[crisis.pk, breach.pk])
    assert "Risque élevé" in client.get(url).content.decode() or "High risk" in client.get(url).content.decode()
    refused = client.post(url, {"risk": "high", "risk_reasons": "NIR et santé", "inform": "none"})
    assert refused.status_code == 200
    client.post(url, {"risk": "high", "risk_reasons": "NIR et données de santé exposés", "inform": "letters",
                      "consequences": "Hameçonnage ciblé", "measures": "Serveur isolé", "contact": "dpo@chu.fr"})
    breach.refresh_from_db()
    assert breach.risk == Breach.Risk.HIGH and breach.risk_decided_by == users["dpo"]
    assert LogEntry.objects.filter(crisis=crisis, kind="decision", text__contains="NIR et données de santé").exists()


def test_it_freezes_the_initial_then_complementary_notifications(as_role, crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    client = as_role("dpo")
    client.post(reverse("breach:notification_fill", args=[crisis.pk, breach.pk]))
    client.post(reverse("breach:notification_freeze", args=[crisis.pk, breach.pk]),
                {"sent_at": _minutes_ago(30), "channel": "Téléservice", "reference": "CNIL-42"})
    initial = Notification.objects.get(breach=breach)
    assert initial.kind == Notification.Kind.INITIAL and initial.reference == "CNIL-42"
    assert "Environ 4 personnes" in initial.fields["person_count"]
    obligation = Obligation.objects.get(crisis=crisis, rule__key="cnil-initial")
    assert obligation.status == Obligation.Status.SENT and obligation.reference == "CNIL-42"
    with pytest.raises(ImmutableError):
        initial.save()

    run_import(breach, scans["second"], users["dpo"], "Paie")
    client.post(reverse("breach:notification_fill", args=[crisis.pk, breach.pk]))
    text = client.get(reverse("breach:notification_text", args=[crisis.pk, breach.pk])).content.decode()
    assert "Environ 5 personnes" in text and "## " in text
    client.post(reverse("breach:notification_freeze", args=[crisis.pk, breach.pk]),
                {"sent_at": _minutes_ago(5), "channel": "Téléservice", "reference": "CNIL-42-2"})
    complement = Notification.objects.get(breach=breach, number=2)
    assert complement.kind == Notification.Kind.COMPLEMENT and "Environ 5 personnes" in complement.fields["person_count"]
    assert "Environ 4 personnes" in Notification.objects.get(number=1).fields["person_count"]
    version = client.get(reverse("breach:version_text", args=[crisis.pk, breach.pk, initial.pk])).content.decode()
    assert "Environ 4 personnes" in version and "CNIL-42" not in version
    assert client.get(reverse("breach:version_pdf", args=[crisis.pk, breach.pk, initial.pk])).content.startswith(b"%PDF")


def test_it_asks_for_delay_reasons_past_72_hours(crisis, breach, users):
    breach.t0 = breach.t0.replace(year=breach.t0.year - 1)
    breach.save()
    assert "72 heures" in notification.proposal(breach)["delay_reasons"]
    breach.delay_reasons = "Analyse de l'archive chiffrée"
    assert notification.proposal(breach)["delay_reasons"] == "Analyse de l'archive chiffrée"


def test_it_prints_the_register_and_the_public_notice(as_role, crisis, breach, users):
    client = as_role("observer")
    assert breach.title in client.get(reverse("breach:register", args=[crisis.pk])).content.decode()
    assert client.get(reverse("breach:register_pdf", args=[crisis.pk])).content.startswith(b"%PDF")
    notice = client.get(reverse("breach:public_notice", args=[crisis.pk, breach.pk])).content.decode()
    assert "données personnelles" in notice
    assert client.post(reverse("breach:public_notice", args=[crisis.pk, breach.pk]), {"public_notice": "x"}).status_code == 403


def test_it_draws_charts_without_scripts(as_role, crisis, breach, users, scans):
    run_import(breach, scans["first"], users["dpo"])
    page = as_role("communication").get(reverse("breach:detail", args=[crisis.pk, breach.pk])).content.decode()
    assert page.count("<svg") == 2 and "<rect" in page
    assert "DUPONT" not in page and "Dupont" not in page
