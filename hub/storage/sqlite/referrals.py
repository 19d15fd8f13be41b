"""``ReferralStore``, ``StatusLog`` and ``Outbox`` on one SQLite file.

One file, so that accepting a referral and queueing its forward, or
recording a status and queueing its relay, is one transaction. Times are
stored as UNIX seconds (REAL). A claimed row carries ``lease_owner`` and
``lease_until``; it is due again when its lease has passed or its owner
releases it.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

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
from hub.storage.sqlite.database import SqliteDatabase

__all__ = ["SqliteReferralStore"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS referral (
    message_id      TEXT PRIMARY KEY,
    referrer        TEXT NOT NULL,
    target          TEXT NOT NULL,
    service_id      TEXT NOT NULL,
    digest          BLOB NOT NULL,
    received_at     REAL NOT NULL,
    deliver_by      REAL NOT NULL,
    granted_level   TEXT NOT NULL,
    decision_digest TEXT NOT NULL,
    referral        BLOB NOT NULL,
    receipt         BLOB NOT NULL,
    state           TEXT NOT NULL,
    node_receipt    BLOB
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS referral_status (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  TEXT NOT NULL UNIQUE,
    referral_id TEXT NOT NULL REFERENCES referral (message_id),
    status      TEXT NOT NULL,
    at          REAL NOT NULL,
    received_at REAL NOT NULL,
    digest      BLOB NOT NULL,
    body        BLOB NOT NULL,
    signed      BLOB NOT NULL,
    ack         BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS referral_status_by_referral ON referral_status (referral_id, seq);
CREATE TABLE IF NOT EXISTS outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    message_id   TEXT NOT NULL UNIQUE,
    payload      BLOB NOT NULL,
    deadline     REAL NOT NULL,
    created      REAL NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    lease_owner  TEXT,
    lease_until  REAL,
    last_attempt REAL,
    last_error   TEXT,
    answer       BLOB
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt);
"""

_REFERRAL_COLUMNS: Final = REFERRAL_COLUMNS
_STATUS_COLUMNS: Final = STATUS_COLUMNS
# Column lists are constants of this module, never input.
_INSERT_REFERRAL: Final = (
    f"INSERT INTO referral ({_REFERRAL_COLUMNS}) VALUES ({', '.join('?' * 13)})"  # noqa: S608
)
_SELECT_REFERRAL: Final = f"SELECT {_REFERRAL_COLUMNS} FROM referral WHERE message_id = ?"  # noqa: S608
_INSERT_STATUS: Final = (
    f"INSERT INTO referral_status ({_STATUS_COLUMNS}) VALUES ({', '.join('?' * 9)})"  # noqa: S608
)
_SELECT_STATUS: Final = f"SELECT {_STATUS_COLUMNS} FROM referral_status WHERE message_id = ?"  # noqa: S608
_SELECT_STATUSES: Final = (
    f"SELECT {_STATUS_COLUMNS} FROM referral_status WHERE referral_id = ? ORDER BY seq"  # noqa: S608
)


