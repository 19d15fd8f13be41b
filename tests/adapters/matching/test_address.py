"""Address agreement: one door written many ways, one street, or elsewhere."""

from __future__ import annotations

import pytest

from adapters.matching.address import compare_addresses


@pytest.mark.parametrize(
    "asked",
    [
        "Flat 3, 12a Acre Lane",
        "3/12A Acre Ln",
        "12A Acre Lane, Flat 3, Brixton",
        "12a acre lane",  # the flat left out
        "Apartment 3 12A ACRE LANE LONDON",
    ],
)
def test_one_door_written_many_ways_is_the_same_address(asked: str) -> None:
    assert compare_addresses(asked, "Flat 3, 12A Acre Lane, London") == "same"


def test_another_door_or_no_number_on_one_street_is_the_street() -> None:
    assert compare_addresses("14 Acre Lane", "Flat 3, 12A Acre Lane") == "street"
    assert compare_addresses("Acre Lane", "12A Acre Lane") == "street"


def test_another_street_is_different_and_no_words_compare_as_nothing() -> None:
    assert compare_addresses("12A Coldharbour Lane", "12A Acre Lane") == "different"
    assert compare_addresses("12", "12 Acre Lane") is None
