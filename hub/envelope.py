"""The envelope of SPEC §2: typed header, building and reading.

``Header`` is the typed view of ``env:Header``. ``build_envelope`` makes an
unsigned envelope element from a header and a body; ``read_header`` turns an
already schema-validated envelope element into a ``Header`` and checks the
rules the XSD cannot say (``Class`` names the body element, each ``To`` has
exactly one of ``authority`` and ``scope``, requests that carry personal data
say on whose behalf and why).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal

from lxml import etree

from hub.errors import SchemaInvalid
from hub.identifiers import (
    AuthorityCode,
    MessageId,
    new_message_id,
    parse_authority,
    parse_message_id,
    parse_recipient_code,
)

__all__ = [
    "DS_NS",
    "ENV_NS",
    "Header",
    "Party",
    "Practitioner",
    "Recipient",
    "body_of",
    "build_envelope",
    "format_time",
    "parse_time",
    "read_header",
    "recipients_of",
]

ENV_NS: Final = "urn:lcpc:irt:envelope:1"
DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
ENVELOPE_VERSION: Final = "1.0"

_E: Final = f"{{{ENV_NS}}}"
_TO: Final = _E + "To"
Scope = Literal["neighbours", "london"]
Qualifier = Literal["request", "response", "acknowledgement", "notification", "error"]

_CLASSES_ACTING_FOR_A_PRACTITIONER: Final = frozenset({"KnownToQuery", "Referral", "ServiceSearch"})
"""Requests that carry or seek personal data: OnBehalfOf, Purpose and Consent required."""


@dataclass(frozen=True, slots=True)
class Party:
    """The sender: an authority code and, optionally, which of its nodes."""

    authority: AuthorityCode
    node: str | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    """One ``To``: an authority (optionally a node), or a scope the hub expands.

    A received ``authority`` is only well formed (``parse_recipient_code``);
    the receiver asks its directory whether it exists."""

    authority: AuthorityCode | None = None
    node: str | None = None
    scope: Scope | None = None

    def __post_init__(self) -> None:
        if (self.authority is None) == (self.scope is None):
            raise SchemaInvalid("each To must carry exactly one of authority and scope")


@dataclass(frozen=True, slots=True)
class Practitioner:
    """``OnBehalfOf``: carried for audit and policy, never for authentication."""

    practitioner: str
    role: str
    agency: str


@dataclass(frozen=True, slots=True)
class Header:
    """The typed ``env:Header``; every instance is consistent with SPEC §2."""

    message_class: str
    qualifier: Qualifier
    sender: Party
    recipients: tuple[Recipient, ...]
    created: datetime
    message_id: MessageId = field(default_factory=new_message_id)
    correlation_id: MessageId | None = None
    expires: datetime | None = None
    on_behalf_of: Practitioner | None = None
    purpose: str | None = None
    consent: str | None = None

    def __post_init__(self) -> None:
        if not self.recipients:
            raise SchemaInvalid("a message needs at least one To")
        if self.created.tzinfo is None:
            raise SchemaInvalid("Created must carry a time zone")
        if self.expires is not None and self.expires <= self.created:
            raise SchemaInvalid("Expires must be later than Created")
        if self.message_class in _CLASSES_ACTING_FOR_A_PRACTITIONER and (
            self.on_behalf_of is None or self.purpose is None or self.consent is None
        ):
            raise SchemaInvalid(f"{self.message_class} must say OnBehalfOf, Purpose and Consent")


def format_time(moment: datetime) -> str:
    """UTC ``xs:dateTime`` with millisecond precision and ``Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """Parse a UTC ``xs:dateTime`` ending in ``Z``; raise ``SchemaInvalid`` otherwise."""
    if not text.endswith("Z"):
        raise SchemaInvalid(f"time {text!r} must be UTC and end with Z")
    try:
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError as exc:
        raise SchemaInvalid(f"time {text!r} is not an xs:dateTime") from exc


