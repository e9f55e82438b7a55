"""Shared by the systems and continuity tests: the demo map stored as the current map."""

from pathlib import Path

from django.core.cache import cache

from garde import impact
from garde.systems import store
from garde.systems.models import Scenario

DEMO = Path(impact.__file__).parent / "examples" / "chu_demo.yaml"
INTERNET_CUT = "Coupure d'Internet"
DOMAIN_RANSOMWARE = "Rançongiciel sur le domaine"


def store_demo_map(user=None):
    cache.clear()  # the public snapshot must not outlive the test database
    return store.save(impact.load_map(DEMO), source="chu_demo.yaml", user=user)


def scenario(name: str = INTERNET_CUT) -> Scenario:
    return Scenario.objects.get(name=name)
