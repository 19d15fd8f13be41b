"""Does a referral meet a service's published criteria? (SPEC §6 Referral)

The hub checks, in this order, and the first failure decides:

(1) ``open``: the service takes referrals now (``Capacity/Open``);
(2) ``residence``: the child's authority of residence is within the
    service's ``Geography`` and, when given, its ``ResidenceRequired`` list;
(3) ``age``: the child's age today lies in ``AgeRange``; with a birth-date
    range every age the range allows must lie in it, and a referral without
    any birth date cannot be checked, so it fails (fail closed);
(4) ``concern-level``: the referral's level is one the service takes;
(5) ``categories``: every category the referral is about is one the service
    works with, so sensitive information only goes where it is handled;
(6) ``consent``: a service that requires consent gets only referrals with
    consent ``given``.

The free-text ``Criteria`` are for the practitioners; the hub cannot judge
them and leaves them to the receiving service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from hub.identifiers import AuthorityCode
from hub.services.catalogue import Service

__all__ = ["ELIGIBILITY_RULES", "Ineligible", "ReferralFacts", "age_on", "check_eligibility"]

ELIGIBILITY_RULES: Final = ("open", "residence", "age", "concern-level", "categories", "consent")
"""The rule names a refusal cites, as ``eligibility:<rule>``."""


@dataclass(frozen=True, slots=True)
class ReferralFacts:
    """What the hub reads from a referral to check a service's criteria."""

    residence: AuthorityCode
    """The child's authority of residence (the referring authority; see docs)."""
    concern_level: int
    categories: frozenset[str]
    consent: str
    birth_date: date | None = None
    birth_range: tuple[date, date] | None = None
    """Earliest and latest possible birth date when only a range is known."""


@dataclass(frozen=True, slots=True)
class Ineligible:
    """Why a referral does not meet a service's criteria."""

    rule: str
    """One of ``ELIGIBILITY_RULES``."""
    reason: str

    @property
    def rule_id(self) -> str:
        """The rule as cited in a refusal: ``eligibility:<rule>``."""
        return f"eligibility:{self.rule}"


def age_on(birth: date, today: date) -> int:
    """Whole years from ``birth`` to ``today`` (a 29 February birthday counts from 1 March)."""
    before_birthday = (today.month, today.day) < (birth.month, birth.day)
    return today.year - birth.year - int(before_birthday)


def check_eligibility(service: Service, facts: ReferralFacts, *, today: date) -> Ineligible | None:
    """The first criterion ``facts`` fail for ``service``, or ``None`` when eligible."""
    return _where(service, facts) or _what(service, facts, today)


def _where(service: Service, facts: ReferralFacts) -> Ineligible | None:
    if not service.open:  # (1)
        return Ineligible("open", f"{service.name} is not taking referrals at present")
    if not service.serves_resident_of(facts.residence):  # (2)
        return Ineligible(
            "residence",
            f"{service.name} does not take children resident in {facts.residence}",
        )
    return None


def _what(service: Service, facts: ReferralFacts, today: date) -> Ineligible | None:
    ages = _possible_ages(facts, today)  # (3)
    span = f"ages {service.min_age} to {service.max_age}"
    if ages is None:
        return Ineligible(
            "age", f"the referral gives no birth date, and {service.name} takes only {span}"
        )
    youngest, oldest = ages
    if youngest < service.min_age or oldest > service.max_age:
        age = str(youngest) if youngest == oldest else f"{youngest} to {oldest}"
        return Ineligible("age", f"the child is {age}, and {service.name} takes only {span}")
    if facts.concern_level not in service.concern_levels:  # (4)
        levels = " or ".join(str(level) for level in sorted(service.concern_levels))
        return Ineligible(
            "concern-level",
            f"{service.name} takes concern level {levels}, not {facts.concern_level}",
        )
    outside = sorted(facts.categories - service.categories)  # (5)
    if outside:
        return Ineligible(
            "categories",
            f"{service.name} does not work with {', '.join(outside)} "
            f"(it works with {', '.join(sorted(service.categories))})",
        )
    if service.consent_required and facts.consent != "given":  # (6)
        return Ineligible(
            "consent", f"{service.name} requires the family's consent; consent is {facts.consent}"
        )
    return None


def _possible_ages(facts: ReferralFacts, today: date) -> tuple[int, int] | None:
    if facts.birth_date is not None:
        age = age_on(facts.birth_date, today)
        return age, age
    if facts.birth_range is not None:
        earliest, latest = facts.birth_range
        return age_on(latest, today), age_on(earliest, today)
    return None
