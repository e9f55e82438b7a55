"""The crisis cell in a real browser: log in, dashboard, running log, situation report, regulatory clocks.

Elements are found by URL, name, id, CSS class or role, never by their French or English label, so the
tests hold whichever language the UI is in.
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from garde.accounts.roles import Role
from garde.cell import journal, services
from garde.cell.clocks import clocks_for
from garde.cell.demo import DEMO_TITLE, load_demo
from garde.cell.models import Crisis, LogEntry, Obligation, SitRep
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed").expect

UUID = r"[0-9a-f-]{36}"


def has_class(name: str) -> re.Pattern:
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def mark_document(page) -> None:
    """Leave a mark in the page's JavaScript world: it survives anything but a reload or a navigation."""
    page.evaluate("window.__gardeSameDocument = true")


def assert_same_document(page) -> None:
    assert page.evaluate("window.__gardeSameDocument === true"), "the page was reloaded"


def test_it_logs_in_through_the_form_and_opens_the_demo_crisis(page, log_in):
    passwords = load_demo()
    crisis = Crisis.objects.get(title=DEMO_TITLE)
    _role, password = passwords["directrice"]

    # Anonymous: Garde sends the visitor to the login form first.
    log_in("directrice", password, start="/")
    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))  # back to the page first asked for
    dashboard_url = reverse("dashboard", args=[crisis.pk])
    page.locator(f'main a[href="{dashboard_url}"]').click()
    expect(page).to_have_url(re.compile(re.escape(dashboard_url) + "$"))

    live = page.locator("#live")
    expect(live).to_be_visible()
    # The demo's clocks (CERT Santé, CNIL, complaint, NIS2, insurer…) and its latest log entries.
    expect(live.locator("table.clocks .clock")).to_have_count(len(clocks_for(crisis)))
    expect(live.locator("ol.log li .seq").first).to_have_text(f"#{LogEntry.objects.filter(crisis=crisis).count()}")
    page.problems.check()


def test_it_refuses_a_wrong_password(page, users):
    page.goto("/account/login/")
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=username]").fill("director")
    form.locator("input[name=password]").fill("not-the-password")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/account/login/"))
    # The form keeps what was typed, except the password, and says what went wrong.
    expect(form.locator("input[name=username]")).to_have_value("director")
    expect(page.locator("form .errors[role=alert], form .error[role=alert]").first).to_be_visible()


def test_it_refreshes_the_dashboard_without_console_errors_or_csp_violations(page, log_in, crisis):
    log_in("director", PASSWORD)
    # A fake clock lets the test jump over htmx's 15-second polling instead of waiting for it.
    page.clock.install()
    page.goto(reverse("dashboard", args=[crisis.pk]))
    live = page.locator("#live")
    expect(live).to_be_visible()
    expect(live.locator("table.clocks .clock").first).to_be_visible()
    refreshed_before = live.get_attribute("data-refreshed")
    mark_document(page)

    entry = journal.record(crisis, "Written elsewhere while the dashboard is open")
    with page.expect_response(lambda r: r.url.endswith(reverse("dashboard_live", args=[crisis.pk]))) as polled:
        page.clock.fast_forward("00:16")
    assert polled.value.status == 200
    expect(page.locator("#live")).not_to_have_attribute("data-refreshed", refreshed_before or "")
    expect(page.locator("#live ol.log li .seq").first).to_have_text(f"#{entry.seq}")
    assert_same_document(page)
    page.problems.check()


def test_it_adds_a_running_log_entry_through_the_form(page, log_in, crisis):
    log_in("scribe", PASSWORD)
    log_url = reverse("log", args=[crisis.pk])
    page.goto(log_url)
    form = page.locator(f'form[action="{reverse("log_add", args=[crisis.pk])}"]')
    form.locator("select[name=kind]").select_option("decision")
    form.locator("textarea[name=text]").fill("Bascule des urgences en mode dégradé papier")
    form.locator("input[name=source]").fill("Cadre de garde")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(re.escape(log_url) + "$"))
    entry = LogEntry.objects.get(crisis=crisis, text="Bascule des urgences en mode dégradé papier")
    assert (entry.kind, entry.source, entry.author.username) == ("decision", "Cadre de garde", "scribe")
    expect(page.locator("ul.messages li.success")).to_contain_text(str(entry.seq))
    row = page.locator(f"table.log tbody tr#e{entry.seq}")
    expect(row).to_contain_text("Bascule des urgences en mode dégradé papier")
    expect(row.locator(".kind")).to_have_class(has_class("kind-decision"))
    # Newest first.
    expect(page.locator("table.log tbody tr").first).to_have_id(f"e{entry.seq}")
    assert journal.verify(crisis).ok
    page.problems.check()


