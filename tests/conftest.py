from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone, translation

from garde.accounts.roles import Role
from garde.cell import seeds, services
from garde.cell.models import Crisis

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def default_language(settings):
    """Each test starts in Garde's default language: a request of an earlier test must not leak its own."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


def make_user(username: str, **extra):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)
    return user


@pytest.fixture
def cast(db):
    """A crisis and one member per role, plus an outsider who belongs to no crisis."""
    # Transactional tests empty the database, reference data of the migrations included.
    seeds.load(django_apps)
    director = make_user("director", first_name="Claire", last_name="Martin")
    crisis = services.open_crisis(
        Crisis(title="Rançongiciel test", t0=timezone.now() - timedelta(hours=2), personal_data=True, nis2=True),
        director,
        Role.DIRECTOR,
    )
    users = {Role.DIRECTOR.value: director}
    for role in Role:
        if role != Role.DIRECTOR:
            users[role.value] = make_user(role.value)
            services.set_membership(crisis, users[role.value], role, director)
    users["outsider"] = make_user("outsider")
    return crisis, users


@pytest.fixture
def crisis(cast):
    return cast[0]


@pytest.fixture
def users(cast):
    return cast[1]


@pytest.fixture
def as_role(client, users):
    def login(role: str):
        client.force_login(users[role])
        return client

    return login


@pytest.fixture(autouse=True)
def fresh_cache():
    """The public status page is cached: no test may see what an earlier one put there."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo_map(db):
    from tests.systems.helpers import store_demo_map

    return store_demo_map()
