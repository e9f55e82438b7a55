"""The breach views against the permission matrix: every view, every role, anonymous and outsiders."""


import pytest
from django.utils import timezone

from garde.accounts.roles import Capability, role_can
from garde.breach.models import LetterRun, Notification, Perimeter, Person, ScanImport
from garde.breach.urls import urlpatterns
from tests.matrix import (
    ROLES,
    assert_documented,
    assert_every_view_listed,
    assert_role_gets_what_the_matrix_says,
    assert_sent_to_login,
    view_url,
)

C = Capability

# url name -> (capability, HTTP method, which object ids the URL takes besides the crisis)
SPECS = {
    "breach:list": (C.VIEW_BREACH, "get", ()),
    "breach:new": (C.MANAGE_BREACH, "get", ()),
    "breach:register": (C.VIEW_BREACH, "get", ()),
    "breach:register_pdf": (C.VIEW_BREACH, "get", ()),
    "breach:detail": (C.VIEW_BREACH, "get", ("breach_id",)),
    "breach:edit": (C.MANAGE_BREACH, "get", ("breach_id",)),
    "breach:import": (C.MANAGE_BREACH, "get", ("breach_id",)),
    "breach:import_status": (C.VIEW_BREACH, "get", ("breach_id", "import_id")),
    "breach:risk": (C.MANAGE_BREACH, "get", ("breach_id",)),
    "breach:notification": (C.VIEW_BREACH, "get", ("breach_id",)),
    "breach:notification_fill": (C.MANAGE_BREACH, "post", ("breach_id",)),
    "breach:notification_freeze": (C.MANAGE_BREACH, "post", ("breach_id",)),
    "breach:notification_text": (C.VIEW_BREACH, "get", ("breach_id",)),
    "breach:version_text": (C.VIEW_BREACH, "get", ("breach_id", "version_id")),
    "breach:version_pdf": (C.VIEW_BREACH, "get", ("breach_id", "version_id")),
    "breach:public_notice": (C.VIEW_BREACH, "get", ("breach_id",)),
    "breach:public_notice_pdf": (C.VIEW_BREACH, "get", ("breach_id",)),
    "breach:public_notice_publish": (C.PUBLISH_BREACH_NOTICE, "post", ("breach_id",)),
    "breach:public_notice_withdraw": (C.PUBLISH_BREACH_NOTICE, "post", ("breach_id",)),
    "breach:persons": (C.VIEW_BREACH_PERSONS, "get", ("breach_id",)),
    "breach:reason": (C.VIEW_BREACH_PERSONS, "post", ("breach_id",)),
    "breach:person": (C.VIEW_BREACH_PERSONS, "get", ("breach_id", "person_id")),
    "breach:person_letter": (C.VIEW_BREACH_PERSONS, "get", ("breach_id", "person_id")),
    "breach:letter_run_new": (C.VIEW_BREACH_PERSONS, "post", ("breach_id",)),
    "breach:letter_run": (C.VIEW_BREACH_PERSONS, "get", ("breach_id", "run_id")),
    "breach:letter_download": (C.VIEW_BREACH_PERSONS, "get", ("breach_id", "run_id", "kind")),
    "breach:letters_sent": (C.VIEW_BREACH_PERSONS, "post", ("breach_id",)),
    "breach:patient_file": (C.VIEW_BREACH_PERSONS, "post", ("breach_id",)),
}
# Views of every crisis at once, without a crisis in the URL: checked per role in test_register.py.
HOSPITAL_WIDE = {
    "breach:hospital_register": (C.VIEW_BREACH_REGISTER, "get", ()),
    "breach:hospital_register_pdf": (C.VIEW_BREACH_REGISTER, "get", ()),
}


@pytest.fixture
def ids(breach, users):
    perimeter = Perimeter.objects.create(breach=breach, name="Cardiologie")
    scan = ScanImport.objects.create(breach=breach, perimeter=perimeter, folder="/nowhere", created_by=users["dpo"])
    person = Person.objects.create(breach=breach, reference="P0000001", label="D***** J***", health=True)
    version = Notification.objects.create(breach=breach, kind="initial", number=1, fields={}, content_sha256="0" * 64,
                                          sent_at=timezone.now(), channel="web", frozen_by=users["dpo"])
    run = LetterRun.objects.create(breach=breach, requested_by=users["dpo"], reason="lettres")
    return {"breach_id": breach.pk, "import_id": scan.pk, "person_id": person.pk, "version_id": version.pk,
            "run_id": run.pk, "kind": "pdf"}


def test_it_covers_every_breach_view():
    assert_every_view_listed([p for p in urlpatterns if f"breach:{p.name}" not in HOSPITAL_WIDE], SPECS,
                             namespace="breach:")
    assert_every_view_listed([p for p in urlpatterns if f"breach:{p.name}" in HOSPITAL_WIDE], HOSPITAL_WIDE,
                             namespace="breach:")


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("role", ROLES + ["outsider"])
def test_it_applies_the_matrix(name, role, as_role, crisis, ids):
    capability, method, keys = SPECS[name]
    response = getattr(as_role(role), method)(view_url(name, crisis, ids, keys))
    assert_role_gets_what_the_matrix_says(response, role, capability, crisis)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_it_sends_anonymous_visitors_to_login(name, client, crisis, ids):
    _capability, method, keys = SPECS[name]
    assert_sent_to_login(getattr(client, method)(view_url(name, crisis, ids, keys)))


def test_it_lets_only_the_dpo_and_the_director_see_persons():
    assert {role for role in ROLES if role_can(role, C.VIEW_BREACH_PERSONS)} == {"dpo", "director"}


def test_it_documents_the_breach_views():
    assert_documented(SPECS)
    assert_documented(HOSPITAL_WIDE)
