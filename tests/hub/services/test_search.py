"""Searching catalogues: each criterion, fuzzy text, ranking, staleness, the result body."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.synthetic.catalogues import demo_catalogue
from hub.identifiers import ALL_AUTHORITIES, AuthorityCode
from hub.schemas import default_registry
from hub.services.catalogue import Catalogue, parse_catalogue
from hub.services.search import TEXT_THRESHOLD, ServiceQuery, result_body, search

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
LAMBETH = AuthorityCode("E09000022")
SUTTON = AuthorityCode("E09000029")


@pytest.fixture(scope="module")
def london() -> list[Catalogue]:
    return [
        parse_catalogue(demo_catalogue(code, published=NOW - timedelta(days=1)), sender=code)
        for code in ALL_AUTHORITIES
    ]


def test_every_criterion_holds_for_every_match(london: list[Catalogue]) -> None:
    query = ServiceQuery(
        types=frozenset({"camhs", "domestic-abuse"}),
        age=9,
        categories=frozenset({"mental-health", "domestic-abuse"}),
        concern_level=2,
        authority=LAMBETH,
        max_results=100,
    )
    matches = search(london, query, now=NOW, stale_after=WEEK)
    assert matches
    for match in matches:
        service = match.service
        assert service.type in query.types
        assert service.min_age <= 9 <= service.max_age
        assert service.categories & query.categories
        assert 2 in service.concern_levels
        assert service.serves_resident_of(LAMBETH)
        assert match.score == 1.0
    assert {m.service.authority for m in matches} > {LAMBETH}  # across the border too


def test_a_service_outside_the_childs_borough_is_not_found(london: list[Catalogue]) -> None:
    query = ServiceQuery(types=frozenset({"family-support"}), authority=SUTTON, max_results=100)
    matches = search(london, query, now=NOW, stale_after=WEEK)
    assert [m.service.authority for m in matches] == [SUTTON]


def test_home_borough_first_then_shorter_waits(london: list[Catalogue]) -> None:
    matches = search(
        london,
        ServiceQuery(types=frozenset({"youth-service"}), authority=LAMBETH, max_results=100),
        now=NOW,
        stale_after=WEEK,
    )
    assert len(matches) == 33  # open to all London
    open_ones = [m for m in matches if m.service.open]
    assert open_ones[0].service.authority == LAMBETH
    waits = [m.service.waiting_weeks or 0 for m in open_ones[1:]]
    assert waits == sorted(waits)


@pytest.mark.parametrize(
    ("text", "expected_type"),
    [
        ("young carers", "young-carers"),
        ("self harm", "camhs"),
        ("self harn", "camhs"),
        ("drugs", "substance-misuse"),
        ("sexual health", "sexual-health"),
    ],
)
def test_free_text_finds_the_right_kind_of_service(
    london: list[Catalogue], text: str, expected_type: str
) -> None:
    matches = search(london, ServiceQuery(text=text), now=NOW, stale_after=WEEK)
    assert matches
    assert matches[0].service.type == expected_type
    assert all(m.score >= TEXT_THRESHOLD for m in matches)
    if text == "sexual health":  # "sexual" is not "severe": CAMHS is not listed
        assert {m.service.type for m in matches} == {"sexual-health"}
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_unrelated_text_finds_nothing(london: list[Catalogue]) -> None:
    assert search(london, ServiceQuery(text="xylophone"), now=NOW, stale_after=WEEK) == []


def test_old_catalogues_are_flagged_stale_and_ranked_after_fresh(
    london: list[Catalogue],
) -> None:
    old = [
        Catalogue(c.authority, NOW - timedelta(days=30), c.services)
        if c.authority == LAMBETH
        else c
        for c in london
    ]
    matches = search(
        old,
        ServiceQuery(types=frozenset({"youth-service"}), max_results=100),
        now=NOW,
        stale_after=WEEK,
    )
    stale = [m for m in matches if m.stale]
    assert [m.service.authority for m in stale] == [LAMBETH]
    assert matches[-1].stale or not matches[-1].service.open


def test_max_results_caps_the_answer(london: list[Catalogue]) -> None:
    matches = search(london, ServiceQuery(max_results=5), now=NOW, stale_after=WEEK)
    assert len(matches) == 5


def test_query_and_result_bodies_are_schema_valid(london: list[Catalogue]) -> None:
    query = ServiceQuery(
        types=frozenset({"camhs"}), age=12, categories=frozenset({"mental-health"}),
        concern_level=2, authority=LAMBETH, text="self-harm", max_results=10,
    )  # fmt: skip
    registry = default_registry()
    registry.validate(query.body())
    assert ServiceQuery.from_element(query.body()) == query
    body = result_body(search(london, query, now=NOW, stale_after=WEEK))
    registry.validate(body)
    assert body.findall("{urn:lcpc:irt:directory:1}Match")
