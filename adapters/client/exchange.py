"""The borough side of one exchange with the hub: sign, post, verify the answer.

``HubExchange`` is what the referral and catalogue clients (and a node
publishing its catalogue) share: it signs an envelope with the borough's
key, posts it to the hub over mutual TLS, and accepts only an answer signed
by the hub that correlates with what was sent. A signed ``env:Error`` is
raised as the ``IrtError`` of its SPEC code.

A post that fails in transport is repeated with the same bytes (SPEC §2), so
the hub's duplicate elimination makes it happen once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from lxml import etree

from adapters.config import NodeConfig
from hub.clock import Clock, SystemClock
from hub.envelope import Header, Party, Practitioner, Qualifier, Recipient, build_envelope
from hub.errors import Busy, DeliveryFailure, RequesterBusy, SenderMismatch, error_for_code
from hub.identifiers import HUB, AuthorityCode, MessageId
from hub.pki.trust import TrustStore
from hub.replay.guard import ReplayGuard
from hub.signing import Signer
from hub.storage.memory.seen import MemorySeenStore
from hub.transport.delivery import Delivery, HttpsDelivery
from hub.transport.tls import client_context
from hub.verify import EnvelopeVerifier, VerifiedMessage

__all__ = ["DEFAULT_ATTEMPTS", "HubExchange", "Signed"]

DEFAULT_ATTEMPTS: Final = 3
"""Posts of the same bytes before a transport failure is reported."""
_RETRY_PAUSE_SECONDS: Final = 0.5


@dataclass(frozen=True, slots=True)
class Signed:
    """A signed envelope ready to post, and its MessageID."""

    message_id: MessageId
    raw: bytes


@dataclass(frozen=True)
class HubExchange:
    """A borough's signed conversation with the hub; see the module docstring."""

    authority: AuthorityCode
    node_id: str
    signer: Signer
    verifier: EnvelopeVerifier
    """Verifies the hub's answers (trust root, CRL, freshness)."""
    delivery: Delivery
    hub_url: str
    clock: Clock

    @classmethod
    def from_node_config(cls, config: NodeConfig, *, hub_url: str | None = None) -> HubExchange:
        """The exchange of the borough of ``config``, with its keys and hub URL.

        Raises ``InternalError`` when a key or certificate cannot be loaded.
        """
        clock = SystemClock()
        return cls(
            authority=config.authority,
            node_id=config.node_id,
            signer=Signer.from_files(config.signing.key, config.signing.cert),
            verifier=EnvelopeVerifier(
                trust=TrustStore.from_files(config.tls.root, config.tls.crl),
                clock=clock,
                replay=ReplayGuard(store=MemorySeenStore(), clock=clock),
            ),
            delivery=HttpsDelivery(client_context(config.tls)),
            hub_url=hub_url or config.hub_url,
            clock=clock,
        )

    def sign(
        self,
        body: etree._Element,
        *,
        qualifier: Qualifier,
        to: AuthorityCode = HUB,
        recipients: tuple[Recipient, ...] = (),
        expires: datetime | None = None,
        practitioner: Practitioner | None = None,
        purpose: str | None = None,
        consent: str | None = None,
    ) -> Signed:
        """Sign ``body`` in an envelope from this borough, created now.

        It is addressed to ``recipients`` when given (authorities or a scope
        the hub expands), else to ``to``.
        """
        header = Header(
            message_class=etree.QName(body).localname,
            qualifier=qualifier,
            sender=Party(self.authority, self.node_id),
            recipients=recipients or (Recipient(authority=to),),
            created=self.clock.now(),
            expires=expires,
            on_behalf_of=practitioner,
            purpose=purpose,
            consent=consent,
        )
        return Signed(header.message_id, self.signer.sign(build_envelope(header, body)))

    async def send(
        self, signed: Signed, *, timeout: float = 30.0, attempts: int = DEFAULT_ATTEMPTS
    ) -> VerifiedMessage:
        """Post ``signed`` and return the hub's verified answer to it.

        Raises the ``IrtError`` the hub answered with (``Busy`` carrying the
        answer's ``Retry-After``), ``SenderMismatch`` or a verification error
        when the answer cannot be trusted, and the last ``DeliveryFailure``
        when every attempt failed in transport.
        """
        for attempt in range(1, attempts + 1):
            try:
                answer = await self.delivery.post(self.hub_url, signed.raw, timeout=timeout)
                break
            except DeliveryFailure:
                if attempt == attempts:
                    raise
                await asyncio.sleep(_RETRY_PAUSE_SECONDS * attempt)
        message = self.verifier.verify_envelope(answer.body)
        if message.header.sender.authority != HUB:
            raise SenderMismatch(f"the answer is signed by {message.header.sender.authority}")
        correlation = message.header.correlation_id
        # An error may come before the hub could read the MessageID, so without one.
        if message.header.message_class == "Error" and correlation in (None, signed.message_id):
            error = error_for_code(message.body.get("code", ""), message.body.text or "")
            if isinstance(error, Busy):  # 429: this borough's share; 503: the hub's
                busy = RequesterBusy if answer.status == 429 else Busy
                error = busy(error.reason, retry_after=answer.retry_after or 1)
            raise error
        if correlation != signed.message_id:
            raise SenderMismatch("the hub's answer does not correlate with the message sent")
        return message

    async def close(self) -> None:
        """Release the connections."""
        await self.delivery.close()
