"""Browser tests: Debian's Chromium driven through Playwright against pytest-django's live server.

No browser is downloaded: the tests use /usr/bin/chromium and are skipped, with the reason, when it is
missing. One Chromium runs for the whole session; each test gets a fresh context (no shared cookies).
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread that
# has a running loop unless told that it is safe (it is: the loop only talks to the browser).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    with sync_api.sync_playwright() as playwright:
        # launch() starts Chromium on a fresh temporary user-data-dir that Playwright deletes on close:
        # nothing of a previous run, or of the machine's own Chromium profile, leaks in. Each test then
        # opens its own context (cookies, storage) on it.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Problems:
    """What went wrong in the page: console errors, uncaught exceptions, CSP violations."""

    page: object
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        reported = self.page.evaluate("window.__gardeCspViolations || []")
        in_console = [m for m in self.console_errors if re.search(r"Content.Security.Policy", m, re.I)]
        return [*reported, *in_console]

    def check(self) -> None:
        """Fail if the current page reported a CSP violation, or if any page logged an error."""
        assert self.csp_violations() == [], "CSP violations"
        assert self.console_errors == [], "console errors"
        assert self.page_errors == [], "uncaught JavaScript exceptions"


# Runs in the page before any of its scripts (through the DevTools protocol, so the page's CSP does not
# apply to it) and records every securitypolicyviolation event.
CSP_LISTENER = """
window.__gardeCspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__gardeCspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(locale="fr-FR", timezone_id="Europe/Paris", base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    problems = Problems(page)

    def on_console(message):
        if message.type == "error":
            problems.console_errors.append(f"{message.text} at {message.location.get('url')}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.page_errors.append(str(exc)))
    page.problems = problems
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(autouse=True)
def reference_data(transactional_db):
    """The obligation rules, checklist and directory of migration 0002.

    Transactional tests flush the database after each test, data migrations included, so put it back.
    """
    from django.apps import apps

    from garde.cell import seeds

    seeds.load(apps)


@pytest.fixture
def log_in(page):
    """Log in through the login form, with the real password (no force_login)."""

    def log_in(username: str, password: str, start: str = "/account/login/"):
        page.goto(start)
        assert "/account/login/" in page.url, f"expected the login page, got {page.url}"
        form = page.locator("form:has(input[name=password])")
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=password]").fill(password)
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "/account/login/" not in page.url, f"login as {username} failed: still on {page.url}"
        return page

    return log_in
