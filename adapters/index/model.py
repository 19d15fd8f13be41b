"""What a borough's children's index holds, and what a known-to query asks about.

- ``ChildRecord``: one child as the local index knows them, possibly in part:
  an unborn or newly born child without a given name, a foundling or a child
  known by one name, a child whose birth date was never recorded.
- ``Involvement``: one service's involvement with that child (SPEC §6).
- ``Subject``: the child a ``KnownToQuery`` asks about (``c:ChildSubject``).

Every value is validated where it is made: ``read_child`` (and
``child_from_fields``) and ``involvement_from_fields`` take CSV-shaped text,
``Subject.create`` takes a query's values; all raise ``SchemaInvalid`` with a
plain reason naming the field. Data that is really partial is accepted with a
warning (``ReadChild.warnings``); a malformed value never is. An index
adapter may rebuild records directly from storage it filled through these
factories.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from adapters.index.fields import (
    ISO_DATE,
    DateFormat,
    LocalId,
    Sex,
    parse_bool,
    parse_email,
    parse_local_id,
    parse_name,
    parse_name_list,
    parse_nhs_number,
    parse_phone,
    parse_postcode,
    parse_required_text,
    parse_sex,
    parse_text,
    parse_upn,
)
from hub.errors import SchemaInvalid
from hub.identifiers import AGENCY_TYPES, DATA_CATEGORIES

__all__ = [
    "MAX_BIRTH_RANGE_DAYS",
    "MAX_GIVEN_NAMES",
    "MAX_OTHER_NAMES",
    "ChildRecord",
    "Involvement",
    "InvolvementStatus",
    "Partial",
    "ReadChild",
    "Subject",
    "child_from_fields",
    "involvement_from_fields",
    "read_child",
]

MAX_GIVEN_NAMES: Final = 5
"""``c:Name`` allows at most five ``GivenName`` elements."""
MAX_OTHER_NAMES: Final = 10
"""``c:Name`` allows at most ten ``OtherName`` elements."""
MAX_BIRTH_RANGE_DAYS: Final = 3 * 366
"""A birth date range wider than about three years no longer narrows the search:
it would pull most of an index's blocks for a common name."""

InvolvementStatus = Literal["open", "closed"]
Partial = Literal["no-birth-date", "no-given-name", "no-family-name"]
"""What a partial record lacks; ``ReadChild.partial`` lists it for the import summary."""

_NOT_YET_NAMED: Final = re.compile(
    r"(?:unborn|baby|infant|newborn)(?: (?:baby|child|boy|girl))?(?: of\b.*)?\Z", re.IGNORECASE
)
"""Placeholders case systems write for a child not yet named: ``Baby``, ``Unborn``,
``Baby of Jane Smith``, ``Baby Girl``. Kept as a given name they would make two
such children agree on a name, and ``Baby of …`` names the mother, not the child."""
_UNKNOWN_NAMES: Final = frozenset({"unknown", "not known", "not recorded", "nk", "n/k"})
"""What a system writes in a name it does not have, e.g. a foundling's family name."""


@dataclass(frozen=True, slots=True)
class ChildRecord:
    """One child in a borough's local index; names as written, postcode normalised.

    A record has at least one given or family name; ``given_names`` may be
    empty (a child not yet named), ``family_name`` and ``birth_date`` ``None``
    (a foundling, a child known by one name, a birth date never recorded).
    The matcher never answers ``known`` on names alone for such a record
    (``adapters.matching.decision``).
    """

    local_id: LocalId
    given_names: tuple[str, ...]
    family_name: str | None
    other_names: tuple[str, ...]
    birth_date: date | None
    sex: Sex
    postcode: str | None
    address: str | None
    nhs_number: str | None
    upn: str | None


@dataclass(frozen=True, slots=True)
class Involvement:
    """One service's involvement with a child; optional fields are ``None`` when unrecorded."""

    local_id: LocalId
    agency: str
    """One of ``hub.identifiers.AGENCY_TYPES``."""
    service: str
    category: str
    """One of ``hub.identifiers.DATA_CATEGORIES``."""
    status: InvolvementStatus
    start_date: date | None
    end_date: date | None
    lead_professional: bool
    caf: bool
    practitioner_name: str | None
    practitioner_role: str | None
    practitioner_phone: str | None
    practitioner_email: str | None


