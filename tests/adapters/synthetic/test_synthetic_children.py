"""Synthetic children: valid identifiers, plausible London records, reproducible from a seed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.index.model import ChildRecord
from adapters.index.normalise import postcode_district
from adapters.index.replace import import_exports
from adapters.index.sqlite import SqliteChildIndex
from adapters.synthetic import generate_children, generate_involvements, write_csv
from adapters.synthetic.children import REFERENCE_DATE
from adapters.synthetic.tables import borough
from hub.errors import SchemaInvalid
from hub.identifiers import (
    AGENCY_TYPES,
    DATA_CATEGORIES,
    AuthorityCode,
    is_valid_nhs_number,
    is_valid_upn,
)

LAMBETH = "E09000022"
CHILDREN = generate_children(LAMBETH, 3000, seed=1)


def test_count_and_unique_local_ids() -> None:
    assert len(CHILDREN) == 3000
    assert len({c.local_id for c in CHILDREN}) == 3000


def test_every_nhs_number_is_valid_unique_and_in_the_test_range() -> None:
    numbers = [c.nhs_number for c in CHILDREN if c.nhs_number is not None]
    assert len(numbers) > 2800
    assert all(is_valid_nhs_number(n) and n.startswith("9") for n in numbers)
    assert len(set(numbers)) == len(numbers)


def test_every_upn_is_valid_unique_and_carries_the_la_number() -> None:
    upns = [c.upn for c in CHILDREN if c.upn is not None]
    assert len(upns) > 1500
    assert all(is_valid_upn(u) and u[1:4] == "208" for u in upns)
    assert len(set(upns)) == len(upns)


def test_ages_are_0_to_17_and_postcodes_lie_in_the_borough() -> None:
    lambeth = borough(AuthorityCode(LAMBETH))
    assert {"SE11", "SW2", "SW9"} <= set(lambeth.districts)
    for child in CHILDREN:
        assert child.birth_date is not None  # the generator always knows it
        assert (
            REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 18)
            < child.birth_date
            <= REFERENCE_DATE
        )
        assert child.postcode is not None
        assert postcode_district(child.postcode) in lambeth.districts


def test_names_are_diverse_and_repeat_realistically() -> None:
    family = Counter(c.family_name for c in CHILDREN)
    assert len(family) > 200
    assert family.most_common(1)[0][1] < 0.03 * len(CHILDREN)
    assert any("-" in (name or "") for name in family)
    assert any(c.other_names for c in CHILDREN)
    assert any(len(c.given_names) > 1 for c in CHILDREN)


def test_twins_and_same_named_children_occur() -> None:
    households = Counter((c.family_name, c.birth_date, c.address) for c in CHILDREN)
    assert any(n >= 2 for n in households.values())
    same_name_year = Counter((c.given_names[0], c.family_name, _born(c).year) for c in CHILDREN)
    assert any(n >= 2 for n in same_name_year.values())


def test_the_same_seed_gives_the_same_children_and_another_seed_others() -> None:
    assert generate_children(LAMBETH, 200, seed=1) == CHILDREN[:200]
    assert generate_children(LAMBETH, 200, seed=2) != CHILDREN[:200]
    assert generate_children(LAMBETH, 10, seed=1, as_of=date(2030, 1, 1)) != CHILDREN[:10]


def test_unknown_authority_and_bad_count_are_refused() -> None:
    with pytest.raises(SchemaInvalid, match="not a London authority code"):
        generate_children("E09000099", 10, seed=1)
    with pytest.raises(SchemaInvalid, match="the hub has no children's index"):
        generate_children("HUB", 10, seed=1)
    with pytest.raises(SchemaInvalid, match="count must be between 0 and"):
        generate_children(LAMBETH, -1, seed=1)


def test_involvements_are_valid_and_suit_the_child() -> None:
    involvements = generate_involvements(CHILDREN, seed=1, authority=LAMBETH)
    assert involvements == generate_involvements(CHILDREN, seed=1, authority=LAMBETH)
    per_child = Counter(i.local_id for i in involvements)
    assert set(per_child) == {c.local_id for c in CHILDREN}
    assert max(per_child.values()) <= 3
    born = {c.local_id: _born(c) for c in CHILDREN}
    services = Counter(i.service for i in involvements)
    assert {"CAMHS", "School nursing", "Youth offending team"} <= set(services)
    for involvement in involvements:
        assert involvement.agency in AGENCY_TYPES
        assert involvement.category in DATA_CATEGORIES
        assert involvement.start_date is not None
        assert involvement.start_date >= born[involvement.local_id]
        assert (involvement.end_date is None) == (involvement.status == "open")
        assert (involvement.practitioner_email or "").endswith("@lambeth.example")
        if involvement.service == "Youth offending team":
            assert (REFERENCE_DATE - born[involvement.local_id]).days >= 10 * 365


def test_generated_files_import_cleanly(tmp_path: Path) -> None:
    children = CHILDREN[:500]
    involvements = generate_involvements(children, seed=3)
    report = import_exports(
        tmp_path / "index.sqlite",
        *write_csv(tmp_path / "csv", children, involvements),
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert (report.children, report.involvements, report.warnings) == (500, len(involvements), ())
    with SqliteChildIndex(tmp_path / "index.sqlite") as index:
        first = children[0]
        assert index.involvements(first.local_id) == [
            i for i in involvements if i.local_id == first.local_id
        ]


def _born(child: ChildRecord) -> date:
    """The child's birth date, which the generator always writes."""
    assert child.birth_date is not None
    return child.birth_date
