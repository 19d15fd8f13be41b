"""Reading a ``c:ChildSubject`` element into the matcher's ``Subject``."""

from __future__ import annotations

from datetime import date
from typing import Final

from lxml import etree

from adapters.index.model import Subject
from hub.errors import SchemaInvalid

__all__ = ["subject_from_element"]

_C: Final = "{urn:lcpc:irt:common:1}"
_LINE: Final = _C + "Line"
_TOWN: Final = _C + "Town"


def subject_from_element(subject: etree._Element) -> Subject:
    """The ``Subject`` of a schema-valid ``c:ChildSubject``-typed element.

    ``c:Address`` is read from its ``Line`` and ``Town`` children as one
    address. Raises ``SchemaInvalid`` for what the schema cannot check:
    identifier check digits, date order, and the name-or-identifier rule.
    """
    address, postcode = _C + "Address", _C + "Postcode"
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
        postcode=subject.findtext(_C + "Postcode") or subject.findtext(address + "/" + postcode),
        address=_address(subject.find(address)),
        nhs_number=subject.findtext(_C + "NHSNumber"),
        upn=subject.findtext(_C + "UPN"),
    )


def _address(address: etree._Element | None) -> str | None:
    """A ``c:Address`` as one line for matching: its lines and town, comma-separated.

    The postcode inside it is read as the subject's postcode when the subject
    gives none of its own.
    """
    if address is None:
        return None
    parts = [e.text.strip() for e in address if e.tag in (_LINE, _TOWN) and e.text]
    return ", ".join(p for p in parts if p) or None


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise SchemaInvalid(f"{text!r} is not a date") from exc
