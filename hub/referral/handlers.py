"""Referrals at the hub: accept, check, persist, acknowledge; relay statuses (SPEC §6).

For one verified ``Referral`` the hub:

(1) answers a repeat at once: a stored referral with this MessageID and the
    same bytes from the same sender gets its original receipt, byte for
    byte; other bytes are ``duplicate-message``. The store is asked, not only
    the verifier's sighting, so a referral seen just before a crash but
    never stored is processed now;
(2) routes it: exactly one ``To`` authority, not the referrer itself, whose
    catalogue lists ``ServiceID`` (else ``unknown-recipient``);
(3) checks the service's criteria (``hub.services.eligibility``) for a child
    resident in the referring authority; a failure is ``policy-denied``
    citing ``eligibility:<rule>`` and a plain reason;
(4) decides with both ISPs (SPEC §7, message class ``referral``); a deny,
    a granted level below ``MIN_REFERRAL_LEVEL``, or a category the decision
    does not allow, is ``policy-denied`` citing the ISP rules;
(5) signs the ``ReferralForward`` (decision, deadline, original bytes) and
    the ``ReferralReceipt`` once, and stores the referral, the receipt and
    the forward's outbox row in one transaction: nothing is acknowledged
    that is not durable, and a storage failure is ``internal-error``;
(6) logs the forward and the receipt, now that they are the ones the hub
    will send, answers ``202`` with the receipt and wakes the courier.

A ``ReferralStatus`` from the receiving authority is checked (it names a
referral sent to that authority; a practitioner's contact only when the
grant reached ``contacts``), stored with a hub-signed copy queued for the
referrer, and acknowledged with a ``ReferralReceipt``. A
``ReferralStatusQuery`` from the referrer is answered from the store.

**Logged after commit** (SPEC §8, docs/audit.md): what the hub signs for a
referral or status is logged once the transaction that keeps it has
committed, and before it is first sent, with ``record_once``: by the
handler right after the commit, or, after a crash between the two, by the
courier before its first attempt and by the answer to a repeat. A message
signed for a transaction that never committed (a crash, a race lost to a
concurrent repeat) is never logged and never sent, so every hub-signed
forward, relay and receipt in the log is one the hub sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from lxml import etree

from hub.clock import Clock
from hub.disclosure import decision_element, level_rank
from hub.endpoint import Reply
from hub.errors import DuplicateMessage, PolicyDenied, UnknownRecipient
from hub.identifiers import HUB, AuthorityCode, MessageId
from hub.messenger import Messenger
from hub.policy.decision import Decision
from hub.policy.engine import PolicyEngine
from hub.policy.request import PolicyRequest
from hub.referral.courier import Courier
from hub.referral.lifecycle import check_status
from hub.referral.messages import (
    REFERRAL_NS,
    ReferralSummary,
    StatusUpdate,
    forward_body,
    history_body,
    receipt_body,
)
from hub.referral.settings import ReferralSettings
from hub.referral.store import Outgoing, ReferralRecord, ReferralStore, StatusLog, StatusRecord
from hub.services.eligibility import check_eligibility
from hub.services.handlers import CatalogueHandlers
from hub.verify import VerifiedMessage
from hub.xmlparse import parse_untrusted

__all__ = ["MAX_HISTORY", "MIN_REFERRAL_LEVEL", "ReferralHandlers"]

MIN_REFERRAL_LEVEL: Final = "agencies"
"""Lowest granted level a referral passes at: once it is delivered the
receiving service is involved with the child and its statuses say so, which
is what ``agencies`` discloses (SPEC §1); ``existence`` alone is not enough."""
MAX_HISTORY: Final = 100
"""referral.xsd: a ``ReferralStatusHistory`` holds at most 100 statuses."""

_R: Final = f"{{{REFERRAL_NS}}}"


@dataclass(frozen=True)
class ReferralHandlers:
    """Handles ``Referral``, ``ReferralStatus`` and ``ReferralStatusQuery``."""

    messenger: Messenger
    catalogues: CatalogueHandlers
    """Where the referred service is looked up, in the catalogues the hub holds."""
    policy: PolicyEngine
    referrals: ReferralStore
    statuses: StatusLog
    courier: Courier
    clock: Clock
    settings: ReferralSettings

    async def handle_referral(self, message: VerifiedMessage) -> Reply:
        """Steps (1)-(6) for one ``Referral``."""
        header = message.header
        referrer = header.sender.authority
        stored = await self.messenger.run(self.referrals.get, header.message_id)  # (1)
        if stored is not None:
            return await self._repeat(stored.referrer, stored.digest, stored.receipt, message)
        target = _single_target(message)  # (2)
        summary = ReferralSummary.from_element(message.body, header_consent=header.consent)
        service = self.catalogues.find(target, summary.service_id)
        now = self.clock.now()
        problem = check_eligibility(service, summary.facts(referrer), today=now.date())  # (3)
        if problem is not None:
            raise PolicyDenied(
                f"not eligible for {target} service {service.id} ({problem.rule_id}): "
                f"{problem.reason}"
            )
        decision = self._decide(message, target, summary)  # (4)
        deliver_by = now + self.settings.delivery_window
        forward = await self._forward(message, target, decision, deliver_by)  # (5)
        receipt = await self._sign(
            receipt_body(
                header.message_id,
                received_at=now,
                received_by=HUB,
                note=f"Queued for delivery to {target}; status updates will follow.",
            ),
            to=referrer,
            correlation_id=header.message_id,
            expires=deliver_by,
        )
        record = ReferralRecord(
            message_id=header.message_id,
            referrer=referrer,
            target=target,
            service_id=service.id,
            digest=message.document.digest,
            received_at=now,
            deliver_by=deliver_by,
            granted_level=decision.level,
            decision_digest=decision.digest(),
            referral=message.raw,
            receipt=receipt,
        )
        kept = await self.messenger.run(self.referrals.accept, record, forward)
        if kept.receipt != receipt:  # the same MessageID raced this one into the store
            return await self._repeat(kept.referrer, kept.digest, kept.receipt, message)
        await self.messenger.record_once(forward.payload, decision_digest=decision.digest())  # (6)
        await self.messenger.record_once(receipt)
        self.courier.wake()
        return _acknowledgement(receipt)

    async def handle_status(self, message: VerifiedMessage) -> Reply:
        """Record a ``ReferralStatus`` from the receiving authority and queue its relay."""
        header = message.header
        update = StatusUpdate.from_element(message.body)
        referral = await self.messenger.run(self.referrals.get, update.referral_id)
        if referral is None or referral.target != header.sender.authority:
            raise UnknownRecipient(
                f"no referral {update.referral_id} was sent to {header.sender.authority}"
            )
        history = await self.messenger.run(self.statuses.statuses, update.referral_id)
        existing = [s for s in history if s.message_id == header.message_id]
        if existing:
            return await self._repeat(referral.target, existing[0].digest, existing[0].ack, message)
        check_status(update, history[-1].status if history else None)
        if update.practitioner is not None and level_rank(referral.granted_level) < level_rank(
            "contacts"
        ):
            raise PolicyDenied(
                f"the ISP decision for this referral granted {referral.granted_level}; a "
                "practitioner's contact details need contacts"
            )
        now = self.clock.now()
        deadline = now + self.settings.delivery_window
        relay_header = self.messenger.header(
            message_class="ReferralStatus",
            qualifier="notification",
            to=referral.referrer,
            correlation_id=update.referral_id,
            expires=deadline,
        )
        relay = await self.messenger.sign(relay_header, message.body)
        ack = await self._sign(
            receipt_body(
                update.referral_id,
                received_at=now,
                received_by=HUB,
                note=f"Status {update.status} recorded; it will be relayed to {referral.referrer}.",
            ),
            to=header.sender.authority,
            correlation_id=header.message_id,
            expires=deadline,
        )
        record = StatusRecord(
            message_id=header.message_id,
            referral_id=update.referral_id,
            status=update.status,
            at=update.at,
            received_at=now,
            digest=message.document.digest,
            body=etree.tostring(message.body),
            signed=message.raw,
            ack=ack,
        )
        outgoing = Outgoing(
            referral_id=update.referral_id,
            kind="status",
            recipient=referral.referrer,
            message_id=relay_header.message_id,
            payload=relay,
            deadline=deadline,
        )
        kept = await self.messenger.run(self.statuses.add, record, outgoing)
        if kept.ack == ack:  # else a concurrent repeat stored its own first
            await self.messenger.record_once(
                relay, relay_header, decision_digest=referral.decision_digest
            )
        await self.messenger.record_once(kept.ack)
        self.courier.wake()
        return _acknowledgement(kept.ack)

    async def handle_status_query(self, message: VerifiedMessage) -> Reply:
        """Answer a ``ReferralStatusQuery`` from the referrer with the history."""
        referral_id = MessageId(message.body.findtext(_R + "ReferralMessageID") or "")
        referral = await self.messenger.run(self.referrals.get, referral_id)
        if referral is None or referral.referrer != message.header.sender.authority:
            raise UnknownRecipient(
                f"the hub holds no referral {referral_id} sent by {message.header.sender.authority}"
            )
        statuses = await self.messenger.run(self.statuses.statuses, referral_id)
        return Reply(
            body=history_body(
                referral_id,
                delivery_state=referral.state,
                statuses=[parse_untrusted(s.body) for s in statuses[-MAX_HISTORY:]],
            )
        )

    def _decide(
        self, message: VerifiedMessage, target: AuthorityCode, summary: ReferralSummary
    ) -> Decision:
        header = message.header
        decision = self.policy.decide(
            PolicyRequest(
                requester=header.sender.authority,
                responder=target,
                purpose=header.purpose or "",
                consent=header.consent or "",
                agency=header.on_behalf_of.agency if header.on_behalf_of else "",
                level="details",
                message_class="referral",
            )
        )
        if not decision.permitted:
            rules = [r for b in decision.basis if b.kind != "permit" for r in b.rule_ids]
            cited = f" (rules: {', '.join(rules)})" if rules else " (no rule permits it)"
            raise PolicyDenied(f"{decision.reason}{cited}")
        if level_rank(decision.level) < level_rank(MIN_REFERRAL_LEVEL):
            rules = [r for b in decision.basis for r in b.rule_ids]
            raise PolicyDenied(
                f"the ISPs permit only {decision.level} for this purpose and consent; a "
                f"referral needs {MIN_REFERRAL_LEVEL}, since its statuses name the service "
                f"involved (rules: {', '.join(rules)})"
            )
        outside = sorted(summary.categories - decision.categories)
        if outside:
            rules = [r for b in decision.basis for r in b.rule_ids]
            raise PolicyDenied(
                f"the ISPs permit this referral only for "
                f"{', '.join(sorted(decision.categories)) or 'no category'}, not for "
                f"{', '.join(outside)} (rules: {', '.join(rules)})"
            )
        return decision

    async def _forward(
        self,
        message: VerifiedMessage,
        target: AuthorityCode,
        decision: Decision,
        deliver_by: datetime,
    ) -> Outgoing:
        header = self.messenger.header(
            message_class="ReferralForward",
            qualifier="request",
            to=target,
            correlation_id=message.header.message_id,
            expires=deliver_by,
        )
        body = forward_body(
            decision_element(_R + "Decision", decision, deadline=deliver_by), message.raw
        )
        payload = await self.messenger.sign(header, body)  # logged once stored: (6)
        return Outgoing(
            referral_id=message.header.message_id,
            kind="forward",
            recipient=target,
            message_id=header.message_id,
            payload=payload,
            deadline=deliver_by,
        )

    async def _sign(
        self,
        body: etree._Element,
        *,
        to: AuthorityCode,
        correlation_id: MessageId,
        expires: datetime,
    ) -> bytes:
        """Sign an acknowledgement, to be logged once stored. It carries
        ``Expires``: sent again for a repeat days later, it must still pass the
        receiver's freshness check."""
        header = self.messenger.header(
            message_class=etree.QName(body).localname,
            qualifier="acknowledgement",
            to=to,
            correlation_id=correlation_id,
            expires=expires,
        )
        return await self.messenger.sign(header, body)

    async def _repeat(
        self, sender: AuthorityCode, digest: bytes, answer: bytes, message: VerifiedMessage
    ) -> Reply:
        """The stored answer to a repeat, logged first if a crash kept it from the log."""
        if sender != message.header.sender.authority or digest != message.document.digest:
            raise DuplicateMessage(
                f"MessageID {message.header.message_id} was already received with different content"
            )
        await self.messenger.record_once(answer)
        return _acknowledgement(answer)


def _single_target(message: VerifiedMessage) -> AuthorityCode:
    recipients = message.header.recipients
    if len(recipients) != 1 or recipients[0].authority is None:
        raise UnknownRecipient("a referral names exactly one To authority: the service's")
    target = recipients[0].authority
    if target in (HUB, message.header.sender.authority):
        raise UnknownRecipient(f"a referral goes to another authority's service, not to {target}")
    return target


def _acknowledgement(signed: bytes) -> Reply:
    body = etree.Element(_R + "ReferralReceipt")
    return Reply(body=body, status=202, qualifier="acknowledgement", presigned=signed)
