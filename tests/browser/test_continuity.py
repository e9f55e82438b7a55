"""Continuity in a real browser: apply a scenario, then see the status board, the public page and the
Statuspage API change.

Elements are found by URL, name, id, CSS class or role, never by their French or English label.
"""

import json
import re

import pytest
from django.urls import reverse

from garde.continuity.models import ServiceStatus
from tests.conftest import PASSWORD
from tests.systems.helpers import INTERNET_CUT, scenario, store_demo_map

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed").expect

# What the June 2023 internet cut takes down (public services), and what stays up.
CUT = {"teleconsultation": "Téléconsultation"}
KEPT = {"urgences": "Urgences"}


def components(page, path="/api/v2/summary.json") -> dict:
    response = page.request.get(path)
    assert response.ok and response.headers["access-control-allow-origin"] == "*"
    return json.loads(response.text())


def test_applying_a_scenario_changes_the_board_the_public_page_and_the_api(page, log_in, crisis, users):
    store_demo_map()
    cut = scenario(INTERNET_CUT)

    # Before: nothing on the board, every public service operational.
    page.goto("/status/")
    expect(page.locator("p.overall")).to_have_class(re.compile(r"overall-none"))
    expect(page.locator("li.component.state-down")).to_have_count(0)
    before = components(page)
    assert before["status"]["indicator"] == "none"
    assert {c["status"] for c in before["components"]} == {"operational"}

    # The IT lead applies the internet cut from the scenario page.
    log_in("it_lead", PASSWORD)
    page.goto(reverse("systems:scenario", args=[crisis.pk, cut.pk]))
    apply_url = reverse("systems:scenario_apply", args=[crisis.pk, cut.pk])
    with page.expect_navigation():
        page.locator(f'form[action="{apply_url}"] button[type=submit]').click()

    # The board shows the services down, with their state.
    page.goto(reverse("continuity:board", args=[crisis.pk]))
    down = page.locator("tr.board-row", has=page.locator(".state.state-down"))
    expect(down.filter(has_text=CUT["teleconsultation"])).to_have_count(1)
    expect(page.locator("tr.board-row", has_text=KEPT["urgences"]).locator(".state.state-up")).to_have_count(1)
    assert ServiceStatus.objects.filter(crisis=crisis, service="teleconsultation", state="down").exists()
    page.problems.check()

    # The public page (anonymous visitor: a new context) shows them unavailable, with their public message.
    visitor = page.context.browser.new_context(base_url=page.url.split("/c/")[0])
    public = visitor.new_page()
    try:
        public.goto("/status/")
        expect(public.locator("p.overall")).to_have_class(re.compile(r"overall-major"))
        item = public.locator("li.component.state-down", has_text=CUT["teleconsultation"])
        expect(item).to_have_count(1)
        expect(item.locator("p.message")).not_to_be_empty()
        expect(public.locator("li.component.state-up", has_text=KEPT["urgences"])).to_have_count(1)
        assert crisis.title not in public.content()

        # The Statuspage API says the same.
        after = components(public)
        states = {c["id"]: c["status"] for c in after["components"]}
        assert states["teleconsultation"] == "major_outage" and states["urgences"] == "operational"
        assert after["status"]["indicator"] == "major"
        assert len(after["incidents"]) == 1 and after["incidents"][0]["status"] == "identified"
        assert components(public, "/api/v2/status.json")["status"]["indicator"] == "major"
    finally:
        visitor.close()
