"""The permission matrix: every crisis view, every role, anonymous and outsiders (docs/permissions.md)."""


import pytest
from django.urls import reverse

from garde.accounts.roles import MATRIX, Capability
from garde.cell import journal
from garde.cell.models import Action, Attachment, Obligation, SitRep, Stakeholder
from garde.cell.urls import urlpatterns
from tests.matrix import (
    PERMISSIONS_DOC,
    ROLES,
    assert_documented,
    assert_every_view_listed,
    assert_role_gets_what_the_matrix_says,
    assert_sent_to_login,
    view_url,
)

C = Capability

# url name -> (capability, HTTP method, which object ids the URL takes)
SPECS = {
    "dashboard": (C.VIEW_CRISIS, "get", ()),
    "dashboard_live": (C.VIEW_CRISIS, "get", ()),
    "crisis_edit": (C.EDIT_CRISIS, "get", ()),
    "members": (C.MANAGE_MEMBERS, "get", ()),
    "member_remove": (C.MANAGE_MEMBERS, "post", ("membership_id",)),
    "log": (C.VIEW_CRISIS, "get", ()),
    "log_add": (C.WRITE_LOG, "get", ()),
    "log_correct": (C.WRITE_LOG, "get", ("corrects_seq",)),
    "log_verify": (C.VIEW_CRISIS, "get", ()),
    "log_export_json": (C.EXPORT, "get", ()),
    "log_export_pdf": (C.EXPORT, "get", ()),
    "attachment": (C.VIEW_CRISIS, "get", ("attachment_id",)),
    "decisions": (C.VIEW_CRISIS, "get", ()),
    "decision_add": (C.RECORD_DECISION, "get", ()),
    "actions": (C.VIEW_CRISIS, "get", ()),
    "action_add": (C.MANAGE_ACTIONS, "get", ()),
    "checklist": (C.MANAGE_ACTIONS, "post", ()),
    "action_status": (C.MANAGE_ACTIONS, "post", ("action_id",)),
    "sitreps": (C.VIEW_CRISIS, "get", ()),
    "sitrep_new": (C.EDIT_SITREP, "post", ()),
    "sitrep": (C.VIEW_CRISIS, "get", ("sitrep_id",)),
    "sitrep_edit": (C.EDIT_SITREP, "get", ("sitrep_id",)),
    "sitrep_publish": (C.PUBLISH_SITREP, "post", ("sitrep_id",)),
    "sitrep_pdf": (C.VIEW_CRISIS, "get", ("published_sitrep_id",)),
    "obligations": (C.VIEW_CRISIS, "get", ()),
    "obligation": (C.VIEW_CRISIS, "get", ("obligation_id",)),
    "obligation_text": (C.VIEW_CRISIS, "get", ("obligation_id",)),
    "stakeholders": (C.VIEW_CRISIS, "get", ()),
    "stakeholders_pdf": (C.VIEW_CRISIS, "get", ()),
    "stakeholder_new": (C.MANAGE_STAKEHOLDERS, "get", ()),
    "stakeholder_edit": (C.MANAGE_STAKEHOLDERS, "get", ("stakeholder_id",)),
}


@pytest.fixture
def ids(crisis, users):
    from django.core.files.uploadedfile import SimpleUploadedFile

    stored = journal.store_upload(SimpleUploadedFile("note.txt", b"evidence"))
    entry = journal.record(crisis, "with a file", files=[stored])
    sitrep = SitRep.objects.create(crisis=crisis, situation="draft")
    published = SitRep.objects.create(crisis=crisis, situation="published")
    from garde.cell import services

    services.publish_sitrep(published, users["director"])
    observer_membership = crisis.memberships.get(user=users["observer"])
    return {
        "membership_id": observer_membership.pk,
        "corrects_seq": entry.seq,
        "attachment_id": Attachment.objects.get(entry=entry).pk,
        "action_id": Action.objects.create(crisis=crisis, title="Isoler").pk,
        "sitrep_id": sitrep.pk,
        "published_sitrep_id": published.pk,
        "obligation_id": Obligation.objects.filter(crisis=crisis).first().pk,
        "stakeholder_id": Stakeholder.objects.first().pk,
    }


def _url(name, crisis, ids, keys):
    # The published report's PDF takes the same URL argument as a draft's page.
    ids = {**ids, "sitrep_id": ids["published_sitrep_id"]} if "published_sitrep_id" in keys else ids
    return view_url(name, crisis, ids, [key.replace("published_", "") for key in keys])


def test_it_covers_every_crisis_view():
    assert_every_view_listed([p for p in urlpatterns if p.name not in ("home", "crisis_new")], SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("role", ROLES + ["outsider"])
def test_it_applies_the_matrix(name, role, as_role, crisis, ids):
    capability, method, keys = SPECS[name]
    response = getattr(as_role(role), method)(_url(name, crisis, ids, keys))
    assert_role_gets_what_the_matrix_says(response, role, capability, crisis)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_it_sends_anonymous_visitors_to_login(name, client, crisis, ids):
    _capability, method, keys = SPECS[name]
    assert_sent_to_login(getattr(client, method)(_url(name, crisis, ids, keys)))


def test_it_lets_only_staff_open_a_crisis(as_role, users, client):
    assert as_role("director").get(reverse("crisis_new")).status_code == 403
    users["admin"].is_staff = True
    users["admin"].save()
    client.force_login(users["admin"])
    assert client.get(reverse("crisis_new")).status_code == 200


def test_it_shows_home_only_to_members_crises(as_role, crisis):
    assert crisis.title in as_role("observer").get(reverse("home")).content.decode()
    assert crisis.title not in as_role("outsider").get(reverse("home")).content.decode()


def matrix_markdown() -> str:
    header = "| capability | " + " | ".join(ROLES) + " |"
    rule = "|---|" + "---|" * len(ROLES)
    rows = [
        f"| `{capability.value}` | " + " | ".join("✔" if role in MATRIX[capability] else "" for role in ROLES) + " |"
        for capability in Capability
    ]
    return "\n".join([header, rule, *rows])


def test_it_documents_the_matrix_as_it_is():
    doc = PERMISSIONS_DOC.read_text()
    assert matrix_markdown() in doc, "docs/permissions.md is out of date; expected table:\n" + matrix_markdown()
    assert_documented(SPECS)


