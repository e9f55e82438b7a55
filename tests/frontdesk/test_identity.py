"""The pure identity helpers: INS key and traits, and duplicate detection between typed identities."""

from datetime import date

import pytest

from garde.lib.identity import InsError, Traits, check_ins, duplicate_reason, normalise_name

# 2 95 10 99 126 111 93 is python-stdnum's documented valid NIR: a woman born in October 1995.
VALID_NIR = "295109912611193"


@pytest.mark.parametrize("value", [VALID_NIR, "2 95 10 99 126 111 93", "2-95-10-99-126-111-93", "253072B07300470"])
def test_it_accepts_an_ins_with_a_correct_key(value):
    assert len(check_ins(value)) == 15


@pytest.mark.parametrize("value, code", [
    ("295109912611199", "key"),
    ("29510991261119", "length"),
    ("395109912611193", "first_digit"),
])
def test_it_says_what_is_wrong_with_an_ins(value, code):
    with pytest.raises(InsError) as error:
        check_ins(value)
    assert error.value.code == code


def test_it_checks_the_ins_against_sex_and_year_of_birth():
    assert check_ins(VALID_NIR, "F", date(1995, 10, 1)) == VALID_NIR
    with pytest.raises(InsError) as error:
        check_ins(VALID_NIR, "M")
    assert error.value.code == "sex"
    with pytest.raises(InsError) as error:
        check_ins(VALID_NIR, "F", date(1996, 10, 1))
    assert error.value.code == "year"


def test_it_normalises_accents_case_and_separators():
    assert normalise_name("  LÉVÊQUE-d’Œillet ") == "leveque d oeillet"
    assert normalise_name("Müller") == "muller"


def traits(name, first, born=date(1970, 3, 12), used=""):
    return Traits(name, first, born, "F", used)


@pytest.mark.parametrize("new, known, reason", [
    (traits("DUPONT", "marie"), traits("Dupont", "Marie Anne"), "same_traits"),
    (traits("Lévêque", "Élodie"), traits("LEVEQUE", "ELODIE"), "same_traits"),
    (traits("Marie", "Dupont"), traits("Dupont", "Marie"), "inverted"),
    (traits("Dupond", "Marie"), traits("Dupont", "Marie"), "same_traits"),
    (traits("Martin", "Marie", used=""), traits("Dupont", "Marie", used="Martin"), "same_traits"),
    (traits("Dupont", "Marie", born=date(1970, 12, 3)), traits("Dupont", "Marie"), "date_slip"),
    (traits("Dupont", "Marie", born=date(1971, 3, 12)), traits("Dupont", "Marie"), "date_slip"),
])
def test_it_finds_probable_duplicates(new, known, reason):
    assert duplicate_reason(new, known) == reason


@pytest.mark.parametrize("new, known", [
    (traits("Dupont", "Pierre"), traits("Dupont", "Marie")),
    (traits("Durand", "Marie"), traits("Dupont", "Marie")),
    (traits("Dupont", "Marie", born=date(1985, 7, 1)), traits("Dupont", "Marie")),
])
def test_it_does_not_confuse_different_people(new, known):
    assert duplicate_reason(new, known) is None
