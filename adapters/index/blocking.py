"""Blocking: which few records of an index are worth scoring against a query.

Scoring every child in a borough for every query would be slow; comparing
only records that share a *block* with the query keeps each query to a few
hundred index entries. A record sits in the blocks of ``record_keys``; a
query looks in the blocks of ``subject_keys``, which widens its own traits
to cover the errors matching forgives:

- ``nhs:<n>``, ``upn:<u>``: identifiers;
- ``y:<year>:<code>``: birth year × phonetic code of any name part. The query
  also looks one year either side, and codes every part of every name, so
  a forename/surname swap or a changed surname still meets a shared block;
- ``md:<MMDD>:<code>``: birth month and day × name code, for a typo in the year;
  the query also tries day and month swapped;
- ``d:<YYYY-MM-DD>``: the exact birth date (and its day/month swap), for a
  query whose every name is misspelt;
- ``pd:<district>:<code>``: postcode district × name code, for a birth date
  that is only a range or is wrong in two places;
- ``u:<code>``: name code of a record with no birth date. Every query with
  a name looks in these too: such a record meets no year, month-day or date
  block, and would otherwise be found only by identifier or postcode.

Name codes are the metaphone code of each folded part (``M…``), and of a
name of several parts written as one (``Ja Cob`` is also coded as
``JACOB``, so a stray space or a joined name still meets a block), which keeps
blocks small and survives most spelling variants; a typo that changes it is
caught by the other name's blocks. A record and a query are candidates for
each other when their ``block_ids`` intersect.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, TypeVar

from adapters.index.model import ChildRecord, Subject
from adapters.index.normalise import metaphone, name_parts, postcode_district, soundex

__all__ = [
    "MAX_NAME_CODES",
    "YEAR_TOLERANCE",
    "BlockingKeys",
    "month_day",
    "name_codes",
    "record_keys",
    "subject_keys",
]

_T = TypeVar("_T")

MAX_NAME_CODES: Final = 20
"""Name codes one query may look up. A child's real names give well under
ten (one per part); more means a padded query."""
YEAR_TOLERANCE: Final = 1
"""A query looks this many birth years either side of its own: a year off by
one is the commonest date error that survives a check by the family."""


@dataclass(frozen=True, slots=True)
class BlockingKeys:
    """The traits a record is blocked on, or the widened traits a query looks up.

    An adapter that cannot store ``block_ids`` may read the fields directly:
    a record qualifies when it shares an identifier, or a name code and a
    birth year, month-and-day or postcode district, or a birth date, or, when
    ``undated``, a name code with a record that has no birth date.
    """

    nhs_numbers: frozenset[str] = frozenset()
    upns: frozenset[str] = frozenset()
    birth_years: frozenset[int] = frozenset()
    month_days: frozenset[str] = frozenset()
    """``MMDD`` strings."""
    birth_dates: frozenset[date] = frozenset()
    name_codes: frozenset[str] = frozenset()
    """``M`` + metaphone of each folded name part (``S`` + soundex if that is empty)."""
    postcode_districts: frozenset[str] = frozenset()
    undated: bool = False
    """A record's: it has no birth date. A query's: look among such records too."""

    def block_ids(self) -> frozenset[str]:
        """The block identifiers these keys belong to (see the module docstring)."""
        ids = {f"nhs:{n}" for n in self.nhs_numbers}
        ids.update(f"upn:{u}" for u in self.upns)
        ids.update(f"d:{d.isoformat()}" for d in self.birth_dates)
        for code in self.name_codes:
            ids.update(f"y:{year}:{code}" for year in self.birth_years)
            ids.update(f"md:{md}:{code}" for md in self.month_days)
            ids.update(f"pd:{district}:{code}" for district in self.postcode_districts)
            if self.undated:
                ids.add(f"u:{code}")
        return frozenset(ids)


def record_keys(record: ChildRecord) -> BlockingKeys:
    """The blocks one index record sits in."""
    names = (*record.given_names, *_optional(record.family_name), *record.other_names)
    born = record.birth_date
    return BlockingKeys(
        nhs_numbers=_optional(record.nhs_number),
        upns=_optional(record.upn),
        birth_years=frozenset(() if born is None else (born.year,)),
        month_days=frozenset(() if born is None else (month_day(born),)),
        birth_dates=_optional(born),
        name_codes=name_codes(names),
        postcode_districts=frozenset(
            () if record.postcode is None else (postcode_district(record.postcode),)
        ),
        undated=born is None,
    )


def subject_keys(subject: Subject) -> BlockingKeys:
    """The blocks to look in for a query, widened for forgivable errors."""
    names = (*subject.given_names, *_optional(subject.family_name), *subject.other_names)
    years: set[int] = set()
    month_days: set[str] = set()
    dates: set[date] = set()
    if subject.birth_date is not None:
        born = subject.birth_date
        for variant in (born, *_optional(_day_month_swapped(born))):
            dates.add(variant)
            month_days.add(month_day(variant))
        years.update(range(born.year - YEAR_TOLERANCE, born.year + YEAR_TOLERANCE + 1))
    elif subject.birth_range is not None:
        start, end = subject.birth_range
        years.update(range(start.year, end.year + 1))
        if end - start < timedelta(days=1):
            dates.add(start)
    return BlockingKeys(
        nhs_numbers=_optional(subject.nhs_number),
        upns=_optional(subject.upn),
        birth_years=frozenset(years),
        month_days=frozenset(month_days),
        birth_dates=frozenset(dates),
        name_codes=name_codes(names) if names else frozenset(),
        postcode_districts=frozenset(
            () if subject.postcode is None else (postcode_district(subject.postcode),)
        ),
        undated=bool(names),
    )


def name_codes(names: Iterable[str]) -> frozenset[str]:
    """The metaphone code of every part of every name (soundex when metaphone gives none).

    At most ``MAX_NAME_CODES``, in the order of ``names``: the cap binds only
    on names padded beyond any real child's, which would otherwise read most
    blocks of an index.
    """
    codes: list[str] = []
    for name in names:
        parts = name_parts(name)
        for part in parts if len(parts) == 1 else (*parts, "".join(parts)):
            phonetic = metaphone(part)
            codes.append("M" + phonetic if phonetic else "S" + soundex(part))
    return frozenset(list(dict.fromkeys(codes))[:MAX_NAME_CODES])


def month_day(born: date) -> str:
    """``MMDD`` of a date, the form blocks use."""
    return f"{born.month:02d}{born.day:02d}"


def _day_month_swapped(born: date) -> date | None:
    if born.day > 12 or born.day == born.month:
        return None
    return date(born.year, born.day, born.month)


def _optional(value: _T | None) -> frozenset[_T]:
    return frozenset(() if value is None else (value,))
