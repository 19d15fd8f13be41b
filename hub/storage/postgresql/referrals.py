"""``ReferralStore``, ``StatusLog`` and ``Outbox`` on PostgreSQL, shared by hub instances.

The same tables and rules as ``hub.storage.sqlite.referrals`` (migration
``postgresql/0003_referrals.sql``), with what several instances need:

- ``accept`` and ``add`` insert ``ON CONFLICT DO NOTHING``: when the same
  referral reaches two instances at once, PostgreSQL makes the second wait
  for the first and then find its row, so both answer with the one stored
  receipt and one forward is queued;
- ``claim`` picks due rows ``FOR UPDATE SKIP LOCKED`` and leases them in the
  same statement, so two couriers never take the same row: each skips what
  the other is claiming and takes the next;
- a courier that dies holding leases leaves rows that fall due again when the
  lease runs out, for any instance (at least once; receivers deduplicate by
  MessageID, so the node records each referral once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Final, TypeVar

import asyncpg

from hub.errors import InternalError
from hub.identifiers import AuthorityCode, MessageId
from hub.referral.store import (
    REFERRAL_COLUMNS,
    STATUS_COLUMNS,
    Delivered,
    GiveUp,
    OutboxItem,
    Outcome,
    Outgoing,
    ReferralRecord,
    RetryLater,
    StatusRecord,
    referral_from_row,
    status_from_row,
)
from hub.storage.postgresql.database import PgDatabase

__all__ = ["PgReferralStore"]

_T = TypeVar("_T")

_REFERRAL_COLUMNS: Final = REFERRAL_COLUMNS
_STATUS_COLUMNS: Final = STATUS_COLUMNS
# Column lists are constants of this module, never input.
_INSERT_REFERRAL: Final = (
    f"INSERT INTO referral ({_REFERRAL_COLUMNS}) VALUES"  # noqa: S608
    " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    " ON CONFLICT (message_id) DO NOTHING"
)
_SELECT_REFERRAL: Final = f"SELECT {_REFERRAL_COLUMNS} FROM referral WHERE message_id = $1"  # noqa: S608
_INSERT_STATUS: Final = (
    f"INSERT INTO referral_status ({_STATUS_COLUMNS}) VALUES"  # noqa: S608
    " ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (message_id) DO NOTHING"
)
_SELECT_STATUS: Final = f"SELECT {_STATUS_COLUMNS} FROM referral_status WHERE message_id = $1"  # noqa: S608
_SELECT_STATUSES: Final = (
    f"SELECT {_STATUS_COLUMNS} FROM referral_status WHERE referral_id = $1 ORDER BY seq"  # noqa: S608
)
_CLAIM: Final = (
    "WITH due AS (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt <= $2"
    " AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_attempt, id LIMIT $4"
    " FOR UPDATE SKIP LOCKED)"
    " UPDATE outbox AS o SET lease_owner = $1, lease_until = $3, attempts = o.attempts + 1,"
    " last_attempt = $2 FROM due WHERE o.id = due.id"
    " RETURNING o.id, o.referral_id, o.kind, o.recipient, o.message_id, o.payload,"
    " o.deadline, o.attempts, o.created"
)
_FINISH: Final = (
    "UPDATE outbox SET state = $1, last_error = COALESCE($2, last_error), answer = $3,"
    " lease_owner = NULL, lease_until = NULL WHERE id = $4 AND state = 'pending'"
)


class PgReferralStore:
    """The shared ``ReferralStore``, ``StatusLog`` and ``Outbox`` in a ``PgDatabase``."""

    def __init__(self, database: PgDatabase) -> None:
        self._db = database
        self._closed = False

    # ------------------------------------------------------------ ReferralStore

    def accept(self, record: ReferralRecord, forward: Outgoing) -> ReferralRecord:
        """See ``ReferralStore.accept``."""

        async def work(connection: asyncpg.Connection) -> ReferralRecord:
            async with connection.transaction():
                inserted = await connection.execute(
                    _INSERT_REFERRAL,
                    record.message_id,
                    record.referrer,
                    record.target,
                    record.service_id,
                    record.digest,
                    record.received_at,
                    record.deliver_by,
                    record.granted_level,
                    record.decision_digest,
                    record.referral,
                    record.receipt,
                    record.state,
                    record.node_receipt,
                )
                if inserted != "INSERT 0 1":
                    existing = await connection.fetchrow(_SELECT_REFERRAL, record.message_id)
                    return _referral(existing)
                await _queue(connection, forward, now=record.received_at)
            return record

        return self._run(work, action="store a referral in")

    def get(self, message_id: MessageId) -> ReferralRecord | None:
        """See ``ReferralStore.get``."""

        async def work(connection: asyncpg.Connection) -> ReferralRecord | None:
            row = await connection.fetchrow(_SELECT_REFERRAL, message_id)
            return None if row is None else _referral(row)

        return self._run(work, action="read a referral from")

    # ---------------------------------------------------------------- StatusLog

    def add(self, status: StatusRecord, relay: Outgoing) -> StatusRecord:
        """See ``StatusLog.add``."""

        async def work(connection: asyncpg.Connection) -> StatusRecord:
            async with connection.transaction():
                inserted = await connection.execute(
                    _INSERT_STATUS,
                    status.message_id,
                    status.referral_id,
                    status.status,
                    status.at,
                    status.received_at,
                    status.digest,
                    status.body,
                    status.signed,
                    status.ack,
                )
                if inserted != "INSERT 0 1":
                    return _status(await connection.fetchrow(_SELECT_STATUS, status.message_id))
                await _queue(connection, relay, now=status.received_at)
            return status

        return self._run(work, action="store a referral status in")

    def statuses(self, referral_id: MessageId) -> list[StatusRecord]:
        """See ``StatusLog.statuses``."""

        async def work(connection: asyncpg.Connection) -> list[StatusRecord]:
            return [_status(row) for row in await connection.fetch(_SELECT_STATUSES, referral_id)]

        return self._run(work, action="read referral statuses from")

    # ------------------------------------------------------------------- Outbox

    def claim(
        self, *, owner: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[OutboxItem]:
        """See ``Outbox.claim``: ``FOR UPDATE SKIP LOCKED``, so instances never share a row."""

        async def work(connection: asyncpg.Connection) -> list[asyncpg.Record]:
            until = now + timedelta(seconds=lease_seconds)
            return list(await connection.fetch(_CLAIM, owner, now, until, limit))

        rows = self._run(work, action="claim outbox rows in")
        items = [
            OutboxItem(
                id=int(row[0]),
                outgoing=Outgoing(
                    referral_id=MessageId(row[1]),
                    kind=row[2],
                    recipient=AuthorityCode(row[3]),
                    message_id=MessageId(row[4]),
                    payload=bytes(row[5]),
                    deadline=row[6],
                ),
                attempts=int(row[7]),
                created=row[8],
            )
            for row in rows
        ]
        return sorted(items, key=lambda item: item.id)

    def settle(self, item: OutboxItem, outcome: Outcome, *, now: datetime) -> None:
        """See ``Outbox.settle``."""
        referral_id = item.outgoing.referral_id
        forward = item.outgoing.kind == "forward"

        async def work(connection: asyncpg.Connection) -> None:
            async with connection.transaction():
                if isinstance(outcome, RetryLater):
                    await connection.execute(
                        "UPDATE outbox SET next_attempt = $1, last_error = $2, lease_owner = NULL,"
                        " lease_until = NULL WHERE id = $3 AND state = 'pending'",
                        outcome.at,
                        outcome.error,
                        item.id,
                    )
                    return
                if isinstance(outcome, Delivered):
                    done = await connection.execute(_FINISH, "done", None, outcome.answer, item.id)
                    if done == "UPDATE 1" and forward:
                        await connection.execute(
                            "UPDATE referral SET state = 'delivered', node_receipt = $1"
                            " WHERE message_id = $2 AND state = 'queued'",
                            outcome.answer,
                            referral_id,
                        )
                    return
                assert isinstance(outcome, GiveUp)
                dead = await connection.execute(_FINISH, "dead", outcome.error, None, item.id)
                if dead == "UPDATE 1" and forward:
                    await connection.execute(
                        "UPDATE referral SET state = 'failed'"
                        " WHERE message_id = $1 AND state = 'queued'",
                        referral_id,
                    )
                if dead == "UPDATE 1" and outcome.notice is not None:
                    await _queue(connection, outcome.notice, now=now)

        self._run(work, action="settle an outbox row in")

    def release(self, owner: str) -> int:
        """See ``Outbox.release``."""

        async def work(connection: asyncpg.Connection) -> int:
            status = await connection.execute(
                "UPDATE outbox SET lease_owner = NULL, lease_until = NULL"
                " WHERE lease_owner = $1 AND state = 'pending'",
                owner,
            )
            return int(status.rsplit(" ", 1)[-1])

        return self._run(work, action="release outbox leases in")

    def next_due(self) -> datetime | None:
        """See ``Outbox.next_due``."""

        async def work(connection: asyncpg.Connection) -> datetime | None:
            value = await connection.fetchval(
                "SELECT MIN(GREATEST(next_attempt, lease_until)) FROM outbox"
                " WHERE state = 'pending'"
            )
            return value if isinstance(value, datetime) else None

        return self._run(work, action="read the outbox in")

    # ------------------------------------------------------------- operations

    def counts(self) -> dict[str, int]:
        """Outbox rows by state (``pending``, ``done``, ``dead``), for metrics and tests."""

        async def work(connection: asyncpg.Connection) -> dict[str, int]:
            rows = await connection.fetch("SELECT state, COUNT(*) FROM outbox GROUP BY state")
            return {str(row[0]): int(row[1]) for row in rows}

        return self._run(work, action="count outbox rows in")

    def check(self) -> None:
        """Raise ``InternalError`` unless the database answers."""

        async def work(connection: asyncpg.Connection) -> None:
            await connection.fetchval("SELECT 1 FROM outbox LIMIT 1")

        self._run(work, action="read the outbox in")

    def close(self) -> None:
        """Refuse later calls; the ``PgDatabase`` itself is closed by its owner."""
        self._closed = True

    def _run(self, work: Callable[[asyncpg.Connection], Awaitable[_T]], *, action: str) -> _T:
        if self._closed:
            raise InternalError("referral store failed: it is closed")
        return self._db.run(work, action=action)


async def _queue(connection: asyncpg.Connection, outgoing: Outgoing, *, now: datetime) -> None:
    await connection.execute(
        "INSERT INTO outbox (referral_id, kind, recipient, message_id, payload, deadline,"
        " created, next_attempt) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        outgoing.referral_id,
        outgoing.kind,
        outgoing.recipient,
        outgoing.message_id,
        outgoing.payload,
        outgoing.deadline,
        now,
    )


def _referral(row: asyncpg.Record) -> ReferralRecord:
    return referral_from_row(row, time=_as_is)


def _status(row: asyncpg.Record) -> StatusRecord:
    return status_from_row(row, time=_as_is)


def _as_is(value: datetime) -> datetime:
    # asyncpg returns timestamptz columns as aware datetimes already.
    return value
