"""Isolation and security: no external resource, CSP, CSRF, login lockout, second factor."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from garde.accounts.models import SecondFactorPolicy
from tests.conftest import PASSWORD

SRC = Path(__file__).resolve().parents[1] / "src" / "garde"
EXTERNAL = re.compile(r"""(src|href|action)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//|@import\s+["']?(https?:)?//""", re.I)


def asset_files():
    for path in SRC.rglob("*"):
        if path.suffix in {".html", ".css", ".js", ".svg"} and "node_modules" not in path.parts:
            yield path


def test_it_references_no_external_resource_in_templates_or_static_files():
    offenders = [f"{p.relative_to(SRC)}: {m.group(0)}" for p in asset_files() for m in EXTERNAL.finditer(p.read_text("utf-8", "replace"))]
    assert offenders == []
    assert any(p.name == "base.html" for p in asset_files())


def test_it_serves_htmx_from_its_own_static_files(client):
    page = client.get(reverse("login")).content.decode()
    assert "/static/django_htmx/htmx-2.min.js" in page
    assert client.get("/static/django_htmx/htmx-2.min.js").status_code == 200


def test_it_sends_a_content_security_policy_with_a_nonce(client):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert f'nonce="{nonce}"' in response.content.decode()


def test_it_refuses_a_post_without_csrf_token(users, crisis):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["scribe"])
    response = client.post(reverse("log_add", args=[crisis.pk]), {"kind": "fact", "text": "x"})
    assert response.status_code == 403


def test_it_locks_an_account_after_repeated_failures(client, users, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "scribe", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "scribe", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_logs_in_with_the_right_password(client, users):
    response = client.post(reverse("login"), {"username": "scribe", "password": PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(users["scribe"].pk)


def test_it_sets_up_then_requires_the_second_factor_when_the_role_demands_it(client, users, crisis):
    SecondFactorPolicy.objects.create(role="director", required=True)
    client.post(reverse("login"), {"username": "director", "password": PASSWORD})
    response = client.get(reverse("dashboard", args=[crisis.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("second_factor"))
    setup = client.get(response["Location"])
    assert b"<svg" in setup.content
    device = TOTPDevice.objects.get(user=users["director"])
    wrong = client.post(reverse("second_factor"), {"token": "000000"})
    assert "has-error" in wrong.content.decode()
    device.refresh_from_db()
    device.throttle_reset()  # a failure throttles the next try for a second; the test does not wait
    token = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    client.post(reverse("second_factor"), {"token": token})
    assert client.get(reverse("dashboard", args=[crisis.pk])).status_code == 200
    assert TOTPDevice.objects.get(user=users["director"]).confirmed


def test_it_does_not_ask_a_second_factor_of_other_roles(client, users, crisis):
    SecondFactorPolicy.objects.create(role="director", required=True)
    client.post(reverse("login"), {"username": "observer", "password": PASSWORD})
    assert client.get(reverse("dashboard", args=[crisis.pk])).status_code == 200


@pytest.mark.parametrize("debug, secure", [(False, True), (True, False)])
def test_it_secures_cookies_outside_debug(monkeypatch, debug, secure, tmp_path):
    import importlib

    import garde.settings as module

    monkeypatch.setenv("GARDE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GARDE_DEBUG", "yes" if debug else "no")
    monkeypatch.delenv("GARDE_INSECURE_HTTP", raising=False)
    reloaded = importlib.reload(module)
    try:
        assert getattr(reloaded, "SESSION_COOKIE_SECURE", False) is secure
        assert bool(getattr(reloaded, "SECURE_HSTS_SECONDS", 0)) is secure
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_it_explains_a_refusal_in_the_page_style(as_role, crisis):
    response = as_role("outsider").get(reverse("dashboard", args=[crisis.pk]))
    assert response.status_code == 403
    page = response.content.decode()
    assert "garde.css" in page and crisis.title not in page
