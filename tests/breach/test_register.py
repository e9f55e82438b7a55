"""The breach register (art. 33(5)): per crisis, and for the whole hospital across crises (dpo and director of
any crisis, superusers), with register fields only, and every look at the hospital-wide one logged."""

from datetime import timedelta

import pypdfium2
import pytest
from django.urls import reverse
from django.utils import timezone

from garde.accounts.models import AccessLog
from garde.accounts.roles import Capability, Role, role_can
from garde.breach.models import Breach, LeakedRecord, Notification, Perimeter, Person
from garde.cell import services
from garde.cell.models import Crisis
from tests.conftest import make_user
from tests.matrix import ROLES, assert_sent_to_login

HOSPITAL = ["breach:hospital_register", "breach:hospital_register_pdf"]


@pytest.fixture
def other_crisis(users):
    """A second crisis, months earlier, whose DPO has no role in the first one."""
    crisis = services.open_crisis(
        Crisis(title="Hameçonnage de la paie", t0=timezone.now() - timedelta(days=90), personal_data=True),
        users["director"],
        Role.DIRECTOR,
    )
    services.set_membership(crisis, make_user("dpo-paie"), Role.DPO, users["director"])
    return crisis


@pytest.fixture
def files(breach, other_crisis, users):
    """One breach file in each crisis: the first with persons, records, a perimeter and a CNIL notification."""
    breach.measures = "Mots de passe réinitialisés"
    breach.risk, breach.risk_reasons = Breach.Risk.HIGH, "Données de santé et NIR exposés"
    breach.save()
    perimeter = Perimeter.objects.create(breach=breach, name="Cardiologie")
    Person.objects.create(
        breach=breach, reference="P0000001", label="D***** J***", health=True, identity=True
    )
    Person.objects.create(breach=breach, reference="P0000002", label="B******* S*****", financial=True)
    LeakedRecord.objects.create(breach=breach, perimeter=perimeter, record_id="r1", health=True)
    Notification.objects.create(
        breach=breach,
        kind="initial",
        number=1,
        fields={},
        content_sha256="0" * 64,
        sent_at=timezone.now(),
        channel="web",
        reference="CNIL-2026-0042",
        frozen_by=users["dpo"],
    )
    earlier = Breach.objects.create(
        crisis=other_crisis,
        number=2,
        title="Courriels de paie exfiltrés",
        t0=other_crisis.t0,
        created_by=users["director"],
    )
    return breach, earlier


def page(client, name="breach:hospital_register"):
    return client.get(reverse(name))


def test_it_sends_anonymous_visitors_to_login(client, files):
    for name in HOSPITAL:
        assert_sent_to_login(page(client, name))


@pytest.mark.parametrize("role", ROLES + ["outsider"])
def test_it_opens_the_hospital_register_to_the_dpo_and_director_only(role, as_role, files):
    allowed = role != "outsider" and role_can(role, Capability.VIEW_BREACH_REGISTER)
    for name in HOSPITAL:
        response = page(as_role(role), name)
        assert response.status_code == (200 if allowed else 403), (role, name)
        if not allowed:
            assert (
                b"Courriels de paie" not in response.content and b"Fuite du serveur" not in response.content
            )


def test_it_shows_every_crisis_to_the_dpo_of_another_crisis_only(client, files):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="dpo-paie"))
    content = page(client).content.decode()
    assert "Fuite du serveur de fichiers" in content and "Courriels de paie exfiltrés" in content
    assert "Rançongiciel test" in content and "Hameçonnage de la paie" in content


def test_it_opens_to_superusers_without_membership(client, files):
    client.force_login(make_user("root", is_superuser=True))
    assert page(client).status_code == 200


def test_it_shows_register_fields_and_never_a_person(as_role, files, settings):
    client = as_role("dpo")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    content = page(client).content.decode()
    for expected in (
        "Cardiologie",
        "Health data 1 / 1",
        "Banking and payment data 1 / 0",
        "Total 2 / 1",
        "High risk",
        "Données de santé et NIR exposés",
        "Mots de passe réinitialisés",
        "CNIL-2026-0042",
        "not notified",
        "loss of confidentiality",
    ):
        assert expected in content, expected
    for person in ("P0000001", "D***** J***", "B******* S*****"):
        assert person not in content


def test_it_writes_every_look_to_the_access_log(as_role, users, files):
    client = as_role("director")
    page(client)
    page(client, "breach:hospital_register_pdf")
    page(client)
    actions = list(AccessLog.objects.filter(user=users["director"]).values_list("action", flat=True))
    assert sorted(actions) == [
        "breach_hospital_register",
        "breach_hospital_register",
        "breach_hospital_register_pdf",
    ]


def test_it_prints_the_hospital_register(as_role, files):
    response = page(as_role("dpo"), "breach:hospital_register_pdf")
    assert response["Content-Type"] == "application/pdf"
    document = pypdfium2.PdfDocument(response.content)
    text = " ".join(" ".join(p.get_textpage().get_text_range() for p in document).split())
    assert "Courriels de paie exfiltrés" in text and "CNIL-2026-0042" in text and "D***** J***" not in text


def test_it_keeps_the_crisis_register_to_its_own_crisis(as_role, crisis, files):
    content = as_role("observer").get(reverse("breach:register", args=[crisis.pk])).content.decode()
    assert "Fuite du serveur de fichiers" in content and "Cardiologie" in content
    assert "Courriels de paie exfiltrés" not in content
    assert not AccessLog.objects.exists()


def test_it_links_the_hospital_register_from_the_breach_list_for_those_who_may_open_it(
    as_role, crisis, files
):
    url = reverse("breach:list", args=[crisis.pk])
    link = f'href="{reverse("breach:hospital_register")}"'
    assert link in as_role("dpo").get(url).content.decode()
    assert link not in as_role("coordinator").get(url).content.decode()
