"""What a node keeps about referrals, behind two small interfaces.

- ``Inbox``: referrals this authority received through the hub, each with
  the node's signed receipt (sent again for a repeated forward) and the
  statuses the node has posted about it since.
- ``SentReferrals``: referrals this authority sent, and the statuses and
  delivery failures the hub relayed back about them.

``adapters.referral.sqlite.SqliteNodeReferrals`` implements both. Every
method raises ``InternalError`` when storage fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from hub.identifiers import AuthorityCode, MessageId

__all__ = ["Inbox", "ReceivedReferral", "SentEvent", "SentReferral", "SentReferrals"]


@dataclass(frozen=True, slots=True)
class ReceivedReferral:
    """A referral delivered to this node by the hub."""

    referral_id: MessageId
    referrer: AuthorityCode
    service_id: str
    received_at: datetime
    granted_level: str
    """The hub's ISP decision; bounds what this node's statuses may disclose."""
    digest: bytes
    """SHA-256 of the referrer's signed bytes."""
    referral: bytes
    """The referrer's exact signed ``Referral`` (verified on arrival)."""
    forward: bytes
    """The hub's signed ``ReferralForward`` that carried it."""
    receipt: bytes
    """This node's signed ``ReferralReceipt``, sent again for a repeat."""
    status: str | None = None
    """The latest status this node posted, if any."""


@dataclass(frozen=True, slots=True)
class SentReferral:
    """A referral this authority sent, with the hub's receipt."""

    referral_id: MessageId
    target: AuthorityCode
    service_id: str
    sent_at: datetime
    referral: bytes
    receipt: bytes


@dataclass(frozen=True, slots=True)
class SentEvent:
    """A status or delivery failure the hub relayed about a referral sent from here."""

    message_id: MessageId
    """The hub's message carrying it."""
    referral_id: MessageId
    kind: Literal["status", "failure"]
    status: str
    """The status, or ``failed`` for a delivery failure."""
    at: datetime
    detail: str | None
    """A declined reason, an allocated practitioner, a closed outcome, a failure reason."""
    signed: bytes
    ack: bytes
    """This node's signed receipt, sent again for a repeat."""


class Inbox(Protocol):
    """Referrals received."""

    def receive(self, referral: ReceivedReferral) -> ReceivedReferral:
        """Store ``referral`` unless its ID is held; return what is stored."""
        ...

    def get(self, referral_id: MessageId) -> ReceivedReferral | None:
        """The referral received with ``referral_id``, if any."""
        ...

    def note_status(self, referral_id: MessageId, status: str) -> None:
        """Remember the latest status this node posted about a referral it received."""
        ...


class SentReferrals(Protocol):
    """Referrals sent, and what the hub relayed about them."""

    def record(self, referral: SentReferral) -> None:
        """Remember a referral sent and receipted by the hub (idempotent)."""
        ...

    def note(self, event: SentEvent) -> SentEvent:
        """Store ``event`` unless its MessageID is held; return what is stored."""
        ...

    def events(self, referral_id: MessageId) -> list[SentEvent]:
        """Everything relayed about one referral, in arrival order."""
        ...
