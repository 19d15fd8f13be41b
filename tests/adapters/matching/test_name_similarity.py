"""Name agreement: nicknames, typos, sound-alikes, initials, double-barrelled and swapped names."""

from __future__ import annotations

import pytest

from adapters.index.normalise import fold, name_parts
from adapters.matching.names import (
    INITIAL_SIMILARITY,
    NICKNAME_SIMILARITY,
    PART_SIMILARITY,
    PHONETIC_SIMILARITY,
    TYPO_SIMILARITY,
    Names,
    compare_names,
    part_similarity,
)
from adapters.matching.nicknames import are_nicknames, nickname_variants


def test_folding_drops_accents_apostrophes_and_splits_hyphens() -> None:
    assert fold("Zoë O'Brien") == "ZOE OBRIEN"
    assert name_parts("Smith-Jones") == ("SMITH", "JONES")
    assert name_parts("李") == ()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("BILL", "WILLIAM"),
        ("LIZ", "ELIZABETH"),
        ("MO", "MUHAMMAD"),
        ("MOHAMMED", "MUHAMMAD"),
        ("BILL", "WILL"),
        ("KASIA", "KATARZYNA"),
    ],
)
def test_nicknames_are_equivalent(first: str, second: str) -> None:
    assert are_nicknames(first, second)
    assert part_similarity(first, second, given=True) == NICKNAME_SIMILARITY


def test_nickname_equivalence_goes_one_step_only() -> None:
    assert are_nicknames("KAY", "CATHERINE")
    assert are_nicknames("KAY", "KAYODE")
    assert not are_nicknames("CATHERINE", "KAYODE")
    assert "WILLIAM" in nickname_variants("BILLY")


def test_nicknames_do_not_apply_to_family_names() -> None:
    assert part_similarity("BILL", "WILLIAM", given=False) < NICKNAME_SIMILARITY


@pytest.mark.parametrize(
    ("typed", "meant"), [("UEAH", "UBAH"), ("KVYA", "KAYA"), ("SMIHT", "SMITH")]
)
def test_one_slip_in_a_name_of_four_letters_counts_as_a_typo(typed: str, meant: str) -> None:
    assert part_similarity(typed, meant, given=False) >= TYPO_SIMILARITY


def test_a_slip_in_a_three_letter_name_is_not_forgiven_as_a_typo() -> None:
    assert part_similarity("ALI", "ALE", given=False) < TYPO_SIMILARITY


def test_sound_alikes_are_close_and_accidental_codes_are_not() -> None:
    assert part_similarity("KATHERINE", "CATHERINE", given=False) >= PHONETIC_SIMILARITY - 0.01
    assert part_similarity("RAFI", "AARAV", given=True) < 0.6


def test_an_initial_is_consistent_with_its_name() -> None:
    assert part_similarity("J", "JOHN", given=True) == INITIAL_SIMILARITY
    assert part_similarity("K", "JOHN", given=True) == 0.0


def test_different_names_are_far_apart() -> None:
    assert part_similarity("LIAM", "NOAH", given=True) < 0.7


def test_one_part_of_a_double_barrelled_name() -> None:
    query = Names.of(["Amara"], "Smith", [])
    record = Names.of(["Amara"], "Okafor-Smith", [])
    agreement = compare_names(query, record)
    assert agreement.family == PART_SIMILARITY
    assert agreement.family_parts == ("SMITH",)
    assert compare_names(record, record).family == 1.0


def test_a_former_family_name_held_as_an_other_name() -> None:
    agreement = compare_names(
        Names.of(["Amara"], "Mensah", []), Names.of(["Amara"], "Okafor", ["Mensah"])
    )
    assert agreement.family == PART_SIMILARITY


def test_forename_and_surname_swapped() -> None:
    agreement = compare_names(Names.of(["Okafor"], "Amara", []), Names.of(["Amara"], "Okafor", []))
    assert agreement.swapped
    assert (agreement.given, agreement.family) == (1.0, 1.0)
    assert agreement.given_part == "AMARA"


def test_swapped_nickname_still_counts() -> None:
    agreement = compare_names(Names.of(["Jones"], "Ollie", []), Names.of(["Olivia"], "Jones", []))
    assert agreement.swapped
    assert agreement.given == NICKNAME_SIMILARITY


def test_straight_names_are_preferred_when_as_good() -> None:
    agreement = compare_names(Names.of(["Ali"], "Ali", []), Names.of(["Ali"], "Ali", []))
    assert not agreement.swapped