@dataclass(frozen=True, slots=True)
class Subject:
    """The child a query asks about. Build with ``Subject.create``, which validates."""

    given_names: tuple[str, ...]
    family_name: str | None
    other_names: tuple[str, ...]
    birth_date: date | None
    birth_range: tuple[date, date] | None
    """Inclusive (from, to) when only an approximate birth date is known."""
    sex: Sex | None
    """``female`` or ``male`` when the query states it; ``None`` otherwise."""
    postcode: str | None
    address: str | None
    nhs_number: str | None
    upn: str | None

    @classmethod
    def create(
        cls,
        *,
        given_names: Sequence[str] = (),
        family_name: str | None = None,
        other_names: Sequence[str] = (),
        birth_date: date | None = None,
        birth_range: tuple[date, date] | None = None,
        sex: str | None = None,
        postcode: str | None = None,
        address: str | None = None,
        nhs_number: str | None = None,
        upn: str | None = None,
    ) -> Subject:
        """Validate a query's subject (SPEC §6) and return it normalised.

        Raises ``SchemaInvalid`` when an identifier fails its check, a name or
        postcode is malformed, both a birth date and a range are given, the
        range is reversed or wider than ``MAX_BIRTH_RANGE_DAYS``, or neither an
        identifier nor a full name with a birth date or range is given.
        """
        nhs = None if nhs_number is None else parse_nhs_number(nhs_number, "NHSNumber")
        pupil = None if upn is None else parse_upn(upn, "UPN")
        if len(given_names) > MAX_GIVEN_NAMES:
            raise SchemaInvalid(f"at most {MAX_GIVEN_NAMES} given names are allowed")
        if len(other_names) > MAX_OTHER_NAMES:
            raise SchemaInvalid(f"at most {MAX_OTHER_NAMES} other names are allowed")
        given = tuple(parse_name(name, "GivenName") for name in given_names)
        family = None if family_name is None else parse_name(family_name, "FamilyName")
        other = tuple(parse_name(name, "OtherName") for name in other_names)
        if birth_date is not None and birth_range is not None:
            raise SchemaInvalid("give either a birth date or a birth date range, not both")
        if birth_range is not None:
            start, end = birth_range
            if start > end:
                raise SchemaInvalid(f"birth date range starts {start} after it ends {end}")
            if (end - start).days > MAX_BIRTH_RANGE_DAYS:
                raise SchemaInvalid(
                    f"birth date range {start} to {end} is wider than {MAX_BIRTH_RANGE_DAYS} days"
                )
        has_birth = birth_date is not None or birth_range is not None
        if nhs is None and pupil is None and not (given and family and has_birth):
            raise SchemaInvalid(
                "a subject needs an NHS number or UPN, or given name, family name and birth date"
            )
        stated_sex = None if sex is None else parse_sex(sex, "Sex")
        return cls(
            given_names=given,
            family_name=family,
            other_names=other,
            birth_date=birth_date,
            birth_range=birth_range,
            sex=stated_sex if stated_sex in ("female", "male") else None,
            postcode=None if postcode is None else parse_postcode(postcode, "Postcode"),
            address=None if address is None else parse_text(address, "Address"),
            nhs_number=nhs,
            upn=pupil,
        )


@dataclass(frozen=True, slots=True)
class ReadChild:
    """A record read from one row of ``children.csv``, and what it lacks."""

    record: ChildRecord
    partial: frozenset[Partial]
    warnings: tuple[str, ...]
    """Why the record is partial, one plain sentence each, for the import report."""


def child_from_fields(fields: Mapping[str, str]) -> ChildRecord:
    """Build a ``ChildRecord`` from the text columns of ``children.csv`` (ISO dates).

    As ``read_child``, without the warnings. Raises ``SchemaInvalid`` naming
    the first bad field and what is wrong with it.
    """
    return read_child(fields).record


