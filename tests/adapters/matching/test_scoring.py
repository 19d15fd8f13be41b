"""Scoring: each trait adds evidence for or against, identifiers above all."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Unpack

import pytest

from adapters.index.fields import LocalId
from adapters.index.frequency import NameFrequencies
from adapters.index.model import ChildRecord, Subject
from adapters.matching.scoring import (
    NHS_MISMATCH,
    Query,
    birth_date_agreement,
    score,
)
from tests.support.subjects import SubjectFields

RECORD = ChildRecord(
    local_id=LocalId("C1"),
    given_names=("William",),
    family_name="Okafor",
    other_names=(),
    birth_date=date(2015, 3, 14),
    sex="male",
    postcode="SE15 4QS",
    address="12 Rye Lane",
    nhs_number="9434765919",
    upn=None,
)


def _subject(**changes: Unpack[SubjectFields]) -> Subject:
    arguments: SubjectFields = {
        "given_names": ["William"],
        "family_name": "Okafor",
        "birth_date": date(2015, 3, 14),
    }
    arguments.update(changes)
    return Subject.create(**arguments)


def _total(subject: Subject, record: ChildRecord = RECORD) -> float:
    return score(Query.of(subject), record).total


def _points(subject: Subject, trait: str) -> float:
    return sum(e.points for e in score(Query.of(subject), RECORD).evidence if e.trait == trait)


@pytest.mark.parametrize(
    ("asked", "agreement"),
    [
        (date(2015, 3, 14), "exact"),
        (date(2015, 3, 15), "one-digit"),
        (date(2016, 3, 14), "year-out"),
        (date(2019, 3, 14), "one-digit"),
        (date(2015, 4, 15), "two-digits"),
        (date(2011, 9, 1), "different"),
    ],
)
def test_birth_date_agreement(asked: date, agreement: str) -> None:
    assert birth_date_agreement(_subject(birth_date=asked), RECORD.birth_date) == agreement


def test_day_and_month_swapped() -> None:
    born_3_december = replace(RECORD, birth_date=date(2015, 12, 3))
    asked = _subject(birth_date=date(2015, 3, 12))
    assert birth_date_agreement(asked, born_3_december.birth_date) == "day-month-swap"


def test_birth_date_evidence_is_ordered() -> None:
    exact = _points(_subject(), "BirthDate")
    born_3_december = replace(RECORD, birth_date=date(2015, 12, 3))
    swapped = score(Query.of(_subject(birth_date=date(2015, 3, 12))), born_3_december)
    swap = sum(e.points for e in swapped.evidence if e.trait == "BirthDate")
    year_out = _points(_subject(birth_date=date(2014, 3, 14)), "BirthDate")
    typo = _points(_subject(birth_date=date(2015, 3, 18)), "BirthDate")
    two = _points(_subject(birth_date=date(2015, 4, 15)), "BirthDate")
    different = _points(_subject(birth_date=date(2011, 9, 1)), "BirthDate")
    assert exact > swap >= year_out > typo > 0 > two > different


def test_a_narrow_range_is_worth_more_than_a_wide_one() -> None:
    narrow = _subject(birth_date=None, birth_range=(date(2015, 3, 1), date(2015, 3, 31)))
    wide = _subject(birth_date=None, birth_range=(date(2014, 6, 1), date(2016, 6, 1)))
    outside = _subject(birth_date=None, birth_range=(date(2016, 1, 1), date(2016, 6, 1)))
    assert (
        _points(_subject(), "BirthDate")
        > _points(narrow, "BirthDate")
        > _points(wide, "BirthDate")
        > 0
    )
    assert _points(outside, "BirthDate") < 0


@pytest.mark.parametrize(
    ("postcode", "outcome"),
    [
        ("SE15 4QS", "full"),
        ("SE15 4AB", "sector"),
        ("SE15 9ZZ", "district"),
        ("N1 1AA", "different"),
    ],
)
def test_postcode_levels(postcode: str, outcome: str) -> None:
    evidence = score(Query.of(_subject(postcode=postcode)), RECORD).evidence
    assert [e.outcome for e in evidence if e.trait == "Postcode"] == [outcome]


def test_postcode_evidence_is_ordered() -> None:
    points = [
        _points(_subject(postcode=p), "Postcode")
        for p in ("SE15 4QS", "SE15 4AB", "SE15 9ZZ", "N1 1AA")
    ]
    assert points == sorted(points, reverse=True)
    assert points[-1] < 0


def test_sex_agreement_helps_a_little_and_disagreement_hurts() -> None:
    assert 0 < _points(_subject(sex="male"), "Sex") < -_points(_subject(sex="female"), "Sex")
    assert _points(_subject(), "Sex") == 0


def test_a_similar_address_helps() -> None:
    assert _points(_subject(address="12 Rye Lane"), "Address") > 0
    assert _points(_subject(address="Flat 3, Tower Court, Rye Lane"), "Address") == 0


def test_nickname_typo_and_swap_cost_little() -> None:
    exact = _total(_subject())
    for variant in (
        _subject(given_names=["Bill"]),
        _subject(family_name="Okafr"),
        _subject(given_names=["Okafor"], family_name="William"),
    ):
        assert exact - 3 < _total(variant) < exact


def test_equal_nhs_numbers_decide() -> None:
    result = score(Query.of(_subject(nhs_number="9434765919", birth_date=date(2009, 1, 1))), RECORD)
    assert result.identifier == "NHSNumber"


def test_different_nhs_numbers_are_strong_evidence_against() -> None:
    result = score(Query.of(_subject(nhs_number="9876543210")), RECORD)
    assert result.identifier is None
    assert result.total < _total(_subject()) + NHS_MISMATCH + 1


def test_agreeing_on_a_rare_name_counts_more_than_on_a_common_one() -> None:
    common = NameFrequencies(children=1000, given={"WILLIAM": 50}, family={"OKAFOR": 40})
    rare = NameFrequencies(children=1000, given={"WILLIAM": 1}, family={"OKAFOR": 1})
    assert (
        score(Query.of(_subject(), rare), RECORD).total
        > score(Query.of(_subject(), common), RECORD).total
    )
    unknown = score(Query.of(_subject(), NameFrequencies.unknown()), RECORD).total
    assert score(Query.of(_subject(), common), RECORD).total < unknown
