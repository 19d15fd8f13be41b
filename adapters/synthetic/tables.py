"""The data files synthetic records are drawn from, loaded once.

- ``given_names.csv`` (name, sex, origin) and ``family_names.csv`` (name,
  origin): names common among London's children by heritage, British, Irish,
  South Asian, West African, Caribbean, Somali, Eastern European, Turkish,
  Chinese and Arabic, each list roughly in order of popularity;
- ``boroughs.csv``: what the generator needs of each authority beyond the
  one list (``hub.authority_list``), keyed by GSS code and checked against
  it: the DfE LA number (the first three digits of a UPN's school part), a
  slug for e-mail domains, and the postcode districts that lie mostly
  within it; the name is the list's;
- ``services.csv``: services by agency type, with their data category, the
  practitioner's role and a relative frequency;
- ``streets.txt`` and ``estates.txt``: street and block names for addresses.

Every file is validated as it is loaded; a broken file is ``InternalError``.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from hub.authorities import AUTHORITY_NAMES
from hub.errors import InternalError
from hub.identifiers import AGENCY_TYPES, ALL_AUTHORITIES, DATA_CATEGORIES, AuthorityCode

__all__ = [
    "ORIGINS",
    "Borough",
    "Service",
    "borough",
    "estates",
    "family_names",
    "given_names",
    "services",
    "streets",
]

ORIGINS: Final = (
    "british",
    "irish",
    "south-asian",
    "west-african",
    "caribbean",
    "somali",
    "eastern-european",
    "turkish",
    "chinese",
    "arabic",
)
_PACKAGE: Final = "adapters.synthetic.data"


@dataclass(frozen=True, slots=True)
class Borough:
    """One London authority as the generator needs it."""

    code: AuthorityCode
    name: str
    """The authority's name in the one list."""
    dfe_la: str
    slug: str
    districts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Service:
    """A service an involvement can be with."""

    agency: str
    name: str
    category: str
    role: str
    weight: int
    min_age: int
    max_age: int
    """Ages in whole years the service works with, inclusive."""


def given_names(origin: str, sex: str) -> tuple[str, ...]:
    """Given names of one heritage and sex (``female`` or ``male``), most popular first."""
    return _given()[(origin, sex)]


def family_names(origin: str) -> tuple[str, ...]:
    """Family names of one heritage, most common first."""
    return _family()[origin]


@cache
def borough(code: AuthorityCode) -> Borough:
    """The borough with GSS code ``code``."""
    return _boroughs()[code]


@cache
def services() -> tuple[Service, ...]:
    """Every service in ``services.csv``."""
    found = []
    header = ["agency", "service", "category", "role", "weight", "min_age", "max_age"]
    for row in _rows("services.csv", header):
        agency, name, category, role, weight, min_age, max_age = row
        if agency not in AGENCY_TYPES or category not in DATA_CATEGORIES:
            raise InternalError(f"services.csv: unknown agency or category in {row}")
        found.append(Service(agency, name, category, role, int(weight), int(min_age), int(max_age)))
    return tuple(found)


@cache
def streets() -> tuple[str, ...]:
    """Street names."""
    return _lines("streets.txt")


@cache
def estates() -> tuple[str, ...]:
    """Names of blocks of flats."""
    return _lines("estates.txt")


@cache
def _given() -> dict[tuple[str, str], tuple[str, ...]]:
    table: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for name, sex, origin in _rows("given_names.csv", ["name", "sex", "origin"]):
        if origin not in ORIGINS or sex not in ("female", "male"):
            raise InternalError(f"given_names.csv: bad origin or sex for {name}")
        table[(origin, sex)].append(name)
    return {key: tuple(names) for key, names in table.items()}


@cache
def _family() -> dict[str, tuple[str, ...]]:
    table: defaultdict[str, list[str]] = defaultdict(list)
    for name, origin in _rows("family_names.csv", ["name", "origin"]):
        if origin not in ORIGINS:
            raise InternalError(f"family_names.csv: bad origin for {name}")
        table[origin].append(name)
    return {key: tuple(names) for key, names in table.items()}


@cache
def _boroughs() -> dict[AuthorityCode, Borough]:
    table: dict[AuthorityCode, Borough] = {}
    for code, dfe_la, slug, districts in _rows(
        "boroughs.csv", ["gss_code", "dfe_la", "slug", "districts"]
    ):
        authority = AuthorityCode(code)
        if authority not in ALL_AUTHORITIES or authority in table:
            raise InternalError(f"boroughs.csv: {code} is not a listed authority or is repeated")
        name = AUTHORITY_NAMES[authority]
        table[authority] = Borough(authority, name, dfe_la, slug, tuple(districts.split()))
    missing = [code for code in ALL_AUTHORITIES if code not in table]
    if missing:
        raise InternalError(f"boroughs.csv: no row for {', '.join(missing)}")
    return table


def _rows(name: str, header: list[str]) -> list[list[str]]:
    rows = list(csv.reader(_text(name).splitlines()))
    if not rows or rows[0] != header:
        raise InternalError(f"{name} must start with the header {','.join(header)}")
    return rows[1:]


def _lines(name: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in _text(name).splitlines() if line.strip())


def _text(name: str) -> str:
    return resources.files(_PACKAGE).joinpath(name).read_text("utf-8")
