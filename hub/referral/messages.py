"""Referral message bodies (referral.xsd): reading what the hub checks, writing what it sends.

Readers take schema-valid elements (the verifier validated them) and check
the rules referral.xsd leaves to code:

- a ``Referral``'s body ``Consent`` agrees with the envelope's ``env:Consent``;
- a ``BirthDateRange`` does not end before it starts;
- a ``ReferralStatus`` carries ``Reason`` only when declined,
  ``Practitioner`` only when allocated and ``Outcome`` only when closed.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from lxml import etree

from hub.disclosure import COMMON_NS
from hub.envelope import format_time, parse_time
from hub.errors import SchemaInvalid
from hub.identifiers import AuthorityCode, MessageId, parse_message_id
from hub.services.eligibility import ReferralFacts

__all__ = [
    "REFERRAL_NS",
    "STATUSES",
    "Contact",
    "ReferralSummary",
    "StatusUpdate",
    "failure_body",
    "forward_body",
    "history_body",
    "receipt_body",
]

REFERRAL_NS: Final = "urn:lcpc:irt:referral:1"
STATUSES: Final = ("received", "accepted", "declined", "allocated", "closed")
"""referral.xsd ``Status``, in the order a referral usually moves through them."""

_R: Final = f"{{{REFERRAL_NS}}}"
_C: Final = f"{{{COMMON_NS}}}"
_NSMAP: Final = {"r": REFERRAL_NS, "c": COMMON_NS}
_ONLY_WITH: Final = {"Reason": "declined", "Practitioner": "allocated", "Outcome": "closed"}


@dataclass(frozen=True, slots=True)
class Contact:
    """A ``c:PractitionerContact``: a named person and how to reach them."""

    name: str
    role: str | None = None
    phone: str | None = None
    email: str | None = None

    @classmethod
    def from_element(cls, element: etree._Element) -> Contact:
        """Read a schema-valid ``c:PractitionerContact``-typed element."""
        return cls(
            name=element.findtext(_C + "Name") or "",
            role=element.findtext(_C + "Role"),
            phone=element.findtext(_C + "Phone"),
            email=element.findtext(_C + "Email"),
        )

    def element(self, tag: str) -> etree._Element:
        """This contact as an element named ``tag``, children in schema order."""
        element = etree.Element(tag, nsmap=_NSMAP)
        for name in ("name", "role", "phone", "email"):
            value = getattr(self, name)
            if value is not None:
                etree.SubElement(element, _C + name.capitalize()).text = value
        return element


@dataclass(frozen=True, slots=True)
class ReferralSummary:
    """What the hub reads from a ``Referral`` body to route and check it."""

    service_id: str
    concern_level: int
    categories: frozenset[str]
    consent: str
    birth_date: date | None
    birth_range: tuple[date, date] | None

    @classmethod
    def from_element(cls, body: etree._Element, *, header_consent: str | None) -> ReferralSummary:
        """Read a schema-valid ``r:Referral``; raise ``SchemaInvalid`` on a rule break."""
        consent = body.findtext(_R + "Consent") or ""
        if consent != header_consent:
            raise SchemaInvalid(
                f"the referral's Consent ({consent}) does not agree with the envelope's "
                f"({header_consent})"
            )
        child = body.find(_R + "Child")
        born = child.findtext(_C + "BirthDate") if child is not None else None
        born_range = child.find(_C + "BirthDateRange") if child is not None else None
        birth_range = None
        if born_range is not None:
            start = date.fromisoformat(born_range.findtext(_C + "From") or "")
            end = date.fromisoformat(born_range.findtext(_C + "To") or "")
            if start > end:
                raise SchemaInvalid(f"BirthDateRange From {start} is after To {end}")
            birth_range = (start, end)
        return cls(
            service_id=body.findtext(_R + "ServiceID") or "",
            concern_level=int(body.findtext(_R + "ConcernLevel") or "0"),
            categories=frozenset(c.text or "" for c in body.iterfind(_R + "Category")),
            consent=consent,
            birth_date=date.fromisoformat(born) if born else None,
            birth_range=birth_range,
        )

    def facts(self, residence: AuthorityCode) -> ReferralFacts:
        """The facts eligibility is checked on, for a child living in ``residence``."""
        return ReferralFacts(
            residence=residence,
            concern_level=self.concern_level,
            categories=self.categories,
            consent=self.consent,
            birth_date=self.birth_date,
            birth_range=self.birth_range,
        )


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A ``ReferralStatus``: the referral moved to a new state."""

    referral_id: MessageId
    status: str
    at: datetime
    reason: str | None = None
    practitioner: Contact | None = None
    outcome: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise SchemaInvalid(f"status {self.status!r} is not one of {', '.join(STATUSES)}")
        for name, value in (
            ("Reason", self.reason),
            ("Practitioner", self.practitioner),
            ("Outcome", self.outcome),
        ):
            if value is not None and self.status != _ONLY_WITH[name]:
                raise SchemaInvalid(
                    f"a {self.status} status cannot carry {name}; "
                    f"only a {_ONLY_WITH[name]} status does"
                )

    @classmethod
    def from_element(cls, element: etree._Element) -> StatusUpdate:
        """Read a schema-valid ``r:ReferralStatus``; raise ``SchemaInvalid`` on a rule break."""
        practitioner = element.find(_R + "Practitioner")
        return cls(
            referral_id=parse_message_id(element.findtext(_R + "ReferralMessageID") or ""),
            status=element.findtext(_R + "Status") or "",
            at=parse_time(element.findtext(_R + "At") or ""),
            reason=element.findtext(_R + "Reason"),
            practitioner=Contact.from_element(practitioner) if practitioner is not None else None,
            outcome=element.findtext(_R + "Outcome"),
        )

    def body(self) -> etree._Element:
        """This update as an ``r:ReferralStatus`` element."""
        body = etree.Element(_R + "ReferralStatus", nsmap=_NSMAP)
        etree.SubElement(body, _R + "ReferralMessageID").text = self.referral_id
        etree.SubElement(body, _R + "Status").text = self.status
        etree.SubElement(body, _R + "At").text = format_time(self.at)
        if self.reason is not None:
            etree.SubElement(body, _R + "Reason").text = self.reason
        if self.practitioner is not None:
            body.append(self.practitioner.element(_R + "Practitioner"))
        if self.outcome is not None:
            etree.SubElement(body, _R + "Outcome").text = self.outcome
        return body


