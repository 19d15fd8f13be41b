"""The question put to the policy engine, and the closed space of all questions.

A ``PolicyRequest`` is checked when it is made, so the engine never sees an
unknown purpose, consent value, agency type or level. Every attribute is a
closed list, which makes the whole request space finite: ``request_space``
enumerates it for ``policy diff``, ``policy shadow`` and the property tests.

The message class is carried for the log and for readers of a decision but
is not a rule condition in ISP version 1: a known-to query, a referral and a
service search that names a child are evaluated alike. (A service search
without a child carries no personal data; whether to consult the engine for
it at all is the router's choice.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from hub.errors import SchemaInvalid
from hub.identifiers import (
    AGENCY_TYPES,
    ALL_AUTHORITIES,
    CONSENT_VALUES,
    DISCLOSURE_LEVELS,
    PURPOSES,
    AuthorityCode,
)

__all__ = [
    "MESSAGE_CLASSES",
    "REQUESTABLE_LEVELS",
    "MessageClass",
    "PolicyRequest",
    "request_space",
]

MessageClass = Literal["known-to", "referral", "directory-search"]
MESSAGE_CLASSES: Final[tuple[MessageClass, ...]] = ("known-to", "referral", "directory-search")
REQUESTABLE_LEVELS: Final = DISCLOSURE_LEVELS[1:]
"""A request asks for at least ``existence``; asking for ``none`` is meaningless."""

_AUTHORITIES: Final = frozenset(ALL_AUTHORITIES)


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    """One exchange to decide: who asks whom, why, on what consent, for how much.

    Raises ``SchemaInvalid`` on construction if any field is outside its
    closed list.
    """

    requester: AuthorityCode
    responder: AuthorityCode
    purpose: str
    consent: str
    agency: str
    """The agency type of the requesting practitioner."""
    level: str = "details"
    """The level asked for; the granted level never exceeds it."""
    message_class: MessageClass = "known-to"

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("requester", self.requester, _AUTHORITIES),
            ("responder", self.responder, _AUTHORITIES),
            ("purpose", self.purpose, PURPOSES),
            ("consent", self.consent, CONSENT_VALUES),
            ("agency", self.agency, AGENCY_TYPES),
            ("level", self.level, REQUESTABLE_LEVELS),
            ("message class", self.message_class, MESSAGE_CLASSES),
        ):
            if value not in allowed:
                raise SchemaInvalid(f"{name} {value!r} is not one of {', '.join(sorted(allowed))}")


def request_space(
    *,
    requesters: Sequence[AuthorityCode] = ALL_AUTHORITIES,
    responders: Sequence[AuthorityCode] = ALL_AUTHORITIES,
    purposes: Sequence[str] = PURPOSES,
    consents: Sequence[str] = CONSENT_VALUES,
    agencies: Sequence[str] = AGENCY_TYPES,
    levels: Sequence[str] = REQUESTABLE_LEVELS,
) -> Iterator[PolicyRequest]:
    """Every request over the given axes (all of each by default), self-requests excluded."""
    for requester in requesters:
        for responder in responders:
            if requester == responder:
                continue
            for purpose in purposes:
                for consent in consents:
                    for agency in agencies:
                        for level in levels:
                            yield PolicyRequest(
                                requester, responder, purpose, consent, agency, level
                            )
