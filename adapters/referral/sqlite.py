"""``Inbox`` and ``SentReferrals`` on one SQLite file in the node's data folder.

The node process and the command line (``irthub referral inbox``,
``irthub referral update``) may open the file at once; WAL and the busy
timeout of ``hub.storage.sqlite.database`` let them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from adapters.referral.store import ReceivedReferral, SentEvent, SentReferral
from hub.identifiers import AuthorityCode, MessageId
from hub.storage.sqlite.database import SqliteDatabase

__all__ = ["NODE_REFERRAL_DATABASE", "SqliteNodeReferrals"]

NODE_REFERRAL_DATABASE: Final = "referrals.sqlite"
"""The file's name in the node's data folder."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS received (
    referral_id   TEXT PRIMARY KEY,
    referrer      TEXT NOT NULL,
    service_id    TEXT NOT NULL,
    received_at   REAL NOT NULL,
    granted_level TEXT NOT NULL,
    digest        BLOB NOT NULL,
    referral      BLOB NOT NULL,
    forward       BLOB NOT NULL,
    receipt       BLOB NOT NULL,
    status        TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sent (
    referral_id TEXT PRIMARY KEY,
    target      TEXT NOT NULL,
    service_id  TEXT NOT NULL,
    sent_at     REAL NOT NULL,
    referral    BLOB NOT NULL,
    receipt     BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sent_event (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  TEXT NOT NULL UNIQUE,
    referral_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    at          REAL NOT NULL,
    detail      TEXT,
    signed      BLOB NOT NULL,
    ack         BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sent_event_by_referral ON sent_event (referral_id, seq);
"""
_RECEIVED: Final = (
    "referral_id, referrer, service_id, received_at, granted_level, digest, referral,"
    " forward, receipt, status"
)
_EVENT: Final = "message_id, referral_id, kind, status, at, detail, signed, ack"
# Column lists are constants of this module, never input.
_SELECT_RECEIVED: Final = f"SELECT {_RECEIVED} FROM received WHERE referral_id = ?"  # noqa: S608
_LIST_RECEIVED: Final = f"SELECT {_RECEIVED} FROM received ORDER BY received_at"  # noqa: S608
_SELECT_EVENT: Final = f"SELECT {_EVENT} FROM sent_event WHERE message_id = ?"  # noqa: S608
_LIST_EVENTS: Final = f"SELECT {_EVENT} FROM sent_event WHERE referral_id = ? ORDER BY seq"  # noqa: S608


class SqliteNodeReferrals:
    """The node's durable ``Inbox`` and ``SentReferrals``."""

    def __init__(self, path: Path) -> None:
        """Open or create the store at ``path``; raise ``InternalError`` on failure."""
        self._db = SqliteDatabase(path, schema=_SCHEMA, name="node referral store")

    # -------------------------------------------------------------------- Inbox

    def receive(self, referral: ReceivedReferral) -> ReceivedReferral:
        """See ``Inbox.receive``."""
        with self._db.transaction() as db:
            row = db.execute(_SELECT_RECEIVED, (referral.referral_id,)).fetchone()
            if row is not None:
                return _received(row)
            db.execute(
                "INSERT INTO received VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    referral.referral_id,
                    referral.referrer,
                    referral.service_id,
                    referral.received_at.timestamp(),
                    referral.granted_level,
                    referral.digest,
                    referral.referral,
                    referral.forward,
                    referral.receipt,
                    referral.status,
                ),
            )
        return referral

    def get(self, referral_id: MessageId) -> ReceivedReferral | None:
        """See ``Inbox.get``."""
        with self._db.reading() as db:
            row = db.execute(_SELECT_RECEIVED, (referral_id,)).fetchone()
        return None if row is None else _received(row)

    def note_status(self, referral_id: MessageId, status: str) -> None:
        """See ``Inbox.note_status``."""
        with self._db.transaction() as db:
            db.execute(
                "UPDATE received SET status = ? WHERE referral_id = ?", (status, referral_id)
            )

    def received(self) -> list[ReceivedReferral]:
        """Every referral received, oldest first."""
        with self._db.reading() as db:
            rows = db.execute(_LIST_RECEIVED).fetchall()
        return [_received(row) for row in rows]

    # ------------------------------------------------------------ SentReferrals

    def record(self, referral: SentReferral) -> None:
        """See ``SentReferrals.record``."""
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO sent VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    referral.referral_id,
                    referral.target,
                    referral.service_id,
                    referral.sent_at.timestamp(),
                    referral.referral,
                    referral.receipt,
                ),
            )

    def note(self, event: SentEvent) -> SentEvent:
        """See ``SentReferrals.note``."""
        with self._db.transaction() as db:
            row = db.execute(_SELECT_EVENT, (event.message_id,)).fetchone()
            if row is not None:
                return _event(row)
            db.execute(
                f"INSERT INTO sent_event ({_EVENT}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                (
                    event.message_id,
                    event.referral_id,
                    event.kind,
                    event.status,
                    event.at.timestamp(),
                    event.detail,
                    event.signed,
                    event.ack,
                ),
            )
        return event

    def events(self, referral_id: MessageId) -> list[SentEvent]:
        """See ``SentReferrals.events``."""
        with self._db.reading() as db:
            rows = db.execute(_LIST_EVENTS, (referral_id,)).fetchall()
        return [_event(row) for row in rows]

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _received(row: Any) -> ReceivedReferral:
    return ReceivedReferral(
        referral_id=MessageId(row[0]),
        referrer=AuthorityCode(row[1]),
        service_id=row[2],
        received_at=_time(row[3]),
        granted_level=row[4],
        digest=bytes(row[5]),
        referral=bytes(row[6]),
        forward=bytes(row[7]),
        receipt=bytes(row[8]),
        status=row[9],
    )


def _event(row: Any) -> SentEvent:
    return SentEvent(
        message_id=MessageId(row[0]),
        referral_id=MessageId(row[1]),
        kind=row[2],
        status=row[3],
        at=_time(row[4]),
        detail=row[5],
        signed=bytes(row[6]),
        ack=bytes(row[7]),
    )
