"""Corrupted queries: valid subjects, reproducible, about indexed children or strangers."""

from __future__ import annotations

from collections import Counter

import pytest

from adapters.synthetic import corrupted_queries, generate_children
from adapters.synthetic.queries import ABSENT_SHARE
from hub.errors import SchemaInvalid

CHILDREN = generate_children("E09000028", 2000, seed=4)
BY_ID = {c.local_id: c for c in CHILDREN}
QUERIES = corrupted_queries(CHILDREN, 400, seed=9)


def test_queries_are_reproducible() -> None:
    assert corrupted_queries(CHILDREN, 400, seed=9) == QUERIES
    assert corrupted_queries(CHILDREN, 400, seed=10) != QUERIES


def test_the_expected_children_exist_and_strangers_are_a_fifth() -> None:
    absent = sum(expected is None for _, expected in QUERIES)
    assert absent == round(len(QUERIES) * ABSENT_SHARE)
    assert all(expected in BY_ID for _, expected in QUERIES if expected is not None)


def test_strangers_hold_no_identifier_of_an_indexed_child() -> None:
    identifiers = {c.nhs_number for c in CHILDREN} | {c.upn for c in CHILDREN}
    strangers = [subject for subject, expected in QUERIES if expected is None]
    assert any(s.nhs_number is not None for s in strangers)
    for subject in strangers:
        assert subject.nhs_number is None or subject.nhs_number not in identifiers
        assert subject.upn is None or subject.upn not in identifiers


def test_queries_carry_errors_of_every_kind() -> None:
    changed: Counter[str] = Counter()
    for subject, expected in QUERIES:
        if expected is None:
            continue
        child = BY_ID[expected]
        changed["given"] += subject.given_names[0] != child.given_names[0]
        changed["family"] += subject.family_name != child.family_name
        changed["swap"] += subject.family_name == child.given_names[0]
        changed["birth"] += subject.birth_date not in (None, child.birth_date)
        changed["range"] += subject.birth_range is not None
        changed["identifier"] += subject.nhs_number is not None or subject.upn is not None
    assert all(
        changed[kind] > 5 for kind in ("given", "family", "swap", "birth", "range", "identifier")
    )
    assert changed["family"] < len(QUERIES) / 2


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(SchemaInvalid, match="n must be between 0 and"):
        corrupted_queries(CHILDREN, -1, seed=1)
    with pytest.raises(SchemaInvalid, match="need at least one child"):
        corrupted_queries([], 10, seed=1)
