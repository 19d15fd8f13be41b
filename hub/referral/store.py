"""What the hub stores about referrals, behind three small interfaces.

- ``ReferralStore``: each referral accepted, with its receipt and delivery
  state; ``accept`` writes the referral and its first outbox row in one
  transaction, so nothing is acknowledged that is not also queued.
- ``StatusLog``: the status notifications of each referral, oldest first;
  ``add`` writes the status and the row that relays it in one transaction.
- ``Outbox``: signed envelopes waiting to be delivered. A worker ``claim``s
  due rows (taking a lease and counting the attempt), posts them, and
  ``settle``s each with an outcome. The claim is the step a PostgreSQL
  implementation does with ``SELECT … FOR UPDATE SKIP LOCKED`` so several
  hubs can share one queue.

``ReferralStorage`` is all three, plus what the hub's storage wiring needs
(outbox counts for the metrics, closing).
``hub.storage.sqlite.referrals.SqliteReferralStore`` implements it on one
SQLite file, ``hub.storage.postgresql.referrals.PgReferralStore`` on the
database several hubs share. Every method raises ``InternalError`` when
storage fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, Protocol

from hub.identifiers import AuthorityCode, MessageId

__all__ = [
    "REFERRAL_COLUMNS",
    "STATUS_COLUMNS",
    "Delivered",
    "DeliveryState",
    "GiveUp",
    "Outbox",
    "OutboxItem",
    "OutboxKind",
    "Outcome",
    "Outgoing",
    "ReferralRecord",
    "ReferralStorage",
    "ReferralStore",
    "RetryLater",
    "StatusLog",
    "StatusRecord",
    "referral_from_row",
    "status_from_row",
]

REFERRAL_COLUMNS: Final = (
    "message_id, referrer, target, service_id, digest, received_at, deliver_by,"
    " granted_level, decision_digest, referral, receipt, state, node_receipt"
)
"""The ``referral`` table's columns in ``referral_from_row`` order, on every backend."""
STATUS_COLUMNS: Final = (
    "message_id, referral_id, status, at, received_at, digest, body, signed, ack"
)
"""The ``referral_status`` table's columns in ``status_from_row`` order."""


DeliveryState = Literal["queued", "delivered", "failed"]
"""referral.xsd ``DeliveryState``."""
OutboxKind = Literal["forward", "status", "failure"]
"""A ``ReferralForward`` to the receiving node, a relayed ``ReferralStatus``
or a ``ReferralDeliveryFailure`` to the referrer's node."""


@dataclass(frozen=True, slots=True)
class ReferralRecord:
    """One accepted referral."""

    message_id: MessageId
    referrer: AuthorityCode
    target: AuthorityCode
    service_id: str
    digest: bytes
    """SHA-256 of ``referral``: a repeat with other bytes is a duplicate."""
    received_at: datetime
    deliver_by: datetime
    """End of the delivery window."""
    granted_level: str
    """The ISP decision's level; bounds what statuses may disclose."""
    decision_digest: str
    referral: bytes
    """The referrer's exact signed bytes."""
    receipt: bytes
    """The hub's signed ``ReferralReceipt``, sent again for a repeat."""
    state: DeliveryState = "queued"
    node_receipt: bytes | None = None
    """The receiving node's signed ``ReferralReceipt`` once delivered."""


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """One ``ReferralStatus`` received from the receiving node."""

    message_id: MessageId
    """The node's message carrying the status."""
    referral_id: MessageId
    status: str
    at: datetime
    """When the status changed, as the node says."""
    received_at: datetime
    digest: bytes
    body: bytes
    """The ``r:ReferralStatus`` element, serialised, for the history."""
    signed: bytes
    """The node's exact signed bytes (evidence)."""
    ack: bytes
    """The hub's signed acknowledgement, sent again for a repeat."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A signed envelope to deliver: the same bytes on every attempt."""

    referral_id: MessageId
    kind: OutboxKind
    recipient: AuthorityCode
    message_id: MessageId
    payload: bytes
    deadline: datetime
    """After this the recipient would refuse the bytes as expired: give up."""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """An ``Outgoing`` as claimed from the outbox."""

    id: int
    outgoing: Outgoing
    attempts: int
    """Attempts so far, this one included."""
    created: datetime


