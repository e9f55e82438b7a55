"""What members of the cell see and get: log, decisions, actions, reports, obligations, directory."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from garde.accounts.models import AccessLog
from garde.cell import journal, services
from garde.cell.clocks import clock_for, sync_obligations
from garde.cell.models import Action, Crisis, Decision, LogEntry, Obligation, SitRep, Stakeholder
from garde.cell.seeds import FIRST_HOUR_CHECKLIST, STAKEHOLDER_KINDS


def last_entry(crisis):
    return LogEntry.objects.filter(crisis=crisis).order_by("-seq").first()


# Running log ------------------------------------------------------------------------------------------

def test_it_adds_a_log_entry_with_an_attachment(as_role, crisis):
    client = as_role("scribe")
    upload = SimpleUploadedFile("rançon.txt", b"YOUR FILES ARE ENCRYPTED", content_type="text/plain")
    response = client.post(reverse("log_add", args=[crisis.pk]), {
        "kind": "fact", "text": "Note de rançon sur les postes des urgences", "source": "Urgences",
        "occurred_at": "2026-06-01T08:15", "attachments": [upload],
    })
    assert response.status_code == 302
    entry = last_entry(crisis)
    assert entry.text == "Note de rançon sur les postes des urgences"
    assert entry.author_name == "scribe" and entry.source == "Urgences"
    assert timezone.localtime(entry.occurred_at).strftime("%Y-%m-%d %H:%M") == "2026-06-01 08:15"
    attachment = entry.attachments.get()
    assert attachment.name == "rançon.txt" and len(attachment.sha256) == 64
    page = client.get(reverse("log", args=[crisis.pk])).content.decode()
    assert "Note de rançon" in page and attachment.sha256 in page
    download = client.get(reverse("attachment", args=[crisis.pk, attachment.pk]))
    assert b"".join(download.streaming_content) == b"YOUR FILES ARE ENCRYPTED"


def test_it_refuses_an_attachment_of_a_refused_type_and_keeps_the_text(as_role, crisis):
    before = LogEntry.objects.count()
    response = as_role("scribe").post(reverse("log_add", args=[crisis.pk]), {
        "kind": "fact", "text": "Texte saisi", "attachments": [SimpleUploadedFile("payload.exe", b"MZ")],
    })
    assert response.status_code == 200
    page = response.content.decode()
    assert "payload.exe" in page and ".exe" in page
    assert "Texte saisi" in page
    assert LogEntry.objects.count() == before


@override_settings(GARDE_MAX_ATTACHMENT_BYTES=10)
def test_it_refuses_an_attachment_over_the_size_limit(as_role, crisis):
    before = LogEntry.objects.count()
    response = as_role("scribe").post(reverse("log_add", args=[crisis.pk]), {
        "kind": "fact", "text": "Gros fichier", "attachments": [SimpleUploadedFile("dump.txt", b"x" * 100)],
    })
    assert response.status_code == 200 and "dump.txt" in response.content.decode()
    assert LogEntry.objects.count() == before


def test_it_shows_the_error_next_to_an_empty_text(as_role, crisis):
    response = as_role("scribe").post(reverse("log_add", args=[crisis.pk]), {"kind": "fact", "text": "", "source": "Tél."})
    assert response.status_code == 200
    assert 'class="field has-error"' in response.content.decode()
    assert 'value="Tél."' in response.content.decode()


def test_it_records_a_correction_pointing_to_the_corrected_entry(as_role, crisis):
    wrong = journal.record(crisis, "Coupure à 14 h 25")
    response = as_role("scribe").post(reverse("log_correct", args=[crisis.pk, wrong.seq]), {"kind": "fact", "text": "Coupure à 14 h 20"})
    assert response.status_code == 302
    assert last_entry(crisis).corrects == wrong
    assert LogEntry.objects.get(pk=wrong.pk).text == "Coupure à 14 h 25"


def test_it_reports_an_intact_then_a_broken_chain_on_the_verify_page(as_role, crisis):
    client = as_role("observer")
    assert "verdict" in client.get(reverse("log_verify", args=[crisis.pk])).content.decode()
    target = journal.record(crisis, "à modifier")
    assert b'class="ok verdict"' in client.get(reverse("log_verify", args=[crisis.pk])).content
    LogEntry.objects.filter(pk=target.pk).update(text="modifié")
    page = client.get(reverse("log_verify", args=[crisis.pk])).content.decode()
    assert 'class="bad verdict"' in page and f"#{target.seq}" in page


def test_it_exports_the_log_as_verifiable_json_and_logs_the_export(as_role, crisis, users):
    journal.record(crisis, "une entrée")
    response = as_role("dpo").get(reverse("log_export_json", args=[crisis.pk]))
    data = json.loads(response.content)
    assert data["verification"]["ok"] is True
    assert [e["content"]["seq"] for e in data["entries"]] == list(range(1, len(data["entries"]) + 1))
    from garde.lib.chain import Link, verify_chain

    report = verify_chain(Link(e["content"]["seq"], e["content"], e["prev_hash"], e["hash"]) for e in data["entries"])
    assert report.ok
    assert AccessLog.objects.filter(user=users["dpo"], action="export_log_json").exists()


def test_it_exports_the_log_as_pdf(as_role, crisis):
    response = as_role("director").get(reverse("log_export_pdf", args=[crisis.pk]))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")


def test_it_filters_the_log_by_kind(as_role, crisis):
    journal.record(crisis, "Décision prise", kind="decision")
    journal.record(crisis, "Fait constaté", kind="fact")
    page = as_role("observer").get(reverse("log", args=[crisis.pk]) + "?kind=decision").content.decode()
    assert "Décision prise" in page and "Fait constaté" not in page


# Decisions and actions --------------------------------------------------------------------------------

def test_it_records_a_decision_and_logs_it(as_role, crisis):
    response = as_role("director").post(reverse("decision_add", args=[crisis.pk]), {
        "title": "Déclencher le plan blanc", "rationale": "Afflux aux urgences", "decided_by": "Directrice",
        "decided_at": "2026-06-01T09:00",
    })
    assert response.status_code == 302
    assert Decision.objects.get(crisis=crisis).title == "Déclencher le plan blanc"
    entry = last_entry(crisis)
    assert entry.kind == "decision" and "Déclencher le plan blanc" in entry.text and "Afflux" in entry.text


def test_it_keeps_typed_values_when_a_decision_date_is_impossible(as_role, crisis):
    response = as_role("director").post(reverse("decision_add", args=[crisis.pk]), {
        "title": "Isoler le SI", "decided_by": "Directrice", "decided_at": "2026-02-31T09:00",
    })
    page = response.content.decode()
    assert response.status_code == 200 and "has-error" in page and 'value="Isoler le SI"' in page
    assert not Decision.objects.exists()


def test_it_logs_an_action_marked_done(as_role, crisis):
    action = Action.objects.create(crisis=crisis, title="Couper le lien Internet")
    response = as_role("it_lead").post(reverse("action_status", args=[crisis.pk, action.pk]), {"status": "done"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == "done" and action.done_at is not None
    assert "Couper le lien Internet" in last_entry(crisis).text


def test_it_creates_the_first_hour_checklist_once(as_role, crisis):
    client = as_role("coordinator")
    client.post(reverse("checklist", args=[crisis.pk]))
    client.post(reverse("checklist", args=[crisis.pk]))
    titles = list(Action.objects.filter(crisis=crisis).values_list("title", flat=True))
    assert len(titles) == len(FIRST_HOUR_CHECKLIST)
    assert any("CERT Santé" in t for t in titles) and any("plan blanc" in t for t in titles)
    assert all(a.due_at > crisis.t0 for a in Action.objects.filter(crisis=crisis))


def test_it_marks_late_actions(crisis):
    late = Action.objects.create(crisis=crisis, title="x", due_at=timezone.now() - timedelta(minutes=1))
    assert late.is_late


# Situation reports ------------------------------------------------------------------------------------

def test_it_publishes_a_report_numbered_and_frozen(as_role, crisis):
    client = as_role("coordinator")
    client.post(reverse("sitrep_new", args=[crisis.pk]))
    draft = SitRep.objects.get(crisis=crisis)
    client.post(reverse("sitrep_edit", args=[crisis.pk, draft.pk]), {
        "situation": "SI isolé", "impacts": "Messagerie coupée", "actions_under_way": "", "needs": "",
        "next_point_at": "2026-06-01T18:00",
    })
    client.post(reverse("sitrep_publish", args=[crisis.pk, draft.pk]))
    draft.refresh_from_db()
    assert draft.number == 1 and draft.is_published and len(draft.content_hash) == 64
    assert "no. 1" in last_entry(crisis).text or "1" in last_entry(crisis).text
    crisis.refresh_from_db()
    assert crisis.next_point_at == draft.next_point_at
    response = client.post(reverse("sitrep_edit", args=[crisis.pk, draft.pk]), {"situation": "changé"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.situation == "SI isolé"
    client.post(reverse("sitrep_publish", args=[crisis.pk, draft.pk]))
    assert SitRep.objects.get(pk=draft.pk).number == 1


def test_it_starts_a_new_draft_from_the_last_published_report(as_role, crisis, users):
    first = SitRep.objects.create(crisis=crisis, situation="Point 1", impacts="Messagerie coupée")
    services.publish_sitrep(first, users["director"])
    as_role("scribe").post(reverse("sitrep_new", args=[crisis.pk]))
    draft = SitRep.objects.get(crisis=crisis, status="draft")
    assert draft.impacts == "Messagerie coupée"


def test_it_refuses_to_publish_an_empty_report(as_role, crisis):
    draft = SitRep.objects.create(crisis=crisis, situation="")
    as_role("director").post(reverse("sitrep_publish", args=[crisis.pk, draft.pk]))
    assert not SitRep.objects.get(pk=draft.pk).is_published


def test_it_prints_a_published_report(as_role, crisis, users):
    report = SitRep.objects.create(crisis=crisis, situation="Point 1")
    services.publish_sitrep(report, users["director"])
    response = as_role("observer").get(reverse("sitrep_pdf", args=[crisis.pk, report.pk]))
    assert response.content.startswith(b"%PDF")


def test_it_hides_draft_pdfs_from_observers(as_role, crisis):
    draft = SitRep.objects.create(crisis=crisis, situation="brouillon")
    assert as_role("observer").get(reverse("sitrep_pdf", args=[crisis.pk, draft.pk])).status_code == 403


# Regulatory clocks --------------------------------------------------------------------------------------

def keys(crisis):
    return set(Obligation.objects.filter(crisis=crisis).exclude(status="not_applicable").values_list("rule__key", flat=True))


def test_it_creates_the_obligations_the_scope_calls_for(crisis):
    assert keys(crisis) == {"cert-sante", "cnil-initial", "cnil-complement", "police", "nis2-early-warning",
                            "nis2-notification", "nis2-final-report", "insurer"}
    crisis.personal_data = False
    crisis.nis2 = False
    crisis.save()
    sync_obligations(crisis)
    assert keys(crisis) == {"cert-sante", "police", "insurer"}


def test_it_computes_due_times_from_t0(crisis):
    cnil = Obligation.objects.get(crisis=crisis, rule__key="cnil-initial")
    assert cnil.due_at == crisis.t0 + timedelta(hours=72)
    assert Obligation.objects.get(crisis=crisis, rule__key="nis2-early-warning").due_at == crisis.t0 + timedelta(hours=24)


def test_it_colours_clocks_by_time_left(crisis):
    police = Obligation.objects.get(crisis=crisis, rule__key="police")
    t0 = crisis.t0
    assert clock_for(police, t0 + timedelta(hours=1)).state == "running"
    assert clock_for(police, t0 + timedelta(hours=60)).state == "soon"
    assert clock_for(police, t0 + timedelta(hours=73)).state == "overdue"
    police.status = Obligation.Status.SENT
    assert clock_for(police, t0 + timedelta(hours=73)).state == "done"


def test_it_moves_the_clocks_when_t0_is_corrected(as_role, crisis):
    new_t0 = timezone.localtime(crisis.t0 - timedelta(hours=80)).strftime("%Y-%m-%dT%H:%M")
    response = as_role("director").post(reverse("crisis_edit", args=[crisis.pk]), {
        "title": crisis.title, "kind": crisis.kind, "t0": new_t0, "severity": crisis.severity,
        "phase": "containment", "personal_data": "on", "nis2": "on",
    })
    assert response.status_code == 302
    page = as_role("observer").get(reverse("obligations", args=[crisis.pk])).content.decode()
    assert "clock-overdue" in page
    assert "T0" in last_entry(crisis).text


def test_it_drafts_the_cnil_notification_with_every_article_33_field(as_role, crisis, users):
    services.set_membership(crisis, users["dpo"], "dpo", users["director"])
    cnil = Obligation.objects.get(crisis=crisis, rule__key="cnil-initial")
    page = as_role("dpo").get(reverse("obligation", args=[crisis.pk, cnil.pk])).content.decode()
    for field in ("nature", "person_categories", "person_count", "record_categories", "record_count",
                  "dpo_contact", "consequences", "measures", "delay_reasons"):
        assert f'name="{field}"' in page
    assert "Rançongiciel test" in page


def test_it_saves_the_draft_and_exports_it_as_text(as_role, crisis):
    cnil = Obligation.objects.get(crisis=crisis, rule__key="cnil-initial")
    client = as_role("dpo")
    client.post(reverse("obligation", args=[crisis.pk, cnil.pk]), {"save_draft": "1", "person_count": "environ 12 000"})
    cnil.refresh_from_db()
    assert cnil.draft["person_count"] == "environ 12 000" and cnil.status == "drafting"
    text = client.get(reverse("obligation_text", args=[crisis.pk, cnil.pk])).content.decode()
    assert "environ 12 000" in text


def test_it_marks_a_declaration_sent_and_logs_it(as_role, crisis):
    police = Obligation.objects.get(crisis=crisis, rule__key="police")
    response = as_role("director").post(reverse("obligation", args=[crisis.pk, police.pk]), {
        "mark_sent": "1", "sent_at": "2026-06-01T10:00", "channel": "Commissariat central", "reference": "PV 2026/123",
    })
    assert response.status_code == 302
    police.refresh_from_db()
    assert police.status == "sent" and police.reference == "PV 2026/123"
    assert "PV 2026/123" in last_entry(crisis).text


def test_it_requires_a_channel_to_mark_sent(as_role, crisis):
    police = Obligation.objects.get(crisis=crisis, rule__key="police")
    response = as_role("director").post(reverse("obligation", args=[crisis.pk, police.pk]), {
        "mark_sent": "1", "sent_at": "2026-06-01T10:00", "channel": "",
    })
    assert response.status_code == 200 and "has-error" in response.content.decode()
    assert Obligation.objects.get(pk=police.pk).status != "sent"


def test_it_refuses_draft_changes_from_an_observer(as_role, crisis):
    cnil = Obligation.objects.get(crisis=crisis, rule__key="cnil-initial")
    response = as_role("observer").post(reverse("obligation", args=[crisis.pk, cnil.pk]), {"save_draft": "1", "nature": "x"})
    assert response.status_code == 403


# Dashboard, directory, members ---------------------------------------------------------------------

def test_it_shows_clocks_entries_and_actions_on_the_dashboard(as_role, crisis):
    Action.objects.create(crisis=crisis, title="Préserver les preuves")
    journal.record(crisis, "Dernière entrée du journal")
    page = as_role("observer").get(reverse("dashboard", args=[crisis.pk])).content.decode()
    assert "Préserver les preuves" in page and "Dernière entrée du journal" in page
    assert 'hx-trigger="every 15s"' in page and "clock-" in page


def test_it_serves_the_live_fragment_alone(as_role, crisis):
    page = as_role("observer").get(reverse("dashboard_live", args=[crisis.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert page.lstrip().startswith('<div id="live"') and "<html" not in page


def test_it_prefills_the_directory_without_contact_details(db):
    assert sorted(Stakeholder.objects.values_list("kind", flat=True)) == sorted(STAKEHOLDER_KINDS)
    assert not any(s.is_filled_in for s in Stakeholder.objects.all())


def test_it_saves_a_stakeholder_and_validates_the_email(as_role, crisis):
    ars = Stakeholder.objects.get(kind="ars")
    client = as_role("communication")
    response = client.post(reverse("stakeholder_edit", args=[crisis.pk, ars.pk]), {"kind": "ars", "email": "pas-un-mail"})
    assert response.status_code == 200 and "has-error" in response.content.decode()
    client.post(reverse("stakeholder_edit", args=[crisis.pk, ars.pk]), {"kind": "ars", "organisation": "ARS Bretagne", "phone": "02 00 00 00 00"})
    assert Stakeholder.objects.get(pk=ars.pk).organisation == "ARS Bretagne"


def test_it_adds_a_member_and_logs_it(as_role, crisis, users):
    from tests.conftest import make_user

    make_user("renfort")
    response = as_role("director").post(reverse("members", args=[crisis.pk]), {"username": "renfort", "role": "scribe"})
    assert response.status_code == 302
    assert crisis.memberships.get(user__username="renfort").role == "scribe"
    assert "renfort" in last_entry(crisis).text


def test_it_names_an_unknown_user(as_role, crisis):
    response = as_role("director").post(reverse("members", args=[crisis.pk]), {"username": "personne", "role": "scribe"})
    assert "personne" in response.content.decode() and "has-error" in response.content.decode()


def test_it_opens_a_crisis_with_its_creator_as_member(client, db):
    from tests.conftest import make_user

    admin = make_user("chef", is_staff=True)
    client.force_login(admin)
    response = client.post(reverse("crisis_new"), {
        "title": "Fuite de données", "kind": "exfiltration", "t0": "2026-06-01T07:30", "severity": 3,
        "phase": "alert", "personal_data": "on", "my_role": "director",
    })
    crisis = Crisis.objects.get(title="Fuite de données")
    assert response.status_code == 302
    assert crisis.memberships.get(user=admin).role == "director"
    assert LogEntry.objects.get(crisis=crisis, seq=1).text.startswith("Crise ouverte") or "Fuite de données" in LogEntry.objects.get(crisis=crisis, seq=1).text
    assert "cnil-initial" in keys(crisis)


@pytest.mark.parametrize("language, word", [("fr", "Main courante"), ("en", "Running log")])
def test_it_speaks_the_chosen_language(client, users, crisis, language, word):
    client.force_login(users["observer"])
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    assert word in client.get(reverse("dashboard", args=[crisis.pk])).content.decode()


def test_it_speaks_french_to_an_english_browser_until_asked_otherwise(client, users, crisis):
    client.force_login(users["observer"])
    page = client.get(reverse("dashboard", args=[crisis.pk]), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Main courante" in page.content.decode() and page["Content-Language"] == "fr"


def test_it_gives_obligations_to_members_who_join_with_the_owner_role(crisis, users):
    cnil = Obligation.objects.get(crisis=crisis, rule__key="cnil-initial")
    assert cnil.owner == users["dpo"]
    police = Obligation.objects.get(crisis=crisis, rule__key="police")
    assert police.owner == users["director"]


def test_it_changes_the_owner_of_an_obligation_and_logs_it(as_role, crisis, users):
    police = Obligation.objects.get(crisis=crisis, rule__key="police")
    as_role("director").post(reverse("obligation", args=[crisis.pk, police.pk]), {"set_owner": "1", "owner": users["coordinator"].pk})
    assert Obligation.objects.get(pk=police.pk).owner == users["coordinator"]
    assert "coordinator" in last_entry(crisis).text


def test_it_sends_front_desk_agents_to_their_registers(as_role, crisis):
    client = as_role("frontdesk")
    home = client.get(reverse("home")).content.decode()
    assert reverse("frontdesk", args=[crisis.pk]) in home
    assert f'href="{reverse("dashboard", args=[crisis.pk])}"' not in home
    page = client.get(reverse("frontdesk", args=[crisis.pk])).content.decode()
    assert reverse("log", args=[crisis.pk]) not in page
