"""The permission matrix for the systems and continuity views: every role, outsiders and anonymous visitors."""

import pytest
from django.urls import reverse

from garde.accounts.roles import Capability, role_can
from garde.continuity import services as board
from garde.continuity.urls import urlpatterns as continuity_urls
from garde.systems import restoration, store
from garde.systems.urls import urlpatterns as systems_urls
from tests.matrix import (
    ROLES,
    assert_documented,
    assert_every_view_listed,
    assert_role_gets_what_the_matrix_says,
    assert_sent_to_login,
    view_url,
)
from tests.systems.helpers import scenario

C = Capability

# url name -> (capability, HTTP method, which object ids the URL takes, extra kwargs)
SPECS = {
    "systems:map": (C.VIEW_SYSTEMS, "get", ()),
    "systems:import": (C.MANAGE_MAP, "get", ()),
    "systems:export": (C.VIEW_SYSTEMS, "get", ("fmt",)),
    "systems:node_new": (C.MANAGE_MAP, "get", ()),
    "systems:node_edit": (C.MANAGE_MAP, "get", ("node_id",)),
    "systems:node_delete": (C.MANAGE_MAP, "post", ("node_id",)),
    "systems:analysis": (C.VIEW_SYSTEMS, "get", ()),
    "systems:scenarios": (C.VIEW_SYSTEMS, "get", ()),
    "systems:scenario_new": (C.RUN_SCENARIO, "get", ()),
    "systems:scenario": (C.VIEW_SYSTEMS, "get", ("scenario_id",)),
    "systems:scenario_edit": (C.RUN_SCENARIO, "get", ("scenario_id",)),
    "systems:scenario_apply": (C.APPLY_SCENARIO, "post", ("scenario_id",)),
    "systems:plan_new": (C.PLAN_RESTORATION, "get", ("scenario_id",)),
    "systems:plans": (C.VIEW_SYSTEMS, "get", ()),
    "systems:plan": (C.VIEW_SYSTEMS, "get", ("plan_id",)),
    "systems:plan_pdf": (C.VIEW_SYSTEMS, "get", ("plan_id",)),
    "systems:plan_replan": (C.PLAN_RESTORATION, "post", ("plan_id",)),
    "systems:plan_send": (C.PLAN_RESTORATION, "post", ("plan_id",)),
    "systems:task_done": (C.PLAN_RESTORATION, "post", ("plan_id", "task_id")),
    "systems:task_late": (C.PLAN_RESTORATION, "post", ("plan_id", "task_id")),
    "continuity:board": (C.VIEW_BOARD, "get", ()),
    "continuity:board_fill": (C.MANAGE_BOARD, "post", ()),
    "continuity:status_edit": (C.MANAGE_BOARD, "get", ("status_id",)),
    "continuity:procedures": (C.VIEW_BOARD, "get", ()),
    "continuity:procedures_pdf": (C.VIEW_BOARD, "get", ()),
    "continuity:notice_pdf": (C.VIEW_BOARD, "get", ()),
    "continuity:switchboard_pdf": (C.VIEW_BOARD, "get", ()),
}
PUBLIC = {"continuity:public", "continuity:api_summary", "continuity:api_status", "continuity:api_components",
          "continuity:api_incidents", "continuity:api_unresolved"}
SLOW = {"systems:plan_pdf", "continuity:procedures_pdf", "continuity:notice_pdf", "continuity:switchboard_pdf"}


@pytest.fixture
def ids(demo_map, crisis, users):
    loaded = store.load()
    board.fill_from_map(crisis, loaded.map, users["director"])
    plan = restoration.compute(crisis, name="test", actions=["compromise_host:srv-dc01", "cut_link:l-internet"],
                               version=demo_map, staff={"identite": 1, "reseau": 1}, solver="greedy",
                               time_limit=1, user=users["director"])
    return {
        "fmt": "yaml", "node_id": "sil", "scenario_id": scenario().pk, "plan_id": plan.pk,
        "task_id": plan.tasks.filter(minutes__gt=0).first().pk,
        "status_id": crisis.service_statuses.first().pk,
    }


def test_it_covers_every_view():
    assert_every_view_listed(systems_urls, {k: v for k, v in SPECS.items() if k.startswith("systems:")},
                             namespace="systems:")
    assert_every_view_listed(continuity_urls, {k: v for k, v in SPECS.items() if k.startswith("continuity:")},
                             namespace="continuity:", public=PUBLIC)


@pytest.mark.parametrize("name", sorted(set(SPECS) - SLOW))
@pytest.mark.parametrize("role", ROLES + ["outsider"])
def test_it_applies_the_matrix(name, role, as_role, crisis, ids):
    capability, method, keys = SPECS[name]
    response = getattr(as_role(role), method)(view_url(name, crisis, ids, keys))
    assert_role_gets_what_the_matrix_says(response, role, capability, crisis, secrets=("srv-",))


@pytest.mark.parametrize("name", sorted(SLOW))
def test_it_refuses_printed_documents_to_roles_without_the_capability(name, as_role, crisis, ids):
    capability, method, keys = SPECS[name]
    for role in ROLES:
        if not role_can(role, capability):
            assert as_role(role).get(view_url(name, crisis, ids, keys)).status_code == 403
    assert as_role("outsider").get(view_url(name, crisis, ids, keys)).status_code == 403


@pytest.mark.parametrize("name", sorted(SPECS))
def test_it_sends_anonymous_visitors_to_login(name, client, crisis, ids):
    _capability, method, keys = SPECS[name]
    assert_sent_to_login(getattr(client, method)(view_url(name, crisis, ids, keys)))


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_it_serves_the_public_views_without_login(name, client, db):
    assert client.get(reverse(name)).status_code == 200


def test_it_documents_the_views_as_they_are():
    assert_documented(SPECS, PUBLIC)