@dataclass(frozen=True, slots=True)
class Delivered:
    """The recipient's signed receipt arrived."""

    answer: bytes


@dataclass(frozen=True, slots=True)
class RetryLater:
    """This attempt failed; try again at ``at``."""

    at: datetime
    error: str


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Stop trying; for a forward, the referral failed and ``notice`` tells the referrer."""

    error: str
    notice: Outgoing | None = None


Outcome = Delivered | RetryLater | GiveUp


class ReferralStore(Protocol):
    """Accepted referrals."""

    def accept(self, record: ReferralRecord, forward: Outgoing) -> ReferralRecord:
        """Store ``record`` and queue ``forward`` atomically; return what is stored.

        If a referral with that MessageID is already stored, nothing is
        written and the stored one is returned (the caller compares digests).
        """
        ...

    def get(self, message_id: MessageId) -> ReferralRecord | None:
        """The referral with ``message_id``, if stored."""
        ...


class StatusLog(Protocol):
    """Status notifications of accepted referrals."""

    def add(self, status: StatusRecord, relay: Outgoing) -> StatusRecord:
        """Store ``status`` and queue ``relay`` atomically; return what is stored.

        A status with that MessageID already stored is returned unchanged.
        """
        ...

    def statuses(self, referral_id: MessageId) -> list[StatusRecord]:
        """The statuses of one referral in the order they arrived."""
        ...


class Outbox(Protocol):
    """Signed envelopes awaiting delivery."""

    def claim(
        self, *, owner: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[OutboxItem]:
        """Reserve up to ``limit`` due rows for ``owner``, counting one attempt each."""
        ...

    def settle(self, item: OutboxItem, outcome: Outcome, *, now: datetime) -> None:
        """Record ``outcome`` for a claimed row (and its referral) atomically."""
        ...

    def release(self, owner: str) -> int:
        """Free every lease ``owner`` holds (a restarted worker); return how many."""
        ...

    def next_due(self) -> datetime | None:
        """When the earliest pending row falls due, or ``None`` when none is pending."""
        ...


class ReferralStorage(ReferralStore, StatusLog, Outbox, Protocol):
    """Referrals, their statuses and the outbox as the hub holds them."""

    def counts(self) -> dict[str, int]:
        """Outbox rows by state (``pending``, ``done``, ``dead``), for the metrics."""
        ...

    def close(self) -> None:
        """Release the store; closing it again does nothing."""
        ...


def referral_from_row(row: Sequence[Any], *, time: Callable[[Any], datetime]) -> ReferralRecord:
    """A ``ReferralRecord`` from a row in ``REFERRAL_COLUMNS`` order.

    ``time`` turns the backend's stored time into a UTC ``datetime``.
    """
    return ReferralRecord(
        message_id=MessageId(row[0]),
        referrer=AuthorityCode(row[1]),
        target=AuthorityCode(row[2]),
        service_id=row[3],
        digest=bytes(row[4]),
        received_at=time(row[5]),
        deliver_by=time(row[6]),
        granted_level=row[7],
        decision_digest=row[8],
        referral=bytes(row[9]),
        receipt=bytes(row[10]),
        state=row[11],
        node_receipt=bytes(row[12]) if row[12] is not None else None,
    )


def status_from_row(row: Sequence[Any], *, time: Callable[[Any], datetime]) -> StatusRecord:
    """A ``StatusRecord`` from a row in ``STATUS_COLUMNS`` order."""
    return StatusRecord(
        message_id=MessageId(row[0]),
        referral_id=MessageId(row[1]),
        status=row[2],
        at=time(row[3]),
        received_at=time(row[4]),
        digest=bytes(row[5]),
        body=bytes(row[6]),
        signed=bytes(row[7]),
        ack=bytes(row[8]),
    )
