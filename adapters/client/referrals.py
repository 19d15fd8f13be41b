"""The borough-side referral client: refer a child, follow the referral, post its status.

``ReferralClient`` works through a ``HubExchange`` (the borough's key, the
hub's URL, mutual TLS). A referral is signed once by ``prepare`` and the
same bytes are posted by ``submit`` however often it is repeated, so the
hub's duplicate elimination turns a repeat after a lost answer into the
original receipt. Its ``Expires`` covers the delivery window, so the hub
remembers its MessageID at least that long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from lxml import etree

from adapters.client.exchange import HubExchange, Signed
from adapters.client.knownto import ChildQuery
from hub.disclosure import COMMON_NS
from hub.envelope import Practitioner, parse_time
from hub.errors import SchemaInvalid
from hub.identifiers import HUB, AuthorityCode, MessageId, parse_authority
from hub.referral.messages import REFERRAL_NS, Contact, StatusUpdate
from hub.verify import VerifiedMessage

__all__ = [
    "DEFAULT_EXPIRY",
    "ChronologyEntry",
    "Receipt",
    "ReferralClient",
    "ReferralDraft",
    "StatusHistory",
]

DEFAULT_EXPIRY: Final = timedelta(days=5)
"""``Expires`` of a referral: the hub's default delivery window."""

_R: Final = f"{{{REFERRAL_NS}}}"
_C: Final = f"{{{COMMON_NS}}}"
_NSMAP: Final = {"r": REFERRAL_NS, "c": COMMON_NS}


@dataclass(frozen=True, slots=True)
class ChronologyEntry:
    """One significant event in the child's life."""

    on: date
    agency: str
    summary: str


@dataclass(frozen=True, slots=True)
class ReferralDraft:
    """What the practitioner fills in to refer a child to a service."""

    to: AuthorityCode
    """The authority whose catalogue lists the service."""
    service_id: str
    child: ChildQuery
    concern_level: int
    categories: tuple[str, ...]
    reason: str
    consent: str
    referrer: Contact | None = None
    chronology: tuple[ChronologyEntry, ...] = ()

    def body(self) -> etree._Element:
        """The ``r:Referral`` element, in schema order."""
        body = etree.Element(_R + "Referral", nsmap=_NSMAP)
        etree.SubElement(body, _R + "ServiceID").text = self.service_id
        subject = self.child.body().find("{urn:lcpc:irt:knownto:1}Subject")
        if subject is None:  # pragma: no cover - ChildQuery.body always writes one
            raise SchemaInvalid("the child has no subject")
        child = etree.SubElement(body, _R + "Child")
        child.extend(list(subject))
        etree.SubElement(body, _R + "ConcernLevel").text = str(self.concern_level)
        for category in self.categories:
            etree.SubElement(body, _R + "Category").text = category
        etree.SubElement(body, _R + "Reason").text = self.reason
        etree.SubElement(body, _R + "Consent").text = self.consent
        if self.referrer is not None:
            body.append(self.referrer.element(_R + "Referrer"))
        if self.chronology:
            chronology = etree.SubElement(body, _R + "Chronology")
            for entry in self.chronology:
                item = etree.SubElement(chronology, _R + "Entry")
                etree.SubElement(item, _R + "Date").text = entry.on.isoformat()
                etree.SubElement(item, _R + "Agency").text = entry.agency
                etree.SubElement(item, _R + "Summary").text = entry.summary
        return body


@dataclass(frozen=True, slots=True)
class Receipt:
    """A signed ``ReferralReceipt``, checked."""

    referral_id: MessageId
    received_at: datetime
    received_by: AuthorityCode
    note: str | None
    signed: bytes
    """The exact signed bytes: the borough's proof of hand-over."""


@dataclass(frozen=True, slots=True)
class StatusHistory:
    """Where a referral stands: delivery, and every status so far."""

    referral_id: MessageId
    delivery_state: str
    statuses: tuple[StatusUpdate, ...]


@dataclass(frozen=True)
class ReferralClient:
    """Referrals from one borough; see the module docstring."""

    exchange: HubExchange

    def prepare(
        self,
        draft: ReferralDraft,
        *,
        practitioner: Practitioner,
        purpose: str,
        expires_in: timedelta = DEFAULT_EXPIRY,
    ) -> Signed:
        """Sign ``draft`` once; post the result with ``submit`` (again if need be)."""
        return self.exchange.sign(
            draft.body(),
            qualifier="request",
            to=draft.to,
            expires=self.exchange.clock.now() + expires_in,
            practitioner=practitioner,
            purpose=purpose,
            consent=draft.consent,
        )

    async def submit(self, referral: Signed, *, timeout: float = 30.0) -> Receipt:
        """Post a prepared referral; return the hub's checked receipt.

        Raises the hub's refusal (``policy-denied`` with the reason and rule,
        ``unknown-recipient``…) as its ``IrtError``.
        """
        answer = await self.exchange.send(referral, timeout=timeout)
        return _receipt(answer, referral.message_id)

    async def refer(
        self, draft: ReferralDraft, *, practitioner: Practitioner, purpose: str
    ) -> Receipt:
        """``prepare`` and ``submit`` in one step."""
        return await self.submit(self.prepare(draft, practitioner=practitioner, purpose=purpose))

    async def history(self, referral_id: MessageId) -> StatusHistory:
        """The hub's ``ReferralStatusHistory`` for a referral this borough sent."""
        body = etree.Element(_R + "ReferralStatusQuery", nsmap={"r": REFERRAL_NS})
        etree.SubElement(body, _R + "ReferralMessageID").text = referral_id
        answer = await self.exchange.send(self.exchange.sign(body, qualifier="request"))
        if answer.header.message_class != "ReferralStatusHistory":
            raise SchemaInvalid(f"the hub answered {answer.header.message_class}")
        return StatusHistory(
            referral_id=referral_id,
            delivery_state=answer.body.findtext(_R + "DeliveryState") or "",
            statuses=tuple(
                StatusUpdate.from_element(s) for s in answer.body.iterfind(_R + "ReferralStatus")
            ),
        )

    async def post_status(self, update: StatusUpdate) -> Receipt:
        """Tell the referrer, through the hub, that a referral received here moved on."""
        signed = self.exchange.sign(update.body(), qualifier="notification")
        return _receipt(await self.exchange.send(signed), update.referral_id)


def _receipt(answer: VerifiedMessage, referral_id: MessageId) -> Receipt:
    body = answer.body
    if answer.header.message_class != "ReferralReceipt":
        raise SchemaInvalid(f"the hub answered {answer.header.message_class}, not a receipt")
    named = body.findtext(_R + "ReferralMessageID")
    if named != referral_id:
        raise SchemaInvalid(f"the receipt names referral {named}, not {referral_id}")
    return Receipt(
        referral_id=referral_id,
        received_at=parse_time(body.findtext(_R + "ReceivedAt") or ""),
        received_by=parse_authority(body.findtext(_R + "ReceivedBy") or HUB),
        note=body.findtext(_R + "Note"),
        signed=answer.raw,
    )