def receipt_body(
    referral_id: MessageId, *, received_at: datetime, received_by: AuthorityCode, note: str
) -> etree._Element:
    """An ``r:ReferralReceipt``."""
    body = etree.Element(_R + "ReferralReceipt", nsmap={"r": REFERRAL_NS})
    etree.SubElement(body, _R + "ReferralMessageID").text = referral_id
    etree.SubElement(body, _R + "ReceivedAt").text = format_time(received_at)
    etree.SubElement(body, _R + "ReceivedBy").text = received_by
    etree.SubElement(body, _R + "Note").text = note
    return body


def forward_body(decision: etree._Element, original: bytes) -> etree._Element:
    """An ``r:ReferralForward``: the hub's decision and the referrer's signed bytes."""
    body = etree.Element(_R + "ReferralForward", nsmap=_NSMAP)
    body.append(decision)
    etree.SubElement(body, _R + "OriginalMessage").text = base64.b64encode(original).decode()
    return body


def history_body(
    referral_id: MessageId, *, delivery_state: str, statuses: list[etree._Element]
) -> etree._Element:
    """An ``r:ReferralStatusHistory`` holding ``statuses`` (``r:ReferralStatus`` elements)."""
    body = etree.Element(_R + "ReferralStatusHistory", nsmap=_NSMAP)
    etree.SubElement(body, _R + "ReferralMessageID").text = referral_id
    etree.SubElement(body, _R + "DeliveryState").text = delivery_state
    for status in statuses:
        body.append(status)
    return body


def failure_body(
    referral_id: MessageId, *, reason: str, attempts: int, last_attempt: datetime
) -> etree._Element:
    """An ``r:ReferralDeliveryFailure``."""
    body = etree.Element(_R + "ReferralDeliveryFailure", nsmap={"r": REFERRAL_NS})
    etree.SubElement(body, _R + "ReferralMessageID").text = referral_id
    etree.SubElement(body, _R + "Reason").text = reason[:4000]
    etree.SubElement(body, _R + "Attempts").text = str(max(attempts, 1))
    etree.SubElement(body, _R + "LastAttempt").text = format_time(last_attempt)
    return body