def build_envelope(header: Header, body: etree._Element) -> etree._Element:
    """An unsigned ``env:Envelope`` element carrying ``header`` and ``body``.

    A ``body`` that sits in another tree is copied; a parentless one is moved
    into the envelope, so build a fresh body per envelope.
    """
    root = etree.Element(_E + "Envelope", nsmap={"env": ENV_NS})
    root.set("Version", ENVELOPE_VERSION)
    head = etree.SubElement(root, _E + "Header")
    _text(head, "MessageID", header.message_id)
    if header.correlation_id is not None:
        _text(head, "CorrelationID", header.correlation_id)
    _text(head, "Class", header.message_class)
    _text(head, "Qualifier", header.qualifier)
    _text(head, "Created", format_time(header.created))
    if header.expires is not None:
        _text(head, "Expires", format_time(header.expires))
    sender = etree.SubElement(head, _E + "From", authority=header.sender.authority)
    if header.sender.node:
        sender.set("node", header.sender.node)
    for recipient in header.recipients:
        to = etree.SubElement(head, _E + "To")
        for name in ("authority", "node", "scope"):
            value = getattr(recipient, name)
            if value is not None:
                to.set(name, value)
    if header.on_behalf_of is not None:
        who = header.on_behalf_of
        etree.SubElement(
            head,
            _E + "OnBehalfOf",
            practitioner=who.practitioner,
            role=who.role,
            agency=who.agency,
        )
    if header.purpose is not None:
        _text(head, "Purpose", header.purpose)
    if header.consent is not None:
        _text(head, "Consent", header.consent)
    etree.SubElement(root, _E + "Body").append(_copy(body))
    return root


def body_of(envelope: etree._Element) -> etree._Element:
    """The single element inside ``env:Body``; raise ``SchemaInvalid`` if there is not one."""
    body = envelope.find(_E + "Body")
    children = [] if body is None else [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise SchemaInvalid(f"env:Body must hold exactly one element, found {len(children)}")
    return children[0]


def read_header(envelope: etree._Element) -> Header:
    """The typed header of a schema-valid envelope; raise ``SchemaInvalid`` on rule breaks."""
    head = envelope.find(_E + "Header")
    if head is None:
        raise SchemaInvalid("envelope has no env:Header")
    # One pass over the header's children: this runs on every message.
    fields: dict[str, etree._Element] = {}
    recipients: list[Recipient] = []
    for child in head:
        if child.tag == _TO:
            recipients.append(_recipient(child))
        elif isinstance(child.tag, str):
            fields[child.tag] = child
    body = body_of(envelope)
    message_class = _text_of(fields, "Class")
    if etree.QName(body).localname != message_class:
        raise SchemaInvalid(
            f"Class {message_class!r} does not name the body element "
            f"{etree.QName(body).localname!r}"
        )
    sender = fields[_E + "From"]
    expires = fields.get(_E + "Expires")
    correlation = fields.get(_E + "CorrelationID")
    on_behalf = fields.get(_E + "OnBehalfOf")
    purpose = fields.get(_E + "Purpose")
    consent = fields.get(_E + "Consent")
    return Header(
        message_id=parse_message_id(_text_of(fields, "MessageID")),
        correlation_id=parse_message_id(correlation.text or "")
        if correlation is not None
        else None,
        message_class=message_class,
        qualifier=_text_of(fields, "Qualifier"),  # type: ignore[arg-type]  # schema enumerates
        created=parse_time(_text_of(fields, "Created")),
        expires=parse_time(expires.text or "") if expires is not None else None,
        sender=Party(parse_authority(sender.get("authority", "")), sender.get("node")),
        recipients=tuple(recipients),
        on_behalf_of=(
            None
            if on_behalf is None
            else Practitioner(
                on_behalf.get("practitioner", ""),
                on_behalf.get("role", ""),
                on_behalf.get("agency", ""),
            )
        ),
        purpose=purpose.text if purpose is not None else None,
        consent=consent.text if consent is not None else None,
    )


def _recipient(to: etree._Element) -> Recipient:
    authority = to.get("authority")
    scope = to.get("scope")
    return Recipient(
        authority=parse_recipient_code(authority) if authority is not None else None,
        node=to.get("node"),
        scope=scope,  # type: ignore[arg-type]  # schema enumerates
    )


def _text_of(fields: dict[str, etree._Element], name: str) -> str:
    element = fields.get(_E + name)
    if element is None or not element.text:
        raise SchemaInvalid(f"env:Header has no {name}")
    return element.text


def _text(parent: etree._Element, name: str, value: str) -> None:
    etree.SubElement(parent, _E + name).text = value


def _copy(element: etree._Element) -> etree._Element:
    # Appending would move the caller's element out of its own tree; a body
    # built for this envelope alone (no parent) is taken as it is.
    return element if element.getparent() is None else copy.deepcopy(element)


def recipients_of(authorities: Sequence[AuthorityCode]) -> tuple[Recipient, ...]:
    """One ``Recipient`` per authority code, in order."""
    return tuple(Recipient(authority=code) for code in authorities)
