"""Matching end to end: each forgiven error on a small index, then a smoke test at scale."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.index.memory import MemoryChildIndex
from adapters.index.model import ChildRecord, Subject
from adapters.index.replace import import_exports
from adapters.index.sqlite import SqliteChildIndex
from adapters.matching.matcher import find
from adapters.synthetic import corrupted_queries, generate_children, generate_involvements
from adapters.synthetic.csvfiles import write_csv
from tests.support.children import child_record


def _child(
    local_id: str, given: str, family: str, born: date, postcode: str, **more: Any
) -> ChildRecord:
    return child_record(local_id, given, family, born, postcode=postcode, **more)


WILLIAM = _child("W", "William", "Okonkwo", date(2014, 3, 18), "SE15 4QS")
AMARA = _child("A", "Amara", "Okafor-Mensah", date(2015, 3, 4), "SW9 8AB", sex="female")
KWAME = _child("K", "Kwame", "Asante", date(2011, 6, 21), "E17 3AA", other_names=("Boateng",))
NOAH_PECKHAM = _child("N1", "Noah", "Smith", date(2015, 3, 4), "SE15 4QS")
NOAH_ISLINGTON = _child("N2", "Noah", "Smith", date(2015, 3, 7), "N1 1AA")
# Near neighbours that must not be taken for the children above.
SIBLING = _child("W2", "Chidi", "Okonkwo", date(2016, 9, 1), "SE15 4QS")
COUSIN = _child("A2", "Adaeze", "Okafor", date(2015, 4, 3), "SW9 8AB", sex="female")
INDEX = MemoryChildIndex([WILLIAM, AMARA, KWAME, NOAH_PECKHAM, NOAH_ISLINGTON, SIBLING, COUSIN])


def _query(given: str, family: str, born: date, **more: object) -> Subject:
    return Subject.create(given_names=[given], family_name=family, birth_date=born, **more)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "subject", "expected"),
    [
        ("exact", _query("William", "Okonkwo", date(2014, 3, 18)), WILLIAM),
        ("nickname", _query("Bill", "Okonkwo", date(2014, 3, 18)), WILLIAM),
        ("swap", _query("Okonkwo", "William", date(2014, 3, 18)), WILLIAM),
        ("typo", _query("William", "Okonkow", date(2014, 3, 18)), WILLIAM),
        ("day-month swap", _query("Amara", "Okafor-Mensah", date(2015, 4, 3)), AMARA),
        ("year out", _query("William", "Okonkwo", date(2013, 3, 18)), WILLIAM),
        ("digit typo", _query("William", "Okonkwo", date(2014, 8, 18)), WILLIAM),
        ("hyphen part", _query("Amara", "Mensah", date(2015, 3, 4)), AMARA),
        ("former name", _query("Kwame", "Boateng", date(2011, 6, 21)), KWAME),
        ("moved", _query("Kwame", "Asante", date(2011, 6, 21), postcode="CR0 1AA"), KWAME),
    ],
)
def test_forgiven_errors_still_find_the_child(
    case: str, subject: Subject, expected: ChildRecord
) -> None:
    result = find(subject, index=INDEX)
    assert (case, result.status, result.record) == (case, "known", expected)


def test_postcode_sector_decides_between_same_named_children() -> None:
    between = _query("Noah", "Smith", date(2015, 3, 5))
    assert find(between, index=INDEX).status == "ambiguous"
    nearby = _query("Noah", "Smith", date(2015, 3, 5), postcode="SE15 4ZZ")
    assert find(nearby, index=INDEX).record == NOAH_PECKHAM


def test_a_brother_is_not_taken_for_the_child() -> None:
    """Same family name and address, and here even the same birth date: only the name differs."""
    brother = _query("Chidi", "Okonkwo", date(2014, 3, 18), postcode="SE15 4QS", sex="male")
    assert find(brother, index=INDEX).status != "known"


def test_a_twin_missing_from_the_index_is_not_taken_for_the_other() -> None:
    only_one_twin = MemoryChildIndex([WILLIAM])
    twin = _query("Malachi", "Okonkwo", date(2014, 3, 18), postcode="SE15 4QS", sex="male")
    assert find(twin, index=only_one_twin).status != "known"


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[SqliteChildIndex, list[ChildRecord]]:
    children = generate_children("E09000022", 5000, seed=11)
    directory: Path = tmp_path_factory.mktemp("smoke")
    paths = write_csv(directory, children, generate_involvements(children, seed=11))
    import_exports(directory / "index.sqlite", *paths, now=datetime(2026, 12, 1, tzinfo=UTC))
    return SqliteChildIndex(directory / "index.sqlite"), children


def test_precision_and_recall_on_generated_queries(
    generated: tuple[SqliteChildIndex, list[ChildRecord]],
) -> None:
    """A smoke test; bench/matching.py measures properly on 100,000 children."""
    index, children = generated
    found = wrong = present = 0
    for subject, expected in corrupted_queries(children, 500, seed=12):
        result = find(subject, index=index)
        present += expected is not None
        if result.status == "known":
            assert result.record is not None
            if result.record.local_id == expected:
                found += 1
            else:
                wrong += 1
    assert found / present >= 0.9
    assert found / (found + wrong) >= 0.98
    index.close()
