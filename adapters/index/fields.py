"""Parsers for the text fields of a child's record, shared by CSV import and queries.

Each ``parse_*`` function takes text as it arrives (a CSV cell, an XML element)
and returns a normalised value, or raises ``SchemaInvalid`` whose reason names
the field and what is wrong with it. Limits follow ``schemas/common/1``
(``NamePart``, ``Postcode``, ``Phone``, ``Email``) so a record we import can
always be described in a message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Final, Literal, NewType, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.errors import SchemaInvalid
from hub.identifiers import is_valid_nhs_number, is_valid_upn

__all__ = [
    "ISO_DATE",
    "MAX_NAME_LENGTH",
    "MAX_TEXT_LENGTH",
    "NAME_SEPARATOR",
    "SEX_VALUES",
    "DateFormat",
    "LocalId",
    "Sex",
    "parse_bool",
    "parse_date",
    "parse_email",
    "parse_local_id",
    "parse_name",
    "parse_name_list",
    "parse_nhs_number",
    "parse_phone",
    "parse_postcode",
    "parse_required_text",
    "parse_sex",
    "parse_text",
    "parse_upn",
    "today_in_london",
]

LocalId = NewType("LocalId", str)
"""A borough system's own identifier for a child, shaped like ``c:LocalReference``."""

Sex = Literal["female", "male", "unknown", "not-specified"]
"""``c:Sex``: ``unknown`` is recorded as not known, ``not-specified`` holds no value."""
SEX_VALUES: Final[tuple[Sex, ...]] = get_args(Sex)

MAX_NAME_LENGTH: Final = 100
"""``c:NamePart`` allows 1 to 100 characters; a longer name could not be sent."""
MAX_TEXT_LENGTH: Final = 200
"""``c:ShortText`` bound, used for addresses, services, roles and practitioner names."""
NAME_SEPARATOR: Final = ";"
"""Separates several given or other names in one CSV cell. Spaces cannot: an
other name is often a whole former name (``Jane Smith``) and a given name may
itself contain a space (``Mary Jane``)."""

_NAME_CACHE_SIZE: Final = 1 << 16
"""Names repeat heavily in an index, so checked names are remembered."""
_LOCAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}\Z")
_NAME_PUNCTUATION: Final = frozenset(" -'’.")
_POSTCODE = re.compile(
    r"([A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY]))"
    r"([0-9][ABD-HJLNP-UW-Z]{2})\Z"
)
_PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{5,24}\Z")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")
_MAX_EMAIL_LENGTH: Final = 254
_SEX_ALIASES: Final[dict[str, Sex]] = {
    "f": "female",
    "m": "male",
    "u": "unknown",
    "": "not-specified",
    **{value: value for value in SEX_VALUES},
}
_TRUE: Final = frozenset({"true", "yes", "y", "1"})
_FALSE: Final = frozenset({"false", "no", "n", "0", ""})


def parse_local_id(text: str, field: str = "local_id") -> LocalId:
    """A local identifier: 1-64 of letters, digits, ``.``, ``_``, ``:``, ``-``."""
    if not _LOCAL_ID.match(text):
        raise SchemaInvalid(
            f"{field} {text!r} must be 1-64 letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or digit"
        )
    return LocalId(text)


