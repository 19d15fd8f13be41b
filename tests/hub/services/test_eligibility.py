"""A referral against a service's criteria: each rule, its order and its words."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from lxml import etree

from hub.identifiers import AuthorityCode
from hub.services.catalogue import Service, parse_catalogue
from hub.services.eligibility import (
    ELIGIBILITY_RULES,
    ReferralFacts,
    age_on,
    check_eligibility,
)
from tests.support.paths import ASSETS

TODAY = date(2026, 11, 24)
LAMBETH = AuthorityCode("E09000022")


@pytest.fixture
def camhs() -> Service:
    root = etree.parse(str(ASSETS / "bodies" / "ServiceCatalogue.xml")).getroot()
    service = parse_catalogue(root, sender=AuthorityCode("E09000028")).service("swk-camhs-teen")
    assert service is not None
    return service  # ages 11-18, levels 2 3, residents of Southwark and Lambeth, consent


ELIGIBLE = ReferralFacts(
    residence=LAMBETH,
    concern_level=2,
    categories=frozenset({"involvement", "mental-health"}),
    consent="given",
    birth_date=date(2012, 3, 9),
)


def test_eligible_referral_passes(camhs: Service) -> None:
    assert check_eligibility(camhs, ELIGIBLE, today=TODAY) is None


@pytest.mark.parametrize(
    ("facts", "rule", "reason"),
    [
        (
            replace(ELIGIBLE, residence=AuthorityCode("E09000008")),
            "residence",
            "resident in E09000008",
        ),
        (replace(ELIGIBLE, birth_date=date(2018, 1, 1)), "age", "the child is 8, and"),
        (replace(ELIGIBLE, birth_date=None), "age", "gives no birth date"),
        (
            replace(ELIGIBLE, birth_date=None, birth_range=(date(2007, 1, 1), date(2012, 1, 1))),
            "age",
            "the child is 14 to 19",
        ),
        (replace(ELIGIBLE, concern_level=1), "concern-level", "takes concern level 2 or 3, not 1"),
        (
            replace(ELIGIBLE, categories=frozenset({"domestic-abuse"})),
            "categories",
            "does not work with domestic-abuse",
        ),
        (replace(ELIGIBLE, consent="refused"), "consent", "consent is refused"),
    ],
    ids=["residence", "age", "no-birth-date", "range-too-wide", "level", "category", "consent"],
)
def test_each_rule_refuses_with_its_name_and_a_plain_reason(
    camhs: Service, facts: ReferralFacts, rule: str, reason: str
) -> None:
    problem = check_eligibility(camhs, facts, today=TODAY)
    assert problem is not None
    assert problem.rule == rule
    assert problem.rule_id == f"eligibility:{rule}"
    assert reason in problem.reason
    assert rule in ELIGIBILITY_RULES


def test_a_range_within_the_ages_passes(camhs: Service) -> None:
    facts = replace(ELIGIBLE, birth_date=None, birth_range=(date(2011, 1, 1), date(2012, 6, 1)))
    assert check_eligibility(camhs, facts, today=TODAY) is None


def test_closed_service_is_refused_before_anything_else(camhs: Service) -> None:
    closed = replace(camhs, open=False)
    problem = check_eligibility(closed, replace(ELIGIBLE, concern_level=1), today=TODAY)
    assert problem is not None
    assert problem.rule == "open"
    assert "not taking referrals" in problem.reason


@pytest.mark.parametrize(
    ("birth", "today", "age"),
    [
        (date(2012, 3, 9), date(2026, 3, 8), 13),
        (date(2012, 3, 9), date(2026, 3, 9), 14),
        (date(2012, 2, 29), date(2026, 2, 28), 13),
        (date(2012, 2, 29), date(2026, 3, 1), 14),
    ],
)
def test_age_counts_whole_years(birth: date, today: date, age: int) -> None:
    assert age_on(birth, today) == age
