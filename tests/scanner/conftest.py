import json
from pathlib import Path

import pytest

# CI lays shared/ beside the clone: <repo>/../shared.
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"


def _load(relative: str):
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"shared test data not found at {path} (CI puts shared/ beside the clone)")
    return path


@pytest.fixture(scope="session")
def identifiers() -> dict:
    return json.loads(_load("identifiers/identifiers.json").read_text())


@pytest.fixture(scope="session")
def presidio_cases() -> list[dict]:
    return [json.loads(line) for line in _load("identifiers/presidio_cases.jsonl").read_text().splitlines()]


@pytest.fixture(scope="session")
def person_sentences() -> Path:
    return _load("fr_person_names/enp_fr_bnf.jsonl")