@lru_cache(maxsize=_NAME_CACHE_SIZE)
def parse_name(text: str, field: str) -> str:
    """One name, white space collapsed; letters, spaces, hyphens, apostrophes, full stops."""
    name = " ".join(text.split())
    if not name:
        raise SchemaInvalid(f"{field} is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise SchemaInvalid(f"{field} is longer than {MAX_NAME_LENGTH} characters")
    if not name[0].isalpha():
        raise SchemaInvalid(f"{field} {name!r} must start with a letter")
    for char in name:
        if not (char.isalpha() or char in _NAME_PUNCTUATION):
            raise SchemaInvalid(f"{field} {name!r} contains {char!r}, which is not part of a name")
    return name


def parse_name_list(text: str, field: str, *, limit: int) -> tuple[str, ...]:
    """Names separated by ``;``; empty text gives no names. At most ``limit`` names."""
    if not text.strip():
        return ()
    parts = text.split(NAME_SEPARATOR)
    if len(parts) > limit:
        raise SchemaInvalid(f"{field} holds {len(parts)} names; at most {limit} are allowed")
    return tuple(parse_name(part, field) for part in parts)


def parse_date(text: str, field: str) -> date:
    """An ISO 8601 calendar date ``YYYY-MM-DD``."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise SchemaInvalid(f"{field} {text!r} is not a date of the form YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise SchemaInvalid(f"{field} {text!r} is not a calendar date") from exc


_DATE_TOKENS: Final = {"YYYY": r"(?P<year>[0-9]{4})", "MM": r"(?P<month>[0-9]{1,2})",
                       "DD": r"(?P<day>[0-9]{1,2})"}  # fmt: skip
_DATE_SEPARATORS: Final = frozenset("/-. ")


@dataclass(frozen=True, slots=True)
class DateFormat:
    """How an export writes dates: ``YYYY``, ``MM`` and ``DD`` once each, between ``/ - . ``.

    ``DD/MM/YYYY`` reads ``14/03/2015`` and ``4/3/2015``. A two-digit year is
    not offered: ``14/03/15`` could be 1915 or 2015, and a child's birth date
    must not be guessed. Raises ``SchemaInvalid`` naming the pattern when it
    is not of that shape.
    """

    pattern: str
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = re.split(r"(YYYY|MM|DD)", self.pattern)
        tokens, separators = parts[1::2], "".join(parts[0::2])
        if sorted(tokens) != ["DD", "MM", "YYYY"] or not set(separators) <= _DATE_SEPARATORS:
            raise SchemaInvalid(
                f"date format {self.pattern!r} must hold YYYY, MM and DD once each, separated "
                "by '/', '-', '.' or spaces (e.g. DD/MM/YYYY)"
            )
        regex = "".join(_DATE_TOKENS.get(part, re.escape(part)) for part in parts)
        object.__setattr__(self, "_regex", re.compile(regex + r"\Z"))

    def parse(self, text: str, field: str) -> date:
        """``text`` as a date; raise ``SchemaInvalid`` naming ``field`` and this format."""
        if self.pattern == "YYYY-MM-DD":
            return parse_date(text, field)
        found = self._regex.match(text.strip())
        if found is None:
            raise SchemaInvalid(f"{field} {text!r} is not a date of the form {self.pattern}")
        try:
            return date(int(found["year"]), int(found["month"]), int(found["day"]))
        except ValueError as exc:
            raise SchemaInvalid(f"{field} {text!r} is not a calendar date") from exc


ISO_DATE: Final = DateFormat("YYYY-MM-DD")
"""The default: ISO 8601 calendar dates, as ``parse_date`` reads them."""


def today_in_london(now: datetime) -> date:
    """The calendar date in London at ``now`` (time-zone aware): what "today" means for a birth.

    Without time zone data on the machine, the day after ``now``'s UTC date:
    London is never behind UTC and at most an hour ahead, so no real birth
    date is refused as in the future.
    """
    try:
        return now.astimezone(ZoneInfo("Europe/London")).date()
    except ZoneInfoNotFoundError:
        return now.astimezone(UTC).date() + timedelta(days=1)


def parse_sex(text: str, field: str = "sex") -> Sex:
    """``female``, ``male``, ``unknown`` or ``not-specified``; also ``F``/``M``/``U``, empty."""
    sex = _SEX_ALIASES.get(text.strip().lower())
    if sex is None:
        raise SchemaInvalid(
            f"{field} {text!r} must be one of F, M, U, {', '.join(SEX_VALUES)} or empty"
        )
    return sex


def parse_postcode(text: str, field: str = "postcode") -> str:
    """A UK postcode in any case and spacing, returned as ``SW2 1RW``."""
    compact = "".join(text.split()).upper()
    found = _POSTCODE.match(compact)
    if found is None:
        raise SchemaInvalid(f"{field} {text!r} is not a UK postcode")
    return f"{found.group(1)} {found.group(2)}"


def parse_nhs_number(text: str, field: str = "nhs_number") -> str:
    """Ten digits (spaces allowed in the input) with a correct modulus 11 check digit."""
    compact = "".join(text.split())
    if not is_valid_nhs_number(compact):
        raise SchemaInvalid(
            f"{field} {text!r} is not a valid NHS number (ten digits, modulus 11 check digit)"
        )
    return compact


def parse_upn(text: str, field: str = "upn") -> str:
    """A 13-character Unique Pupil Number with a correct check letter."""
    compact = text.strip().upper()
    if not is_valid_upn(compact):
        raise SchemaInvalid(f"{field} {text!r} is not a valid UPN (13 characters, check letter)")
    return compact


def parse_bool(text: str, field: str) -> bool:
    """``true``/``yes``/``y``/``1`` or ``false``/``no``/``n``/``0``; empty is false."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SchemaInvalid(f"{field} {text!r} must be true or false (yes/no, 1/0, or empty)")


def parse_text(text: str, field: str) -> str | None:
    """One line of text, white space collapsed, at most ``MAX_TEXT_LENGTH``; empty is ``None``."""
    value = " ".join(text.split())
    if not value:
        return None
    if len(value) > MAX_TEXT_LENGTH:
        raise SchemaInvalid(f"{field} is longer than {MAX_TEXT_LENGTH} characters")
    return value


def parse_required_text(text: str, field: str) -> str:
    """As ``parse_text``, but empty text is refused."""
    value = parse_text(text, field)
    if value is None:
        raise SchemaInvalid(f"{field} is empty")
    return value


def parse_phone(text: str, field: str) -> str | None:
    """A phone number as ``c:Phone`` allows it, or ``None`` when empty."""
    value = text.strip()
    if not value:
        return None
    if not _PHONE.match(value):
        raise SchemaInvalid(f"{field} {text!r} is not a phone number")
    return value


def parse_email(text: str, field: str) -> str | None:
    """An e-mail address as ``c:Email`` allows it, or ``None`` when empty."""
    value = text.strip()
    if not value:
        return None
    if len(value) > _MAX_EMAIL_LENGTH or not _EMAIL.match(value):
        raise SchemaInvalid(f"{field} {text!r} is not an e-mail address")
    return value