def read_child(
    fields: Mapping[str, str], *, dates: DateFormat = ISO_DATE, today: date | None = None
) -> ReadChild:
    """Build a ``ChildRecord`` from the text columns of ``children.csv``.

    Partial data is accepted with a warning: an empty ``birth_date``; an empty
    ``given_names`` or a placeholder for a child not yet named (``Baby of …``,
    ``Unborn``), read as no given name; an empty ``family_name`` or one
    written as ``Unknown``. A birth date after ``today`` is refused, except
    for a child not yet named, where it is an expected date and dropped.

    Raises ``SchemaInvalid`` naming the first bad field: a malformed value, or
    a child with neither a given nor a family name.
    """
    local_id = parse_local_id(fields["local_id"])
    warnings: list[str] = []
    given, unnamed = _given_names(fields["given_names"], warnings)
    family = _family_name(fields["family_name"], warnings)
    if not given and family is None:
        raise SchemaInvalid("the child has neither a given nor a family name; give at least one")
    born = _birth_date(fields["birth_date"], dates, today, unnamed=unnamed, warnings=warnings)
    partial: set[Partial] = set()
    if not given:
        partial.add("no-given-name")
        if not unnamed:
            warnings.append("no given name: matched on the family name and other traits")
    if family is None:
        partial.add("no-family-name")
        warnings.append("no family name: matched on the given names and other traits")
    if born is None:
        partial.add("no-birth-date")
        warnings.append(
            "no birth date: found by NHS number or UPN, or by name only where the "
            "postcode or address agrees too"
        )
    postcode, nhs, upn = fields["postcode"], fields["nhs_number"], fields["upn"]
    record = ChildRecord(
        local_id=local_id,
        given_names=given,
        family_name=family,
        other_names=parse_name_list(fields["other_names"], "other_names", limit=MAX_OTHER_NAMES),
        birth_date=born,
        sex=parse_sex(fields["sex"]),
        postcode=parse_postcode(postcode) if postcode.strip() else None,
        address=parse_text(fields["address"], "address"),
        nhs_number=parse_nhs_number(nhs) if nhs.strip() else None,
        upn=parse_upn(upn) if upn.strip() else None,
    )
    return ReadChild(record, frozenset(partial), tuple(warnings))


def _given_names(text: str, warnings: list[str]) -> tuple[tuple[str, ...], bool]:
    """The given names, and whether the cell is a placeholder for a child not yet named."""
    if _NOT_YET_NAMED.match(" ".join(text.split())):
        warnings.append(
            f"given_names {text.strip()!r} stands for a child not yet named: "
            "imported without a given name"
        )
        return (), True
    if _unknown(text):
        if text.strip():
            warnings.append(f"given_names {text.strip()!r} read as not recorded")
        return (), False
    return parse_name_list(text, "given_names", limit=MAX_GIVEN_NAMES), False


def _family_name(text: str, warnings: list[str]) -> str | None:
    if _unknown(text):
        if text.strip():
            warnings.append(f"family_name {text.strip()!r} read as not recorded")
        return None
    return parse_name(text, "family_name")


def _birth_date(
    text: str, dates: DateFormat, today: date | None, *, unnamed: bool, warnings: list[str]
) -> date | None:
    if not text.strip():
        return None
    born = dates.parse(text, "birth_date")
    if today is not None and born > today:
        if not unnamed:
            raise SchemaInvalid(f"birth_date {born} is in the future (today is {today})")
        warnings.append(f"birth_date {born} is in the future, an expected date: dropped")
        return None
    return born


def _unknown(text: str) -> bool:
    return " ".join(text.split()).lower() in _UNKNOWN_NAMES or not text.strip()


def involvement_from_fields(
    fields: Mapping[str, str], *, dates: DateFormat = ISO_DATE
) -> Involvement:
    """Build an ``Involvement`` from the text columns of ``involvements.csv``.

    Raises ``SchemaInvalid`` naming the first bad field and what is wrong with it.
    """
    start, end = fields["start_date"], fields["end_date"]
    involvement = Involvement(
        local_id=parse_local_id(fields["local_id"]),
        agency=_closed(fields["agency"], "agency", AGENCY_TYPES),
        service=parse_required_text(fields["service"], "service"),
        category=_closed(fields["category"], "category", DATA_CATEGORIES),
        status=_status(fields["status"]),
        start_date=dates.parse(start, "start_date") if start.strip() else None,
        end_date=dates.parse(end, "end_date") if end.strip() else None,
        lead_professional=parse_bool(fields["lead_professional"], "lead_professional"),
        caf=parse_bool(fields["caf"], "caf"),
        practitioner_name=parse_text(fields["practitioner_name"], "practitioner_name"),
        practitioner_role=parse_text(fields["practitioner_role"], "practitioner_role"),
        practitioner_phone=parse_phone(fields["practitioner_phone"], "practitioner_phone"),
        practitioner_email=parse_email(fields["practitioner_email"], "practitioner_email"),
    )
    started, ended = involvement.start_date, involvement.end_date
    if started is not None and ended is not None and ended < started:
        raise SchemaInvalid(f"end_date {ended} is before start_date {started}")
    if involvement.status == "open" and ended is not None:
        raise SchemaInvalid("an open involvement cannot have an end_date")
    return involvement


def _closed(text: str, field: str, allowed: tuple[str, ...]) -> str:
    value = text.strip()
    if value not in allowed:
        raise SchemaInvalid(f"{field} {text!r} is not one of {', '.join(allowed)}")
    return value


def _status(text: str) -> InvolvementStatus:
    value = text.strip().lower()
    if value == "open":
        return "open"
    if value == "closed":
        return "closed"
    raise SchemaInvalid(f"status {text!r} must be open or closed")
