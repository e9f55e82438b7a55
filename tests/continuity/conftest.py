import pytest
from django.core.cache import cache

from tests.systems.helpers import store_demo_map


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo_map(db):
    return store_demo_map()
