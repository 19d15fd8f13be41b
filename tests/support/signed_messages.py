"""Real signed envelopes for the message-log tests, built from ``tests/assets/bodies``.

Every envelope is signed with a development PKI key (``dev_pki``) exactly as
a party would sign it; nothing here fakes crypto or XML.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import cast

from lxml import etree

from hub.envelope import (
    Header,
    Party,
    Practitioner,
    Qualifier,
    Recipient,
    Scope,
    build_envelope,
)
from hub.identifiers import HUB, AuthorityCode, MessageId, new_message_id
from hub.log.entry import Direction, LogEntry
from hub.signing import Signer
from tests.support.paths import BODIES

LAMBETH = AuthorityCode("E09000022")
SOUTHWARK = AuthorityCode("E09000028")
CROYDON = AuthorityCode("E09000008")
KT = "urn:lcpc:irt:knownto:1"
_ACTING = {"KnownToQuery", "Referral", "ServiceSearch"}

SignerFor = Callable[[str], Signer]


def body(name: str) -> etree._Element:
    """A fresh copy of the sample body ``name`` (e.g. ``KnownToQuery``)."""
    return etree.parse(str(BODIES / f"{name}.xml")).getroot()


def sign(
    signer_for: SignerFor,
    message_body: etree._Element,
    *,
    sender: str,
    to: Sequence[str] = (SOUTHWARK,),
    qualifier: Qualifier = "request",
    created: datetime,
    message_id: MessageId | None = None,
    correlation_id: MessageId | None = None,
    practitioner: str = "lam-sw-0142",
    purpose: str = "child-protection-s47",
) -> tuple[bytes, Header]:
    """Sign ``message_body`` from ``sender`` to ``to``; return the bytes and the header."""
    name = etree.QName(message_body).localname
    acting = name in _ACTING
    recipients = tuple(
        # Unchecked here on purpose: the envelope schema refuses any other scope.
        Recipient(scope=cast(Scope, code.removeprefix("scope:")))
        if code.startswith("scope:")
        else Recipient(authority=AuthorityCode(code))
        for code in to
    )
    header = Header(
        message_class=name,
        qualifier=qualifier,
        sender=Party(AuthorityCode(sender), None if sender == HUB else "irt-node"),
        recipients=recipients,
        created=created,
        message_id=message_id or new_message_id(),
        correlation_id=correlation_id,
        on_behalf_of=Practitioner(practitioner, "Social worker", "social-care") if acting else None,
        purpose=purpose if acting else None,
        consent="not-required" if acting else None,
    )
    raw = signer_for(sender).sign(build_envelope(header, message_body))
    return raw, header


def entry_for(
    raw: bytes, header: Header, *, direction: Direction, at: datetime | None = None
) -> LogEntry:
    """The log entry the hub writes for ``raw``, logged a second after ``Created``."""
    return LogEntry.for_message(
        raw, header, direction=direction, at=at or header.created + timedelta(seconds=1)
    )


def sample_messages(signer_for: SignerFor, created: datetime) -> list[tuple[LogEntry, bytes]]:
    """One signed message per sample body, alternating in and out, ready to append."""
    items: list[tuple[LogEntry, bytes]] = []
    for number, path in enumerate(sorted(BODIES.glob("*.xml"))):
        outgoing = number % 2 == 1
        raw, header = sign(
            signer_for,
            body(path.stem),
            sender=HUB if outgoing else LAMBETH,
            to=(SOUTHWARK,),
            created=created + timedelta(seconds=number),
        )
        items.append((entry_for(raw, header, direction="out" if outgoing else "in"), raw))
    return items


def with_children(element: etree._Element, tag: str, texts: Sequence[str]) -> etree._Element:
    """A copy of ``element`` whose ``tag`` children (knownto namespace) carry ``texts``."""
    copied = copy.deepcopy(element)
    for child, text in zip(copied.iter(f"{{{KT}}}{tag}"), texts, strict=False):
        child.text = text
    return copied