class SqliteReferralStore:
    """The durable ``ReferralStore``, ``StatusLog`` and ``Outbox``."""

    def __init__(self, path: Path) -> None:
        """Open or create the store at ``path``; raise ``InternalError`` on failure."""
        self._db = SqliteDatabase(path, schema=_SCHEMA, name="referral store")

    # ------------------------------------------------------------ ReferralStore

    def accept(self, record: ReferralRecord, forward: Outgoing) -> ReferralRecord:
        """See ``ReferralStore.accept``."""
        with self._db.transaction() as db:
            existing = _referral(db, record.message_id)
            if existing is not None:
                return existing
            db.execute(
                _INSERT_REFERRAL,
                (
                    record.message_id,
                    record.referrer,
                    record.target,
                    record.service_id,
                    record.digest,
                    record.received_at.timestamp(),
                    record.deliver_by.timestamp(),
                    record.granted_level,
                    record.decision_digest,
                    record.referral,
                    record.receipt,
                    record.state,
                    record.node_receipt,
                ),
            )
            _queue(db, forward, now=record.received_at)
        return record

    def get(self, message_id: MessageId) -> ReferralRecord | None:
        """See ``ReferralStore.get``."""
        with self._db.reading() as db:
            return _referral(db, message_id)

    # ---------------------------------------------------------------- StatusLog

    def add(self, status: StatusRecord, relay: Outgoing) -> StatusRecord:
        """See ``StatusLog.add``."""
        with self._db.transaction() as db:
            row = db.execute(
                _SELECT_STATUS,
                (status.message_id,),
            ).fetchone()
            if row is not None:
                return _status(row)
            db.execute(
                _INSERT_STATUS,
                (
                    status.message_id,
                    status.referral_id,
                    status.status,
                    status.at.timestamp(),
                    status.received_at.timestamp(),
                    status.digest,
                    status.body,
                    status.signed,
                    status.ack,
                ),
            )
            _queue(db, relay, now=status.received_at)
        return status

    def statuses(self, referral_id: MessageId) -> list[StatusRecord]:
        """See ``StatusLog.statuses``."""
        with self._db.reading() as db:
            rows = db.execute(
                _SELECT_STATUSES,
                (referral_id,),
            ).fetchall()
        return [_status(row) for row in rows]

    # ------------------------------------------------------------------- Outbox

    def claim(
        self, *, owner: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[OutboxItem]:
        """See ``Outbox.claim``."""
        moment = now.timestamp()
        with self._db.transaction() as db:
            rows = db.execute(
                "UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1,"
                " last_attempt = ? WHERE id IN (SELECT id FROM outbox WHERE state = 'pending'"
                " AND next_attempt <= ? AND (lease_until IS NULL OR lease_until <= ?)"
                " ORDER BY next_attempt, id LIMIT ?)"
                " RETURNING id, referral_id, kind, recipient, message_id, payload, deadline,"
                " attempts, created",
                (owner, moment + lease_seconds, moment, moment, moment, limit),
            ).fetchall()
        items = [
            OutboxItem(
                id=row[0],
                outgoing=Outgoing(
                    referral_id=MessageId(row[1]),
                    kind=row[2],
                    recipient=AuthorityCode(row[3]),
                    message_id=MessageId(row[4]),
                    payload=bytes(row[5]),
                    deadline=_time(row[6]),
                ),
                attempts=row[7],
                created=_time(row[8]),
            )
            for row in rows
        ]
        return sorted(items, key=lambda item: item.id)

    def settle(self, item: OutboxItem, outcome: Outcome, *, now: datetime) -> None:
        """See ``Outbox.settle``."""
        referral_id = item.outgoing.referral_id
        forward = item.outgoing.kind == "forward"
        with self._db.transaction() as db:
            if isinstance(outcome, RetryLater):
                db.execute(
                    "UPDATE outbox SET next_attempt = ?, last_error = ?, lease_owner = NULL,"
                    " lease_until = NULL WHERE id = ? AND state = 'pending'",
                    (outcome.at.timestamp(), outcome.error, item.id),
                )
                return
            if isinstance(outcome, Delivered):
                settled = _finish(db, item.id, "done", None, outcome.answer)
                if settled and forward:
                    db.execute(
                        "UPDATE referral SET state = 'delivered', node_receipt = ?"
                        " WHERE message_id = ? AND state = 'queued'",
                        (outcome.answer, referral_id),
                    )
                return
            assert isinstance(outcome, GiveUp)
            settled = _finish(db, item.id, "dead", outcome.error, None)
            if settled and forward:
                db.execute(
                    "UPDATE referral SET state = 'failed'"
                    " WHERE message_id = ? AND state = 'queued'",
                    (referral_id,),
                )
            if settled and outcome.notice is not None:
                _queue(db, outcome.notice, now=now)

    def release(self, owner: str) -> int:
        """See ``Outbox.release``."""
        with self._db.transaction() as db:
            return db.execute(
                "UPDATE outbox SET lease_owner = NULL, lease_until = NULL"
                " WHERE lease_owner = ? AND state = 'pending'",
                (owner,),
            ).rowcount

    def next_due(self) -> datetime | None:
        """See ``Outbox.next_due``."""
        with self._db.reading() as db:
            row = db.execute(
                "SELECT MIN(MAX(next_attempt, COALESCE(lease_until, 0))) FROM outbox"
                " WHERE state = 'pending'"
            ).fetchone()
        return None if row[0] is None else _time(row[0])

    # ------------------------------------------------------------- operations

    def counts(self) -> dict[str, int]:
        """Outbox rows by state (``pending``, ``done``, ``dead``), for metrics and tests."""
        with self._db.reading() as db:
            rows = db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
        return dict(rows)

    def check(self) -> None:
        """Raise ``InternalError`` unless the database answers."""
        self._db.check()

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _queue(db: sqlite3.Connection, outgoing: Outgoing, *, now: datetime) -> None:
    db.execute(
        "INSERT INTO outbox (referral_id, kind, recipient, message_id, payload, deadline,"
        " created, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            outgoing.referral_id,
            outgoing.kind,
            outgoing.recipient,
            outgoing.message_id,
            outgoing.payload,
            outgoing.deadline.timestamp(),
            now.timestamp(),
            now.timestamp(),
        ),
    )


def _finish(
    db: sqlite3.Connection, row_id: int, state: str, error: str | None, answer: bytes | None
) -> bool:
    return bool(
        db.execute(
            "UPDATE outbox SET state = ?, last_error = COALESCE(?, last_error), answer = ?,"
            " lease_owner = NULL, lease_until = NULL WHERE id = ? AND state = 'pending'",
            (state, error, answer, row_id),
        ).rowcount
    )


def _referral(db: sqlite3.Connection, message_id: str) -> ReferralRecord | None:
    row = db.execute(_SELECT_REFERRAL, (message_id,)).fetchone()
    if row is None:
        return None
    return referral_from_row(row, time=_time)


def _status(row: Any) -> StatusRecord:
    return status_from_row(row, time=_time)
