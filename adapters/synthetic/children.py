"""Synthetic London children and their involvements, reproducible from a seed.

Records look like a borough's index: names drawn by heritage with realistic
repetition (popular names far more often than rare ones), some middle names,
double-barrelled and former family names; ages 0 to 17 on ``as_of``;
postcodes in the borough's own districts; NHS numbers in the test range
(starting with 9, valid modulus 11 check digit); UPNs with the borough's DfE
LA number and a valid check letter for school-age children. Children come in
households: some have brothers and sisters at the same address, and some
are twins (same family name, birth date and address), so matching meets the
hard cases of a real index.

None of this is real data: the names are common ones combined at random, the
phone numbers are Ofcom's drama range (020 7946 0xxx), and e-mail domains end
in ``.example`` (RFC 2606).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from itertools import accumulate
from typing import Final

from adapters.index.fields import LocalId, Sex
from adapters.index.model import ChildRecord, Involvement
from adapters.synthetic import tables
from hub.errors import SchemaInvalid
from hub.identifiers import nhs_check_digit, parse_authority, upn_check_letter

__all__ = [
    "MAX_CHILDREN",
    "REFERENCE_DATE",
    "generate_children",
    "generate_involvements",
    "random_postcode",
]

REFERENCE_DATE: Final = date(2026, 9, 1)
"""Ages are counted on this day unless told otherwise, so a seed gives the
same records whatever the date of the run."""
MAX_CHILDREN: Final = 1_000_000
"""Largest count generated at once: ten times a London borough's children."""

_ORIGIN_WEIGHTS: Final = (38, 3, 17, 10, 7, 4, 9, 4, 3, 5)
"""Rough shares of London's children by heritage, in ``tables.ORIGINS`` order."""
_POSTCODE_LETTERS: Final = "ABDEFGHJLNPQRSTUWXYZ"
_TWIN_SHARE: Final = 0.015
_SIBLING_SHARE: Final = 0.2
_MIDDLE_NAME_SHARE: Final = 0.25
_HYPHENATED_SHARE: Final = 0.04
_FORMER_NAME_SHARE: Final = 0.05
_NHS_SHARE: Final = 0.97
_UPN_SHARE: Final = 0.85
_SCHOOL_AGE: Final = 4
_GIVEN_SKEW: Final = 0.6
_FAMILY_SKEW: Final = 0.35
"""Zipf exponents chosen so the commonest given name is about 2% and the
commonest family name about 1.5% of children, near London's real shares;
steeper skews would make same-name children unrealistically common."""


def generate_children(
    authority: str, count: int, seed: int, *, as_of: date = REFERENCE_DATE
) -> list[ChildRecord]:
    """``count`` synthetic children of one borough, the same for the same arguments.

    Raises ``SchemaInvalid`` for an unknown authority or a count outside
    0..``MAX_CHILDREN``.
    """
    code = parse_authority(authority)
    if code == "HUB":
        raise SchemaInvalid("the hub has no children's index; name a borough")
    if not 0 <= count <= MAX_CHILDREN:
        raise SchemaInvalid(f"count must be between 0 and {MAX_CHILDREN}")
    maker = _Maker(tables.borough(code), random.Random(seed), as_of)  # noqa: S311 - test data
    children: list[ChildRecord] = []
    while len(children) < count:
        children.extend(maker.household())
    return children[:count]


def generate_involvements(
    children: Sequence[ChildRecord],
    seed: int,
    *,
    as_of: date = REFERENCE_DATE,
    authority: str | None = None,
) -> list[Involvement]:
    """One to three involvements per child, with services suited to the child's age.

    Practitioners' e-mail addresses use the borough's slug when ``authority``
    is given. Raises ``SchemaInvalid`` for an unknown authority.
    """
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    domain = "irt.example"
    if authority is not None:
        domain = f"{tables.borough(parse_authority(authority)).slug}.example"
    involvements: list[Involvement] = []
    for child in children:
        # A child with no recorded birth date is offered every service.
        age = 0 if child.birth_date is None else _age(child.birth_date, as_of)
        suitable, weights = _services_for(min(max(age, 0), 17))
        for service in rng.choices(suitable, cum_weights=weights, k=_count(rng)):
            involvements.append(_involvement(rng, child, service, as_of, domain))
    return involvements


def random_postcode(rng: random.Random, districts: Sequence[str]) -> str:
    """A plausible postcode in one of ``districts``: ``SW9 8QJ``."""
    letters = rng.choices(_POSTCODE_LETTERS, k=2)
    return f"{rng.choice(districts)} {rng.randrange(10)}{letters[0]}{letters[1]}"


@dataclass(frozen=True, slots=True)
class _Household:
    origin: str
    family_name: str
    postcode: str
    address: str


