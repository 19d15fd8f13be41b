"""Blocking: a query meets its child's blocks despite the errors matching forgives."""

from __future__ import annotations

from datetime import date
from typing import Unpack

from adapters.index.blocking import MAX_NAME_CODES, record_keys, subject_keys
from adapters.index.fields import LocalId
from adapters.index.model import ChildRecord, Subject
from adapters.index.normalise import fold, metaphone
from tests.support.subjects import SubjectFields

CHILD = ChildRecord(
    local_id=LocalId("C1"),
    given_names=("Amara",),
    family_name="Okafor-Smith",
    other_names=(),
    birth_date=date(2015, 3, 14),
    sex="female",
    postcode="SE15 4QS",
    address=None,
    nhs_number="9434765919",
    upn=None,
)


def _shared(subject: Subject) -> set[str]:
    return set(record_keys(CHILD).block_ids() & subject_keys(subject).block_ids())


def _subject(**changes: Unpack[SubjectFields]) -> Subject:
    arguments: SubjectFields = {
        "given_names": ["Amara"],
        "family_name": "Okafor-Smith",
        "birth_date": date(2015, 3, 14),
    }
    arguments.update(changes)
    return Subject.create(**arguments)


def test_an_exact_query_shares_name_year_monthday_and_date_blocks() -> None:
    shared = _shared(_subject())
    assert "d:2015-03-14" in shared
    assert {b.split(":")[0] for b in shared} == {"y", "md", "d"}


def test_names_swapped_still_meet() -> None:
    assert any(
        b.startswith("y:2015:")
        for b in _shared(_subject(given_names=["Okafor"], family_name="Amara"))
    )


def test_a_year_out_meets_through_the_year_tolerance() -> None:
    assert any(b.startswith("y:2015:") for b in _shared(_subject(birth_date=date(2016, 3, 14))))


def test_a_wrong_decade_meets_through_month_and_day() -> None:
    shared = _shared(_subject(birth_date=date(2025, 3, 14)))
    assert shared
    assert all(b.startswith("md:0314:") for b in shared)


def test_day_and_month_swapped_meet_the_exact_date() -> None:
    subject = _subject(birth_date=date(2015, 3, 12))
    assert date(2015, 12, 3) in subject_keys(subject).birth_dates
    child_born_12_march = _subject(birth_date=date(2015, 12, 3))
    assert "d:2015-03-12" in subject_keys(child_born_12_march).block_ids()


def test_one_part_of_a_hyphenated_name_meets() -> None:
    shared = _shared(_subject(given_names=["Amarah"], family_name="Smith"))
    assert any(b.startswith("y:2015:M") for b in shared)


def test_a_range_looks_in_each_year_it_spans() -> None:
    subject = _subject(birth_date=None, birth_range=(date(2014, 11, 1), date(2015, 4, 1)))
    keys = subject_keys(subject)
    assert keys.birth_years == {2014, 2015}
    assert not keys.month_days
    assert _shared(subject)


def test_postcode_district_blocks_need_a_name_code() -> None:
    subject = Subject.create(
        given_names=["Amara"],
        family_name="Okafor",
        birth_range=(date(2001, 1, 1), date(2002, 1, 1)),
        postcode="SE15 1AA",
    )
    shared = _shared(subject)
    assert shared
    assert all(b.startswith("pd:SE15:") for b in shared)


def test_identifiers_are_blocks_of_their_own() -> None:
    shared = _shared(Subject.create(nhs_number="9434765919"))
    assert shared == {"nhs:9434765919"}


def test_a_padded_query_is_capped() -> None:
    names = (
        "Adam Brian Carl David Edward Frank George Henry Ivan Jack Kevin Liam Mark Neil Oscar Paul"
    )
    parts = names.split()
    padded = [f"{a}-{b}" for a, b in zip(parts[::2], parts[1::2], strict=True)]
    assert len({metaphone(fold(p)) for p in parts}) + 6 > MAX_NAME_CODES
    subject = Subject.create(
        given_names=["Quentin", "Robert", "Simon", "Thomas", "Victor"],
        family_name="Walter",
        other_names=padded,
        birth_date=date(2015, 1, 1),
    )
    assert len(subject_keys(subject).name_codes) == MAX_NAME_CODES
