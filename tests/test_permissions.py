"""The permission matrix: every crisis view, every role, anonymous and outsiders (docs/permissions.md)."""

from pathlib import Path

import pytest
from django.urls import reverse

from garde.accounts.roles import MATRIX, Capability, Role, role_can
from garde.cell import journal
from garde.cell.models import Action, Attachment, Obligation, SitRep, Stakeholder
from garde.cell.urls import urlpatterns

C = Capability
ROLES = [role.value for role in Role]

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
    kwargs = {"crisis_id": crisis.pk}
    for key in keys:
        kwargs["sitrep_id" if key == "published_sitrep_id" else key] = ids[key]
    return reverse(name, kwargs=kwargs)


def test_it_covers_every_crisis_view():
    crisis_urls = {p.name for p in urlpatterns} - {"home", "crisis_new"}
    assert crisis_urls == set(SPECS)
    for pattern in urlpatterns:
        if pattern.name in SPECS:
            assert pattern.callback.capability == SPECS[pattern.name][0], pattern.name


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("role", ROLES + ["outsider"])
def test_it_applies_the_matrix(name, role, as_role, crisis, ids):
    capability, method, keys = SPECS[name]
    client = as_role(role)
    response = getattr(client, method)(_url(name, crisis, ids, keys))
    allowed = role != "outsider" and role_can(role, capability)
    if allowed:
        assert response.status_code in (200, 302), (name, role, response.status_code)
    else:
        assert response.status_code == 403, (name, role, response.status_code)
        assert crisis.title.encode() not in response.content


@pytest.mark.parametrize("name", sorted(SPECS))
def test_it_sends_anonymous_visitors_to_login(name, client, crisis, ids):
    capability, method, keys = SPECS[name]
    response = getattr(client, method)(_url(name, crisis, ids, keys))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


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


def views_markdown() -> str:
    rows = [f"| `{name}` | {method.upper()} | `{capability.value}` |" for name, (capability, method, _k) in sorted(SPECS.items())]
    return "\n".join(["| view | method | capability |", "|---|---|---|", *rows])


def test_it_documents_the_matrix_as_it_is():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "permissions.md").read_text()
    assert matrix_markdown() in doc, "docs/permissions.md is out of date; expected table:\n" + matrix_markdown()
    assert views_markdown() in doc, "docs/permissions.md is out of date; expected table:\n" + views_markdown()


