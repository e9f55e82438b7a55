"""Shared checks of the permission matrix: each module's test_permissions.py lists its views in a SPECS
table (url name -> capability, HTTP method, ids the URL takes) and uses these helpers."""

import re
from pathlib import Path

from django.urls import reverse

from garde.accounts.roles import Role, role_can

ROLES = [role.value for role in Role]
PERMISSIONS_DOC = Path(__file__).resolve().parents[1] / "docs" / "permissions.md"


def view_url(name: str, crisis, ids: dict, keys) -> str:
    return reverse(name, kwargs={"crisis_id": crisis.pk, **{key: ids[key] for key in keys}})


def assert_every_view_listed(urlpatterns, specs: dict, namespace: str = "", public=()) -> None:
    """Every URL of the module is in SPECS (or public), and each view asks for the capability SPECS says."""
    names = {f"{namespace}{p.name}" for p in urlpatterns}
    assert names == set(specs) | set(public)
    for pattern in urlpatterns:
        name = f"{namespace}{pattern.name}"
        if name in specs:
            assert pattern.callback.capability == specs[name][0], name


def assert_role_gets_what_the_matrix_says(response, role: str, capability, crisis, secrets=()) -> None:
    """A role with the capability gets the page; any other, and outsiders, get 403 and nothing of it."""
    if role != "outsider" and role_can(role, capability):
        assert response.status_code in (200, 302), (role, response.status_code)
        return
    assert response.status_code == 403, (role, response.status_code)
    page = response.content.decode()
    for secret in (crisis.title, *secrets):
        assert not shows(page, secret), secret


def shows(page: str, secret: str) -> bool:
    """Whether the page shows the secret as a word of its own: a short number such as a downtime id
    "99100" may occur inside a random UUID or CSP nonce of the page, which shows nothing. A secret that
    ends in a separator ("srv-") is a prefix and matches whatever follows it."""
    before = r"(?<![0-9A-Za-z])" if secret[0].isalnum() else ""
    after = r"(?![0-9A-Za-z])" if secret[-1].isalnum() else ""
    return re.search(before + re.escape(secret) + after, page) is not None


def assert_sent_to_login(response) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def views_markdown(specs: dict, public=()) -> str:
    rows = [f"| `{name}` | {method.upper()} | `{capability.value}` |"
            for name, (capability, method, _keys) in sorted(specs.items())]
    rows += [f"| `{name}` | GET | public, no login |" for name in sorted(public)]
    return "\n".join(["| view | method | capability |", "|---|---|---|", *rows])


def assert_documented(specs: dict, public=()) -> None:
    expected = views_markdown(specs, public)
    assert expected in PERMISSIONS_DOC.read_text(), "docs/permissions.md is out of date; expected table:\n" + expected
