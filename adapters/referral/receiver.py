"""A borough node receiving referrals, and news of the referrals it sent (SPEC §6).

``ReferralForward`` from the hub. The node:

(1) accepts it from the hub only;
(2) answers a repeat with its original receipt, byte for byte: the hub
    retries with the same bytes until it has a receipt, and the node's store
    (not only its seen-message store) decides, so a referral seen just
    before a crash but never stored is processed now;
(3) verifies the referrer's original signed ``Referral`` on its own, and
    that the forward correlates with it and it was addressed to this
    authority: the node trusts the hub's routing, never its word about who
    referred;
(4) reads the hub's grant (SPEC §7 decision) and stores the referral with a
    signed ``ReferralReceipt`` in one transaction, then answers ``202`` with
    that receipt. A storage failure is ``internal-error`` and no receipt, so
    the hub tries again.

``ReferralStatus`` and ``ReferralDeliveryFailure`` from the hub are about
referrals this authority sent: each is stored once and acknowledged with a
``ReferralReceipt``; a status must follow the last one stored
(``hub.referral.lifecycle``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from lxml import etree

from adapters.referral.store import Inbox, ReceivedReferral, SentEvent, SentReferrals
from hub.disclosure import Grant
from hub.endpoint import Reply
from hub.envelope import build_envelope, parse_time
from hub.errors import DuplicateMessage, SchemaInvalid, SenderMismatch
from hub.identifiers import HUB, MessageId, parse_message_id
from hub.messenger import Messenger
from hub.referral.lifecycle import check_status
from hub.referral.messages import REFERRAL_NS, StatusUpdate, receipt_body
from hub.verify import EnvelopeVerifier, VerifiedMessage

__all__ = ["ReferralReceiver"]

_R: Final = f"{{{REFERRAL_NS}}}"
_ACK_LIFETIME: Final = timedelta(days=6)
"""Acknowledgements are sent again for repeats arriving days later, so they
carry an ``Expires`` as long as any message the hub may repeat."""


@dataclass(frozen=True)
class ReferralReceiver:
    """The node's referral handlers; see the module docstring."""

    messenger: Messenger
    originals: EnvelopeVerifier
    """Verifies the referrer's embedded referral; no replay store, since the
    forward carrying it is itself replay-checked."""
    inbox: Inbox
    sent: SentReferrals

    async def handle_forward(self, forward: VerifiedMessage) -> Reply:
        """Steps (1)-(4) for one ``ReferralForward``."""
        _from_hub(forward)  # (1)
        referral_id = forward.header.correlation_id
        if referral_id is None:
            raise SchemaInvalid("a ReferralForward must name the referral in CorrelationID")
        held = await self.messenger.run(self.inbox.get, referral_id)  # (2)
        if held is not None:
            return _repeat(held.forward == forward.raw, held.receipt, forward)
        original = await self.messenger.run(  # (3)
            self.originals.verify_envelope, _decode(forward.body.findtext(_R + "OriginalMessage"))
        )
        header = original.header
        if header.message_class != "Referral" or header.message_id != referral_id:
            raise SchemaInvalid("the forward's CorrelationID does not name the referral it carries")
        if [r.authority for r in header.recipients] != [self.messenger.authority]:
            raise SenderMismatch(
                f"the referral carried is not addressed to {self.messenger.authority}"
            )
        decision = forward.body.find(_R + "Decision")
        if decision is None:  # pragma: no cover - the schema requires it
            raise SchemaInvalid("ReferralForward has no Decision")
        grant = Grant.from_element(decision)  # (4)
        now = self.messenger.clock.now()
        receipt = await self._acknowledge(
            forward,
            referral_id,
            note=f"Received by {self.messenger.authority}; the service will be in touch.",
        )
        kept = await self.messenger.run(
            self.inbox.receive,
            ReceivedReferral(
                referral_id=referral_id,
                referrer=header.sender.authority,
                service_id=original.body.findtext(_R + "ServiceID") or "",
                received_at=now,
                granted_level=grant.level,
                digest=original.document.digest,
                referral=original.raw,
                forward=forward.raw,
                receipt=receipt,
            ),
        )
        return _repeat(kept.forward == forward.raw, kept.receipt, forward)

    async def handle_status(self, message: VerifiedMessage) -> Reply:
        """Store a relayed ``ReferralStatus`` about a referral sent from here."""
        _from_hub(message)
        update = StatusUpdate.from_element(message.body)
        events = await self.messenger.run(self.sent.events, update.referral_id)
        if all(e.message_id != message.header.message_id for e in events):
            # A repeat is answered below with its first receipt; a new status
            # must follow the last one stored (SPEC §6.4).
            statuses = [e.status for e in events if e.kind == "status"]
            check_status(update, statuses[-1] if statuses else None)
        detail = update.reason or update.outcome
        if update.practitioner is not None:
            contact = update.practitioner
            detail = ", ".join(v for v in (contact.name, contact.role, contact.phone) if v)
        return await self._note(
            message, update.referral_id, "status", update.status, update.at, detail
        )

    async def handle_failure(self, message: VerifiedMessage) -> Reply:
        """Store a ``ReferralDeliveryFailure`` about a referral sent from here."""
        _from_hub(message)
        body = message.body
        return await self._note(
            message,
            parse_message_id(body.findtext(_R + "ReferralMessageID") or ""),
            "failure",
            "failed",
            parse_time(body.findtext(_R + "LastAttempt") or ""),
            body.findtext(_R + "Reason"),
        )

    async def _note(
        self,
        message: VerifiedMessage,
        referral_id: MessageId,
        kind: str,
        status: str,
        at: datetime,
        detail: str | None,
    ) -> Reply:
        ack = await self._acknowledge(message, referral_id, note=f"{kind} {status} recorded")
        kept = await self.messenger.run(
            self.sent.note,
            SentEvent(
                message_id=message.header.message_id,
                referral_id=referral_id,
                kind="status" if kind == "status" else "failure",
                status=status,
                at=at,
                detail=detail,
                signed=message.raw,
                ack=ack,
            ),
        )
        return _repeat(kept.signed == message.raw, kept.ack, message)

    async def _acknowledge(
        self, message: VerifiedMessage, referral_id: MessageId, *, note: str
    ) -> bytes:
        now = self.messenger.clock.now()
        header = self.messenger.header(
            message_class="ReferralReceipt",
            qualifier="acknowledgement",
            to=HUB,
            correlation_id=message.header.message_id,
            expires=now + _ACK_LIFETIME,
        )
        body = receipt_body(
            referral_id, received_at=now, received_by=self.messenger.authority, note=note
        )
        return await self.messenger.run(self.messenger.signer.sign, build_envelope(header, body))


def _from_hub(message: VerifiedMessage) -> None:
    if message.header.sender.authority != HUB:
        raise SenderMismatch(f"only the hub may send {message.header.message_class} to a node")


def _repeat(same: bool, answer: bytes, message: VerifiedMessage) -> Reply:
    if not same:
        raise DuplicateMessage(
            f"{message.header.message_class} for this referral was already received "
            "with different content"
        )
    return Reply(
        body=etree.Element(_R + "ReferralReceipt"),
        status=202,
        qualifier="acknowledgement",
        presigned=answer,
    )


def _decode(text: str | None) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except binascii.Error as exc:
        raise SchemaInvalid("OriginalMessage is not valid base64") from exc
