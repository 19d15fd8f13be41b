"""Known-to queries with ground truth, corrupted the way real practitioners' queries are.

Each query describes either a child of the index (the expected answer is
that child's ``local_id``) or a child who is not in it (expected ``None``),
drawn from the same generator so that strangers share names, birth years
and postcodes with indexed children as real strangers do. A query gives
what a practitioner typically knows: the first given name (sometimes all),
the family name, the birth date (sometimes only a range), often sex and
postcode, rarely the address, and an NHS number or UPN only sometimes. Then
up to ``MAX_CORRUPTIONS`` of these errors are applied (``CORRUPTIONS``):

- ``typo-given``, ``typo-family``: one character substituted, dropped,
  doubled or two transposed;
- ``nickname``: the first given name replaced by a nickname or variant;
- ``swap-names``: forename and surname swapped;
- ``day-month-swap``, ``date-digit``, ``year-out``: a birth date written
  US-style, with one wrong digit, or a year out;
- ``moved``: a postcode from another borough;
- ``hyphen-part``: one part of a double-barrelled family name;
- ``former-name``: a former family name instead of the current one.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

from adapters.index.fields import LocalId
from adapters.index.model import ChildRecord, Subject
from adapters.index.normalise import fold
from adapters.matching.nicknames import nickname_variants
from adapters.synthetic import tables
from adapters.synthetic.children import REFERENCE_DATE, generate_children, random_postcode
from hub.errors import SchemaInvalid
from hub.identifiers import ALL_AUTHORITIES

__all__ = ["ABSENT_SHARE", "CORRUPTIONS", "MAX_CORRUPTIONS", "MAX_QUERIES", "corrupted_queries"]

ABSENT_SHARE: Final = 0.2
"""Share of queries about children not in the index."""
MAX_CORRUPTIONS: Final = 2
MAX_QUERIES: Final = 1_000_000
_CORRUPTION_COUNTS: Final = ((0, 1, 2), (35, 45, 20))
"""How many errors a query carries, and how often: most carry one."""
_SHARES: Final = {
    "all-given": 0.2,
    "range": 0.05,
    "sex": 0.8,
    "postcode": 0.7,
    "address": 0.15,
    "nhs": 0.25,
    "upn": 0.1,
    "other": 0.1,
}


@dataclass(slots=True)
class _Draft:
    """A query being written: mutable until it becomes a validated ``Subject``."""

    given: list[str]
    family: str
    other: list[str] = field(default_factory=list)
    born: date | None = None
    birth_range: tuple[date, date] | None = None
    sex: str | None = None
    postcode: str | None = None
    address: str | None = None
    nhs: str | None = None
    upn: str | None = None


_Corruption = Callable[[random.Random, _Draft, ChildRecord, date], bool]
"""Applies one error to a draft in place; returns False when it does not apply."""


def corrupted_queries(
    children: Sequence[ChildRecord],
    n: int,
    seed: int,
    *,
    absent_share: float = ABSENT_SHARE,
    as_of: date = REFERENCE_DATE,
) -> list[tuple[Subject, LocalId | None]]:
    """``n`` queries with the ``local_id`` each should find, or ``None`` for a stranger.

    Queries are written about the complete records of ``children`` only (a
    given and family name and a birth date): a partial record cannot be
    asked about by name and birth date. Raises ``SchemaInvalid`` when ``n``
    is outside 0..``MAX_QUERIES`` or there is no complete record while
    queries about indexed children are wanted.
    """
    children = [c for c in children if _complete(c) is not None]
    if not 0 <= n <= MAX_QUERIES:
        raise SchemaInvalid(f"n must be between 0 and {MAX_QUERIES}")
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    absent = round(n * absent_share)
    if n - absent and not children:
        raise SchemaInvalid("queries about indexed children need at least one child")
    strangers = _strangers(children, absent, rng.randrange(1 << 30), as_of)
    targets: list[tuple[ChildRecord, LocalId | None]] = []
    for _ in range(n - len(strangers)):
        child = rng.choice(children)
        targets.append((child, child.local_id))
    targets.extend((child, None) for child in strangers)
    rng.shuffle(targets)
    return [(_query(rng, child, as_of), expected) for child, expected in targets]


def _strangers(
    children: Sequence[ChildRecord], count: int, seed: int, as_of: date
) -> list[ChildRecord]:
    """Children not in the index: no one there shares their name and birth date or identifiers."""
    known = {_complete(c) for c in children}
    numbers = {c.nhs_number for c in children} | {c.upn for c in children}
    authority = ALL_AUTHORITIES[seed % len(ALL_AUTHORITIES)]
    pool = generate_children(authority, count * 2 + 10, seed, as_of=as_of)
    found = []
    for child in pool:
        clash = child.nhs_number in numbers or child.upn in numbers
        if _complete(child) in known:
            clash = True
        if not clash:
            found.append(child)
        if len(found) == count:
            break
    return found


def _complete(child: ChildRecord) -> tuple[str, str, date] | None:
    """First given name and family name, folded, and birth date; ``None`` if one is missing."""
    if not child.given_names or child.family_name is None or child.birth_date is None:
        return None
    return fold(child.given_names[0]), fold(child.family_name), child.birth_date


def _query(rng: random.Random, child: ChildRecord, as_of: date) -> Subject:
    complete = _complete(child)
    if complete is None:  # pragma: no cover - corrupted_queries keeps complete records only
        raise SchemaInvalid(f"record {child.local_id} is partial; no query can be written")
    family, born = child.family_name or "", complete[2]
    draft = _Draft(
        given=list(child.given_names[: 5 if rng.random() < _SHARES["all-given"] else 1]),
        family=family,
        other=list(child.other_names) if rng.random() < _SHARES["other"] else [],
        born=born,
        sex=child.sex if rng.random() < _SHARES["sex"] else None,
        postcode=child.postcode if rng.random() < _SHARES["postcode"] else None,
        address=child.address if rng.random() < _SHARES["address"] else None,
        nhs=child.nhs_number if rng.random() < _SHARES["nhs"] else None,
        upn=child.upn if rng.random() < _SHARES["upn"] else None,
    )
    if rng.random() < _SHARES["range"]:
        draft.born, draft.birth_range = None, _range_around(rng, born, as_of)
    wanted = rng.choices(*_CORRUPTION_COUNTS)[0]
    kinds = list(CORRUPTIONS)
    rng.shuffle(kinds)
    applied = 0
    for kind in kinds:
        if applied == wanted:
            break
        applied += CORRUPTIONS[kind](rng, draft, child, as_of)
    return Subject.create(
        given_names=draft.given,
        family_name=draft.family,
        other_names=draft.other,
        birth_date=draft.born,
        birth_range=draft.birth_range,
        sex=draft.sex,
        postcode=draft.postcode,
        address=draft.address,
        nhs_number=draft.nhs,
        upn=draft.upn,
    )


def _range_around(rng: random.Random, born: date, as_of: date) -> tuple[date, date]:
    start = born - timedelta(days=rng.randrange(1, 180))
    end = min(as_of, born + timedelta(days=rng.randrange(1, 180)))
    return start, end


def _typo(rng: random.Random, name: str) -> str | None:
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if len(letters) < 4:
        return None
    i = rng.choice(letters[1:])
    kind = rng.randrange(4)
    if kind == 0:
        replacement = rng.choice(string.ascii_lowercase)
        return name[:i] + replacement + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    if kind == 2:
        return name[:i] + name[i] + name[i:]
    if i + 1 < len(name) and name[i + 1].isalpha():
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name[:i] + name[i + 1 :]


def _typo_given(rng: random.Random, draft: _Draft, child: ChildRecord, as_of: date) -> bool:
    typo = _typo(rng, draft.given[0])
    if typo is None or typo == draft.given[0]:
        return False
    draft.given[0] = typo
    return True


def _typo_family(rng: random.Random, draft: _Draft, child: ChildRecord, as_of: date) -> bool:
    typo = _typo(rng, draft.family)
    if typo is None or typo == draft.family:
        return False
    draft.family = typo
    return True


def _nickname(rng: random.Random, draft: _Draft, child: ChildRecord, as_of: date) -> bool:
    folded = fold(draft.given[0])
    variants = sorted(nickname_variants(folded) - {folded})
    if not variants:
        return False
    draft.given[0] = rng.choice(variants).title()
    return True


def _swap_names(rng: random.Random, draft: _Draft, child: ChildRecord, as_of: date) -> bool:
    draft.given, draft.family = [draft.family], draft.given[0]
    return True


def _day_month_swap(rng: random.Random, draft: _Draft, child: ChildRecord, as_of: date) -> bool:
    born = draft.born
    if born is None or born.day > 12 or born.day == born.month:
        return False
    swapped = date(born.year, born.day, born.month)
    if swapped > as_of:
        return False
    draft.born = swapped
    return True


def _date_digit(rng: random.Random, draft: _Draft, child: ChildRecord, as_of: date) -> bool:
    if draft.born is None:
        return False
    text = draft.born.isoformat()
    for _ in range(20):
        i = rng.choice((2, 3, 5, 6, 8, 9))
        changed = text[:i] + str(rng.randrange(10)) + text[i + 1 :]
        try:
            candidate = date.fromisoformat(changed)
        except ValueError:
            continue
        if candidate != draft.born and as_of.year - 18 <= candidate.year and candidate <= as_of:
            draft.born = candidate
            return True
    return False


def _year_out(rng: random.Random, draft: _Draft, child: ChildRecord, as_of: date) -> bool:
    born = draft.born
    if born is None or (born.month, born.day) == (2, 29):
        return False
    shifted = born.replace(year=born.year + rng.choice((-1, 1)))
    if shifted > as_of:
        shifted = born.replace(year=born.year - 1)
    draft.born = shifted
    return True


def _moved(rng: random.Random, draft: _Draft, child: ChildRecord, as_of: date) -> bool:
    elsewhere = tables.borough(rng.choice(ALL_AUTHORITIES))
    draft.postcode = random_postcode(rng, elsewhere.districts)
    draft.address = None
    return True


def _hyphen_part(rng: random.Random, draft: _Draft, child: ChildRecord, as_of: date) -> bool:
    if "-" not in draft.family:
        return False
    draft.family = rng.choice(draft.family.split("-"))
    return True


def _former_name(rng: random.Random, draft: _Draft, child: ChildRecord, as_of: date) -> bool:
    if not child.other_names:
        return False
    draft.family = child.other_names[0]
    draft.other = []
    return True


CORRUPTIONS: Final[dict[str, _Corruption]] = {
    "typo-given": _typo_given,
    "typo-family": _typo_family,
    "nickname": _nickname,
    "swap-names": _swap_names,
    "day-month-swap": _day_month_swap,
    "date-digit": _date_digit,
    "year-out": _year_out,
    "moved": _moved,
    "hyphen-part": _hyphen_part,
    "former-name": _former_name,
}
"""Each error a query may carry, by name (see the module docstring)."""
