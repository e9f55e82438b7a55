"""The breach views against the permission matrix: every view, every role, anonymous and outsiders."""

from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from garde.accounts.roles import Capability, Role, role_can
from garde.breach.models import Notification, Perimeter, Person, ScanImport
from garde.breach.urls import urlpatterns

C = Capability
ROLES = [role.value for role in Role]

# url name -> (capability, HTTP method, which object ids the URL takes besides the crisis)
SPECS = {
    "list": (C.VIEW_BREACH, "get", ()),
    "new": (C.MANAGE_BREACH, "get", ()),
    "register": (C.VIEW_BREACH, "get", ()),
    "register_pdf": (C.VIEW_BREACH, "get", ()),
    "detail": (C.VIEW_BREACH, "get", ("breach_id",)),
    "edit": (C.MANAGE_BREACH, "get", ("breach_id",)),
    "import": (C.MANAGE_BREACH, "get", ("breach_id",)),
    "import_status": (C.VIEW_BREACH, "get", ("breach_id", "import_id")),
    "risk": (C.MANAGE_BREACH, "get", ("breach_id",)),
    "notification": (C.VIEW_BREACH, "get", ("breach_id",)),
    "notification_fill": (C.MANAGE_BREACH, "post", ("breach_id",)),
    "notification_freeze": (C.MANAGE_BREACH, "post", ("breach_id",)),
    "notification_text": (C.VIEW_BREACH, "get", ("breach_id",)),
    "version_text": (C.VIEW_BREACH, "get", ("breach_id", "version_id")),
    "version_pdf": (C.VIEW_BREACH, "get", ("breach_id", "version_id")),
    "public_notice": (C.VIEW_BREACH, "get", ("breach_id",)),
    "public_notice_pdf": (C.VIEW_BREACH, "get", ("breach_id",)),
    "persons": (C.VIEW_BREACH_PERSONS, "get", ("breach_id",)),
    "reason": (C.VIEW_BREACH_PERSONS, "post", ("breach_id",)),
    "person": (C.VIEW_BREACH_PERSONS, "get", ("breach_id", "person_id")),
    "person_letter": (C.VIEW_BREACH_PERSONS, "get", ("breach_id", "person_id")),
    "letters_pdf": (C.VIEW_BREACH_PERSONS, "get", ("breach_id",)),
    "letters_csv": (C.VIEW_BREACH_PERSONS, "get", ("breach_id",)),
    "letters_sent": (C.VIEW_BREACH_PERSONS, "post", ("breach_id",)),
    "patient_file": (C.VIEW_BREACH_PERSONS, "post", ("breach_id",)),
}


@pytest.fixture
def ids(breach, users):
    perimeter = Perimeter.objects.create(breach=breach, name="Cardiologie")
    scan = ScanImport.objects.create(breach=breach, perimeter=perimeter, folder="/nowhere", created_by=users["dpo"])
    person = Person.objects.create(breach=breach, reference="P0000001", label="D***** J***", health=True)
    version = Notification.objects.create(breach=breach, kind="initial", number=1, fields={}, content_sha256="0" * 64,
                                          sent_at=timezone.now(), channel="web", frozen_by=users["dpo"])
    return {"breach_id": breach.pk, "import_id": scan.pk, "person_id": person.pk, "version_id": version.pk}


def _url(name, crisis, ids, keys):
    return reverse(f"breach:{name}", kwargs={"crisis_id": crisis.pk, **{key: ids[key] for key in keys}})


def test_it_covers_every_breach_view():
    assert {p.name for p in urlpatterns} == set(SPECS)
    for pattern in urlpatterns:
        assert pattern.callback.capability == SPECS[pattern.name][0], pattern.name


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("role", ROLES + ["outsider"])
def test_it_applies_the_matrix(name, role, as_role, crisis, ids):
    capability, method, keys = SPECS[name]
    response = getattr(as_role(role), method)(_url(name, crisis, ids, keys))
    if role != "outsider" and role_can(role, capability):
        assert response.status_code in (200, 302), (name, role, response.status_code)
    else:
        assert response.status_code == 403, (name, role, response.status_code)
        assert crisis.title.encode() not in response.content


@pytest.mark.parametrize("name", sorted(SPECS))
def test_it_sends_anonymous_visitors_to_login(name, client, crisis, ids):
    _capability, method, keys = SPECS[name]
    response = getattr(client, method)(_url(name, crisis, ids, keys))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_lets_only_the_dpo_and_the_director_see_persons():
    assert {role for role in ROLES if role_can(role, C.VIEW_BREACH_PERSONS)} == {"dpo", "director"}


def views_markdown() -> str:
    rows = [f"| `breach:{name}` | {method.upper()} | `{capability.value}` |"
            for name, (capability, method, _k) in sorted(SPECS.items())]
    return "\n".join(["| view | method | capability |", "|---|---|---|", *rows])


def test_it_documents_the_breach_views():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "permissions.md").read_text()
    assert views_markdown() in doc, "docs/permissions.md is out of date; expected table:\n" + views_markdown()
