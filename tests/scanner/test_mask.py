"""Masked forms a DPO reads in findings.parquet and the report: enough to recognise a value, never
enough to recover it."""

import hashlib
import hmac
import re

from hypothesis import given
from hypothesis import strategies as st

from garde.scanner.mask import keyed_hash, mask


def test_an_identifier_keeps_its_first_character_and_last_two():
    assert mask("1 85 05 78 006 084 36", "default") == "1 ** ** ** *** *** 36"
    assert mask("FR76 3000 6000 0112 3456 7890 189", "default") == "F*** **** **** **** **** **** *89"


def test_a_short_value_keeps_only_its_first_character():
    assert mask("06 12 34", "default") == "0* ** **"
    assert mask("75012", "default") == "7****"


def test_spaces_are_normalised_and_punctuation_kept():
    assert mask("  06.12.34.56.78\n", "default") == "0*.**.**.**.78"


def test_names_emails_and_secrets_have_their_own_forms():
    assert mask("Jean-Pierre DUPONT", "name") == "J********** D*****"
    assert mask("jean.dupont@chu-exemple.fr", "email") == "j***@c***.fr"
    assert mask("$2b$12$abcdefghijklmnop", "secret") == "[23 chars]"


def _starred_by_listing(value: str) -> str:
    """The rule spelled out: list every letter and digit, keep the first and (past six) the last two."""
    value = " ".join(value.split())
    positions = [m.start() for m in re.finditer(r"[^\W_]", value)]
    keep = set(positions[:1] + positions[-2:]) if len(positions) > 6 else set(positions[:1])
    return "".join(c if i in keep or i not in positions else "*" for i, c in enumerate(value))


@given(st.text(alphabet=st.sampled_from("aZé9 0-._*/Ç\t"), max_size=30))
def test_the_mask_follows_the_rule_on_any_value(value):
    assert mask(value, "default") == _starred_by_listing(value)


@given(st.binary(max_size=100), st.text(max_size=40))
def test_the_keyed_hash_is_hmac_sha256_of_space_and_value(key, value):
    expected = hmac.new(key, f"nir:{value}".encode(), hashlib.sha256).hexdigest()
    assert keyed_hash(key, "nir", value) == expected