class _Maker:
    """Draws households for one borough; remembers identifiers to keep them unique."""

    def __init__(self, borough: tables.Borough, rng: random.Random, as_of: date) -> None:
        self._borough = borough
        self._rng = rng
        self._as_of = as_of
        self._serial = 0
        self._nhs_numbers: set[str] = set()
        self._upns: set[str] = set()

    def household(self) -> list[ChildRecord]:
        rng = self._rng
        origin = rng.choices(tables.ORIGINS, _ORIGIN_WEIGHTS)[0]
        family = _pick(rng, tables.family_names(origin), _FAMILY_SKEW)
        if rng.random() < _HYPHENATED_SHARE:
            other = _pick(rng, tables.family_names(rng.choice(tables.ORIGINS)), _FAMILY_SKEW)
            if other != family:
                family = f"{family}-{other}"
        postcode = random_postcode(rng, self._borough.districts)
        home = _Household(origin, family, postcode, self._address())
        born = self._birth_date()
        first = self.child(home, born)
        children = [first]
        if rng.random() < _TWIN_SHARE:
            children.append(self.child(home, born, avoid=first.given_names[0]))
        elif rng.random() < _SIBLING_SHARE:
            for _ in range(rng.randint(1, 2)):
                children.append(self.child(home, self._birth_date()))
        return children

    def child(self, home: _Household, born: date, avoid: str | None = None) -> ChildRecord:
        rng = self._rng
        sex: Sex = rng.choice(("female", "male"))
        origin = home.origin if rng.random() < 0.9 else "british"
        given = _pick(rng, tables.given_names(origin, sex))
        while given == avoid:
            given = _pick(rng, tables.given_names(origin, sex))
        names = [given]
        if rng.random() < _MIDDLE_NAME_SHARE:
            middle = _pick(rng, tables.given_names(home.origin, sex))
            if middle != given:
                names.append(middle)
        other: tuple[str, ...] = ()
        if rng.random() < _FORMER_NAME_SHARE:
            former = _pick(rng, tables.family_names(rng.choice(tables.ORIGINS)), _FAMILY_SKEW)
            if former != home.family_name:
                other = (former,)
        self._serial += 1
        age = _age(born, self._as_of)
        return ChildRecord(
            local_id=LocalId(f"C{self._borough.dfe_la}{self._serial:07d}"),
            given_names=tuple(names),
            family_name=home.family_name,
            other_names=other,
            birth_date=born,
            sex=sex,
            postcode=home.postcode,
            address=home.address,
            nhs_number=self._nhs_number() if rng.random() < _NHS_SHARE else None,
            upn=self._upn(born) if age >= _SCHOOL_AGE and rng.random() < _UPN_SHARE else None,
        )

    def _birth_date(self) -> date:
        # Ages 0-17: strictly after the day eighteen years before ``as_of``.
        span = (self._as_of - _years_before(self._as_of, 18)).days
        return self._as_of - timedelta(days=self._rng.randrange(span - 1))

    def _address(self) -> str:
        rng = self._rng
        street = rng.choice(tables.streets())
        if rng.random() < 0.4:
            return f"Flat {rng.randint(1, 60)}, {rng.choice(tables.estates())}, {street}"
        return f"{rng.randint(1, 240)} {street}"

    def _nhs_number(self) -> str:
        while True:
            first_nine = f"9{self._rng.randrange(10**8):08d}"
            check = nhs_check_digit(first_nine)
            number = f"{first_nine}{check}"
            if check is not None and number not in self._nhs_numbers:
                self._nhs_numbers.add(number)
                return number

    def _upn(self, born: date) -> str:
        rng = self._rng
        while True:
            school = rng.choice((rng.randint(2000, 2999), rng.randint(4000, 4999)))
            entry_year = (born.year + _SCHOOL_AGE) % 100
            body = f"{self._borough.dfe_la}{school}{entry_year:02d}{rng.randrange(1000):03d}"
            upn = upn_check_letter(body) + body
            if upn not in self._upns:
                self._upns.add(upn)
                return upn


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _years_before(day: date, years: int) -> date:
    # 29 February falls back to 28 February in a year without it.
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _pick(rng: random.Random, names: tuple[str, ...], skew: float = _GIVEN_SKEW) -> str:
    return rng.choices(names, cum_weights=_popularity(len(names), skew))[0]


@cache
def _popularity(size: int, skew: float) -> list[float]:
    """Cumulative Zipf weights: the first name of a list is the most common."""
    return list(accumulate(rank**-skew for rank in range(1, size + 1)))


@cache
def _services_for(age: int) -> tuple[list[tables.Service], list[int]]:
    suitable = [s for s in tables.services() if s.min_age <= age <= s.max_age]
    return suitable, list(accumulate(s.weight for s in suitable))


def _count(rng: random.Random) -> int:
    return rng.choices((1, 2, 3), (60, 30, 10))[0]


def _involvement(
    rng: random.Random, child: ChildRecord, service: tables.Service, as_of: date, domain: str
) -> Involvement:
    earliest = max(child.birth_date or as_of, as_of - timedelta(days=3 * 365))
    start = earliest + timedelta(days=rng.randrange(max(1, (as_of - earliest).days)))
    is_open = rng.random() < 0.45
    end = None if is_open else start + timedelta(days=rng.randrange(max(1, (as_of - start).days)))
    origin = rng.choice(tables.ORIGINS)
    first = _pick(rng, tables.given_names(origin, rng.choice(("female", "male"))))
    last = _pick(rng, tables.family_names(origin), _FAMILY_SKEW)
    mailbox = f"{first}.{last}".lower().replace("'", "").replace("-", "")
    return Involvement(
        local_id=child.local_id,
        agency=service.agency,
        service=service.name,
        category=service.category,
        status="open" if is_open else "closed",
        start_date=start,
        end_date=end,
        lead_professional=is_open and rng.random() < 0.25,
        caf=rng.random() < (0.2 if service.agency == "early-help" else 0.05),
        practitioner_name=f"{first} {last}",
        practitioner_role=service.role,
        practitioner_phone=f"020 7946 0{rng.randrange(1000):03d}",
        practitioner_email=f"{mailbox}@{domain}",
    )
