"""GB 32100-2015 unified social credit codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.matching.uscc import (
    USCC_ALPHABET,
    is_valid_uscc,
    normalize_uscc,
    uscc_check_character,
    valid_uscc_or_none,
)

STANDARD_EXAMPLE = "91350100M000100Y43"  # the example printed in GB 32100-2015

first17 = st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17)


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    head = draw(first17)
    return head + uscc_check_character(head)


def test_the_standards_example_is_valid() -> None:
    assert uscc_check_character(STANDARD_EXAMPLE[:17]) == "3"
    assert is_valid_uscc(STANDARD_EXAMPLE)


@pytest.mark.parametrize(
    "code",
    [
        STANDARD_EXAMPLE[:17],  # 17 characters
        STANDARD_EXAMPLE + "0",  # 19 characters
        "",
        "91350100M000100Y44",  # wrong check character
        "91350100I000100Y43",  # I is not in the alphabet
        "91350100O000100Y43",  # nor O
        "91350100S000100Y43",  # nor S
        "91350100V000100Y43",  # nor V
        "91350100Z000100Y43",  # nor Z
        "91350100m000100y43",  # lower case is not normalised by is_valid_uscc itself
    ],
)
def test_invalid_codes(code: str) -> None:
    assert not is_valid_uscc(code)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  91350100m000100y43 ", STANDARD_EXAMPLE),
        ("９１３５０１００Ｍ０００１００Ｙ４３", STANDARD_EXAMPLE),  # full-width
        ("9135 0100 M000 100Y 43", STANDARD_EXAMPLE),
        ("\u300091350100M000100Y43\u3000", STANDARD_EXAMPLE),  # ideographic spaces
    ],
)
def test_normalize_uscc(raw: str, normalised: str) -> None:
    assert normalize_uscc(raw) == normalised
    assert valid_uscc_or_none(raw) == STANDARD_EXAMPLE


def test_valid_uscc_or_none_refuses_empty_and_mistyped() -> None:
    assert valid_uscc_or_none(None) is None
    assert valid_uscc_or_none("") is None
    assert valid_uscc_or_none("91350100M000100Y44") is None


def test_check_character_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        uscc_check_character("9135")
    with pytest.raises(ValueError):
        uscc_check_character("91350100I000100Y4")


@given(valid_codes())
def test_generated_codes_are_valid(code: str) -> None:
    assert is_valid_uscc(code)
    assert normalize_uscc(code.lower()) == code


@given(valid_codes(), st.integers(min_value=0, max_value=17), st.sampled_from(USCC_ALPHABET))
def test_any_single_changed_character_is_detected(code: str, position: int, replacement: str) -> None:
    if code[position] == replacement:
        return
    changed = code[:position] + replacement + code[position + 1 :]
    assert not is_valid_uscc(changed)


@given(valid_codes(), st.integers(min_value=0, max_value=15))
def test_adjacent_transpositions_in_the_body_are_detected(code: str, position: int) -> None:
    # The weights are pairwise distinct modulo 31, so swapping two different characters shows.
    if code[position] == code[position + 1]:
        return
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert not is_valid_uscc(swapped)


@given(valid_codes(), st.sampled_from(USCC_ALPHABET))
def test_wrong_lengths_are_invalid(code: str, extra: str) -> None:
    assert not is_valid_uscc(code[:17])
    assert not is_valid_uscc(code + extra)
