"""Misses seen on a public labelled benchmark (issue 16), each now found.

Each case is a true pair the matcher answered ``not-known`` (or read wrongly)
before: the query as a practitioner typed it against the record as the
index holds it, among children sharing its forename so that the name earns
no more than a common name's points.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from adapters.index.fields import LocalId
from adapters.index.memory import MemoryChildIndex
from adapters.index.model import ChildRecord, Subject
from adapters.matching.decision import MatchStatus
from adapters.matching.matcher import find
from adapters.matching.names import Names, compare_names
from tests.support.children import child_record

BORN = date(2012, 7, 19)


def _namesakes(given: str, count: int = 1000) -> list[ChildRecord]:
    """Children sharing no family name or birth date with the cases, one in a hundred
    named ``given``: a common forename's share."""
    surnames = ("Abara", "Brookes", "Chadha", "Dimitrov", "Egan", "Fofana", "Gallo", "Hussain")
    return [
        child_record(
            f"N{n}",
            given if n % 100 == 0 else f"Other{chr(65 + n % 26)}{chr(65 + n // 26 % 26)}",
            surnames[n % len(surnames)],
            date(2008, 1, 1) + timedelta(days=(37 * n) % 3000),
        )
        for n in range(count)
    ]


def _answer(record: ChildRecord, **asked: object) -> MatchStatus:
    forename = record.given_names[0]
    index = MemoryChildIndex([record, *_namesakes(forename)])
    subject = Subject.create(**{"birth_date": BORN, **asked})  # type: ignore[arg-type]
    result = find(subject, index=index)
    assert result.status != "known" or result.record == record
    return result.status


def test_an_exact_forename_is_not_reread_as_a_swap() -> None:
    # joshua dolan, asked about the child recorded as joshua cupo
    names = compare_names(Names.of(["joshua"], "dolan", ()), Names.of(["joshua"], "cupo", ()))
    assert (names.given, names.swapped) == (1.0, False)


def test_a_real_swap_is_still_read_as_one() -> None:
    names = compare_names(Names.of(["Okafor"], "William", ()), Names.of(["William"], "Okafor", ()))
    assert (names.given, names.family, names.swapped) == (1.0, 1.0, True)


def test_a_replaced_surname_with_exact_forename_and_birth_date_is_at_least_ambiguous() -> None:
    record = child_record("R1", "Joshua", "Cupo", BORN)
    assert _answer(record, given_names=["joshua"], family_name="dolan") in ("ambiguous", "known")


def test_two_slips_in_a_short_forename_are_found() -> None:
    record = child_record("R1", "Kyle", "Pendlebury", BORN)
    assert _answer(record, given_names=["kylwc"], family_name="pendlebury") == "known"


@pytest.mark.parametrize(
    ("asked", "held"),
    [
        ({"given_names": ["ja cob"], "family_name": "Whitfield"}, ("Jacob", "Whitfield")),
        ({"given_names": ["Jacob"], "family_name": "j ollo"}, ("Jacob", "Jollo")),
        ({"given_names": ["Mary Ann"], "family_name": "Teague"}, ("Maryann", "Teague")),
    ],
)
def test_a_name_split_or_joined_by_a_space_is_found(
    asked: dict[str, object], held: tuple[str, str]
) -> None:
    record = child_record("R1", *held, BORN)
    assert _answer(record, **asked) == "known"


def test_a_name_split_in_the_record_is_found_by_its_joined_form() -> None:
    record = replace(child_record("R1", "Ja Cob", "Whitfield", BORN), local_id=LocalId("R2"))
    assert _answer(record, given_names=["Jacob"], family_name="Whitfield") == "known"


def test_two_different_short_names_are_not_two_slips() -> None:
    record = child_record("R1", "Kate", "Pendlebury", BORN)
    assert _answer(record, given_names=["Kyle"], family_name="Pendlebury") != "known"


def test_a_swap_with_one_name_replaced_is_still_read_as_a_swap() -> None:
    # white jasmine, asked about the child recorded as jacqueline white
    names = compare_names(Names.of(["white"], "jasmine", ()), Names.of(["jacqueline"], "white", ()))
    assert (names.family, names.swapped) == (1.0, True)


def test_a_replaced_forename_with_every_other_trait_agreeing_is_ambiguous_never_known() -> None:
    # lauren white at the address of kyle white, same birth date: a replaced
    # forename, or a twin not in the index; never the other twin's record
    record = replace(
        child_record("R1", "Kyle", "Whitcombe", BORN, postcode="NW1 8AJ"),
        address="52 Renmark Street, Kogarah",
    )
    status = _answer(
        record,
        given_names=["Lauren"],
        family_name="Whitcombe",
        postcode="NW1 8AJ",
        address="52 renmark street, kogarah",
    )
    assert status == "ambiguous"
