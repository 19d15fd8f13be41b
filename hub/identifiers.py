"""Identifiers and closed lists of SPEC §1, validated where they are made.

Look-alike strings get their own ``NewType`` so mypy keeps an authority code
from being passed where a MessageID is expected. Each ``parse_*`` function is
the only way to make one from outside text and raises ``SchemaInvalid`` with a
plain reason when the text is not acceptable.
"""

from __future__ import annotations

import re
import uuid
from typing import Final, NewType

from hub.authority_list import LISTED
from hub.errors import SchemaInvalid

__all__ = [
    "AGENCY_TYPES",
    "ALL_AUTHORITIES",
    "AUTHORITY_URN_PREFIX",
    "CONSENT_VALUES",
    "DATA_CATEGORIES",
    "DISCLOSURE_LEVELS",
    "HUB",
    "ORDINARY_CATEGORIES",
    "PURPOSES",
    "QUALIFIERS",
    "SENSITIVE_CATEGORIES",
    "AuthorityCode",
    "MessageId",
    "authority_urn",
    "is_valid_nhs_number",
    "is_valid_upn",
    "new_message_id",
    "nhs_check_digit",
    "parse_authority",
    "parse_message_id",
    "parse_recipient_code",
    "upn_check_letter",
]

AuthorityCode = NewType("AuthorityCode", str)
"""The ONS GSS code of an authority in ``ALL_AUTHORITIES``, or ``HUB`` (``parse_authority``).

Only a ``To`` may hold any well-formed GSS code (``parse_recipient_code``):
whether such an authority exists is the directory's answer, not the form's."""

MessageId = NewType("MessageId", str)
"""A ``urn:uuid:`` message identifier, unique per sender for ever."""

HUB: Final = AuthorityCode("HUB")
ALL_AUTHORITIES: Final[tuple[AuthorityCode, ...]] = tuple(AuthorityCode(a.code) for a in LISTED)
"""Every authority of the interchange in code order, as the directory file lists them."""
AUTHORITY_URN_PREFIX: Final = "urn:lcpc:authority:"

AGENCY_TYPES: Final = (
    "social-care",
    "education",
    "health",
    "police",
    "housing",
    "youth-justice",
    "early-help",
    "voluntary",
    "probation",
)
PURPOSES: Final = (
    "child-protection-s47",
    "child-in-need-s17",
    "early-help",
    "looked-after-child",
    "missing-child",
    "education-welfare",
)
CONSENT_VALUES: Final = ("given", "refused", "not-sought", "not-required")
ORDINARY_CATEGORIES: Final = ("identity", "involvement", "contact", "assessment")
SENSITIVE_CATEGORIES: Final = (
    "mental-health",
    "sexual-health",
    "substance-misuse",
    "domestic-abuse",
    "youth-justice",
)
DATA_CATEGORIES: Final = ORDINARY_CATEGORIES + SENSITIVE_CATEGORIES
DISCLOSURE_LEVELS: Final = ("none", "existence", "agencies", "contacts", "details")
"""Ordered from least to most disclosed: compare by index."""
QUALIFIERS: Final = ("request", "response", "acknowledgement", "notification", "error")

_AUTHORITY_CODES: Final = frozenset((*ALL_AUTHORITIES, HUB))
_AUTHORITY_RANGE: Final = f"{ALL_AUTHORITIES[0]} to {ALL_AUTHORITIES[-1]}"
_GSS_AUTHORITY = re.compile(r"[EWSN][0-9]{8}\Z")
_MESSAGE_ID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
# UPN check letters skip I, O and S, which are easily misread (DfE UPN guide).
_UPN_LETTERS: Final = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN_SHAPE = re.compile(r"[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]\Z")


def parse_authority(text: str) -> AuthorityCode:
    """Return ``text`` as an ``AuthorityCode``; raise ``SchemaInvalid`` if unknown."""
    if text not in _AUTHORITY_CODES:
        raise SchemaInvalid(f"{text!r} is not a London authority code ({_AUTHORITY_RANGE}, or HUB)")
    return AuthorityCode(text)


def parse_recipient_code(text: str) -> AuthorityCode:
    """Return ``text`` as the code a ``To`` names: ``HUB`` or any well-formed GSS code.

    The form of common.xsd ``RecipientCode``: a country letter (E, W, S, N)
    and eight digits, so authorities beyond London can be named. Raises
    ``SchemaInvalid`` for any other text; a well-formed code the directory
    does not hold is for the receiver to refuse as ``unknown-recipient``.
    """
    if text != HUB and not _GSS_AUTHORITY.match(text):
        raise SchemaInvalid(
            f"{text!r} is not an authority code (a GSS code such as E09000022, or HUB)"
        )
    return AuthorityCode(text)


def authority_urn(code: AuthorityCode) -> str:
    """The SAN URI that names ``code`` in certificates: ``urn:lcpc:authority:<code>``."""
    return AUTHORITY_URN_PREFIX + code


def parse_message_id(text: str) -> MessageId:
    """Return ``text`` as a ``MessageId``; raise ``SchemaInvalid`` unless a lowercase urn:uuid."""
    if not _MESSAGE_ID.match(text):
        raise SchemaInvalid(f"{text!r} is not a urn:uuid message identifier")
    return MessageId(text)


def new_message_id() -> MessageId:
    """A fresh random ``urn:uuid:`` identifier."""
    return MessageId(f"urn:uuid:{uuid.uuid4()}")


def nhs_check_digit(first_nine: str) -> int | None:
    """The modulus 11 check digit for nine digits, or ``None`` if none exists.

    NHS Data Dictionary: weights 10..2, remainder subtracted from 11; 11 means
    check digit 0, and 10 means the number can never be issued.
    """
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_number(text: str) -> bool:
    """True when ``text`` is ten digits with a correct modulus 11 check digit."""
    if len(text) != 10 or not text.isascii() or not text.isdigit():
        return False
    return nhs_check_digit(text[:9]) == int(text[9])


def upn_check_letter(last_twelve: str) -> str:
    """The DfE check letter for characters 2-13 of a Unique Pupil Number.

    Each character is weighted by its position (2..13); a trailing letter of a
    temporary UPN counts as its index in the check-letter alphabet.
    """
    total = 0
    for position, char in enumerate(last_twelve, start=2):
        value = int(char) if char.isdigit() else _UPN_LETTERS.index(char)
        total += value * position
    return _UPN_LETTERS[total % 23]


def is_valid_upn(text: str) -> bool:
    """True when ``text`` is a 13-character UPN whose check letter is right."""
    if not _UPN_SHAPE.match(text):
        return False
    return upn_check_letter(text[1:]) == text[0]