def test_it_publishes_a_situation_report(page, log_in, crisis):
    log_in("director", PASSWORD)
    page.goto(reverse("sitreps", args=[crisis.pk]))
    with page.expect_navigation():
        page.locator(f'form[action="{reverse("sitrep_new", args=[crisis.pk])}"] button[type=submit]').click()
    expect(page).to_have_url(re.compile(rf"/sitreps/{UUID}/edit/$"))
    sitrep = SitRep.objects.get(crisis=crisis)
    sitrep_url = reverse("sitrep", args=[crisis.pk, sitrep.pk])
    edit_url = reverse("sitrep_edit", args=[crisis.pk, sitrep.pk])
    publish_url = reverse("sitrep_publish", args=[crisis.pk, sitrep.pk])

    form = page.locator("form:has(textarea[name=situation])")
    form.locator("textarea[name=situation]").fill("SI isolé ; urgences en mode dégradé.")
    form.locator("textarea[name=impacts]").fill("Messagerie et imagerie à distance indisponibles.")
    form.locator("textarea[name=actions_under_way]").fill("Qualification de l'exfiltration.")
    form.locator("textarea[name=needs]").fill("Renfort d'un prestataire.")
    next_point = timezone.localtime() + timedelta(hours=2)
    form.locator("input[name=next_point_at]").fill(next_point.strftime("%Y-%m-%dT%H:%M"))
    with page.expect_navigation():
        form.locator("button[type=submit]").click()

    # The draft: still editable, not numbered.
    expect(page).to_have_url(re.compile(re.escape(sitrep_url) + "$"))
    expect(page.locator(f'a[href="{edit_url}"]')).to_have_count(1)
    with page.expect_navigation():
        page.locator(f'form[action="{publish_url}"] button[type=submit]').click()

    sitrep.refresh_from_db()
    assert (sitrep.status, sitrep.number) == (SitRep.Status.PUBLISHED, 1)
    expect(page).to_have_url(re.compile(re.escape(sitrep_url) + "$"))
    expect(page.locator("main h1")).to_have_text(re.compile(rf"\b{sitrep.number}\b"))
    expect(page.locator("main .hash")).to_contain_text(sitrep.content_hash)
    expect(page.locator("section.sitrep")).to_contain_text("SI isolé ; urgences en mode dégradé.")
    # Frozen: no edit link, no publish button.
    expect(page.locator(f'a[href="{edit_url}"]')).to_have_count(0)
    expect(page.locator(f'form[action="{publish_url}"]')).to_have_count(0)
    # The list shows its number, and the log recorded the publication.
    page.goto(reverse("sitreps", args=[crisis.pk]))
    expect(page.locator(f'table.list a[href="{sitrep_url}"]').first).to_have_text(str(sitrep.number))
    assert LogEntry.objects.filter(crisis=crisis, kind="communication", text__contains=sitrep.content_hash).exists()
    page.problems.check()


@pytest.mark.parametrize("where", ["obligations", "dashboard"])
def test_it_turns_a_clock_from_soon_to_overdue_without_reloading(page, log_in, users, where):
    log_in("director", PASSWORD)
    seconds_left = 5
    # The police complaint is due 72 h after T0: put T0 so that it falls due a few seconds from now.
    crisis = services.open_crisis(
        Crisis(title="Horloge", t0=timezone.now() - timedelta(hours=72) + timedelta(seconds=seconds_left)),
        users[Role.DIRECTOR.value],
        Role.DIRECTOR,
    )
    complaint = Obligation.objects.get(crisis=crisis, rule__key="police")
    page.goto(reverse(where, args=[crisis.pk]))
    clock = page.locator(f'tr:has(a[href="{reverse("obligation", args=[crisis.pk, complaint.pk])}"]) .clock')
    expect(clock).to_have_count(1)
    expect(clock).to_have_class(has_class("clock-soon"))
    mark_document(page)

    expect(clock).to_have_class(has_class("clock-overdue"), timeout=(seconds_left + 5) * 1000)
    expect(clock).not_to_have_class(has_class("clock-soon"))
    expect(clock).to_have_attribute("data-state", "overdue")
    expect(clock.locator(".left")).to_have_text(re.compile(r"^-"))
    assert_same_document(page)
    page.problems.check()


def test_it_declares_an_icon_so_browsers_log_no_404(page):
    # Without one, Chromium asks for /favicon.ico, gets a 404 and logs a console error on every first page.
    page.goto("/account/login/")
    icon = page.locator('head link[rel~="icon"]')
    expect(icon).to_have_count(1)
    href = icon.get_attribute("href")
    assert href.startswith("data:") or page.request.get(href).status == 200
    page.problems.check()
