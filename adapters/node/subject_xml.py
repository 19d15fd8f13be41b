"""Reading a ``c:ChildSubject`` element into the matcher's ``Subject``."""

from __future__ import annotations

from datetime import date
from typing import Final

from lxml import etree

from adapters.index.model import Subject
from hub.errors import SchemaInvalid

__all__ = ["subject_from_element"]

_C: Final = "{urn:lcpc:irt:common:1}"


def subject_from_element(subject: etree._Element) -> Subject:
    """The ``Subject`` of a schema-valid ``c:ChildSubject``-typed element.

    Raises ``SchemaInvalid`` for what the schema cannot check: identifier
    check digits, date order, and the name-or-identifier rule.
    """
    birth = subject.findtext(_C + "BirthDate")
    birth_range = subject.find(_C + "BirthDateRange")
    return Subject.create(
        given_names=[e.text or "" for e in subject.iterfind(_C + "GivenName")],
        family_name=subject.findtext(_C + "FamilyName"),
        other_names=[e.text or "" for e in subject.iterfind(_C + "OtherName")],
        birth_date=_date(birth) if birth else None,
        birth_range=(
            (
                _date(birth_range.findtext(_C + "From") or ""),
                _date(birth_range.findtext(_C + "To") or ""),
            )
            if birth_range is not None
            else None
        ),
        sex=subject.findtext(_C + "Sex"),
        postcode=subject.findtext(_C + "Postcode"),
        address=subject.findtext(_C + "Address"),
        nhs_number=subject.findtext(_C + "NHSNumber"),
        upn=subject.findtext(_C + "UPN"),
    )


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise SchemaInvalid(f"{text!r} is not a date") from exc
