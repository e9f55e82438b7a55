"""A breach's public notice on the public status page: published from the notice page, shown in French and
English on /status/ and in the Statuspage API, withdrawn, logged, and nothing internal shown."""

import json

import pytest
from django.urls import reverse

from garde.accounts.roles import Capability, role_can
from garde.cell.models import LogEntry
from tests.matrix import ROLES

NOTICE_FR = (
    "Des données de patients du service de cardiologie ont pu être copiées.\nAppelez le 02 99 00 00 00."
)
NOTICE_EN = "Data of cardiology patients may have been copied. Call +33 2 99 00 00 00."
API = ["continuity:api_summary", "continuity:api_incidents", "continuity:api_unresolved"]


@pytest.fixture
def saved(breach, as_role, crisis):
    breach.risk_reasons = "Motif interne : serveur de fichiers non chiffré"
    breach.save()
    as_role("dpo").post(
        reverse("breach:public_notice", args=[crisis.pk, breach.pk]), {"public_notice": NOTICE_FR}
    )
    breach.refresh_from_db()
    assert breach.public_notice == NOTICE_FR
    return breach


def publish(client, breach, **data):
    fields = {
        "title_fr": "Violation de données : information",
        "title_en": "Data breach: information",
        "body_en": NOTICE_EN,
        **data,
    }
    return client.post(reverse("breach:public_notice_publish", args=[breach.crisis.pk, breach.pk]), fields)


def public_page(client, lang="fr") -> str:
    return client.get(reverse("continuity:public") + ("?lang=en" if lang == "en" else "")).content.decode()


def api(client, name, lang="fr") -> dict:
    return json.loads(client.get(reverse(name) + ("?lang=en" if lang == "en" else "")).content)


def test_it_shows_the_published_notice_on_the_public_page_in_french_and_english(saved, as_role, client):
    assert publish(as_role("dpo"), saved).status_code == 302
    client.logout()
    french = public_page(client)
    assert "Violation de données : information" in french
    assert (
        "Des données de patients du service de cardiologie ont pu être copiées.<br>Appelez le 02 99 00 00 00."
        in french
    )
    english = public_page(client, "en")
    assert "Data breach: information" in english and NOTICE_EN in english
    assert "cardiologie" not in english


def test_it_falls_back_to_the_french_text_on_the_english_page(saved, as_role, client):
    publish(as_role("communication"), saved, title_en="", body_en="")
    client.logout()
    english = public_page(client, "en")
    assert "Violation de données : information" in english and "cardiologie ont pu être copiées" in english


def test_it_lists_the_notice_as_an_informational_incident_in_the_api(saved, as_role, client):
    publish(as_role("dpo"), saved)
    client.logout()
    for name in API:
        incidents = api(client, name, "en")["incidents"]
        notice = next(i for i in incidents if i["name"] == "Data breach: information")
        assert notice["impact"] == "none" and notice["status"] == "identified" and notice["components"] == []
        assert notice["incident_updates"][0]["body"] == NOTICE_EN
    assert api(client, "continuity:api_status")["status"]["indicator"] == "none"


def test_it_takes_the_notice_off_the_page_and_api_when_withdrawn(saved, as_role, client):
    director = as_role("director")
    publish(director, saved)
    assert "cardiologie ont pu être copiées" in public_page(director)
    response = director.post(reverse("breach:public_notice_withdraw", args=[saved.crisis.pk, saved.pk]))
    assert response.status_code == 302
    client.logout()
    assert "cardiologie" not in public_page(client) and "Violation de données" not in public_page(client)
    assert api(client, "continuity:api_summary")["incidents"] == []


def test_it_replaces_the_notice_when_published_again(saved, as_role, client):
    dpo = as_role("dpo")
    publish(dpo, saved, title_fr="Premier titre")
    publish(dpo, saved, title_fr="Second titre")
    client.logout()
    page = public_page(client)
    assert "Second titre" in page and "Premier titre" not in page


def test_it_writes_publication_and_withdrawal_to_the_running_log(saved, as_role, crisis, users):
    dpo = as_role("dpo")
    publish(dpo, saved)
    dpo.post(reverse("breach:public_notice_withdraw", args=[crisis.pk, saved.pk]))
    entries = LogEntry.objects.filter(crisis=crisis, kind=LogEntry.Kind.COMMUNICATION, author=users["dpo"])
    texts = list(entries.values_list("text", flat=True))
    assert any(
        "Violation de données : information" in t and "publiée" in t and NOTICE_FR in t for t in texts
    )
    assert any("Violation de données : information" in t and "retirée" in t for t in texts)


def test_it_shows_nothing_internal_on_the_public_page_and_api(saved, as_role, client, crisis):
    publish(as_role("dpo"), saved)
    client.logout()
    outputs = [public_page(client), public_page(client, "en")]
    outputs += [
        json.dumps(api(client, name, lang), ensure_ascii=False) for name in API for lang in ("fr", "en")
    ]
    for output in outputs:
        assert "cardiologie" in output or NOTICE_EN in output
        for internal in (crisis.title, saved.title, saved.risk_reasons, str(crisis.pk), str(saved.pk), "dpo"):
            assert internal not in output, internal


def test_it_publishes_only_a_saved_notice(breach, as_role, client):
    publish(as_role("dpo"), breach)
    client.logout()
    assert "Violation de données" not in public_page(client)


@pytest.mark.parametrize("role", ROLES + ["outsider"])
def test_it_lets_only_the_roles_of_the_matrix_publish(role, saved, as_role, client):
    response = publish(as_role(role), saved)
    allowed = role != "outsider" and role_can(role, Capability.PUBLISH_BREACH_NOTICE)
    assert response.status_code == (302 if allowed else 403)
    client.logout()
    assert ("Violation de données : information" in public_page(client)) == allowed


def test_it_offers_publishing_only_to_those_who_may(saved, as_role):
    url = reverse("breach:public_notice", args=[saved.crisis.pk, saved.pk])
    assert "Publier sur la page publique d’état" in as_role("communication").get(url).content.decode()
    page = as_role("coordinator").get(url).content.decode()
    assert "Publier sur la page publique d’état" not in page and NOTICE_FR.split("\n")[0] in page
