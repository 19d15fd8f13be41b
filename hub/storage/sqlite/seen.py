"""``SqliteSeenStore``: replay protection's durable memory on the embedded backend."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from pathlib import Path

from hub.errors import InternalError
from hub.identifiers import AuthorityCode, MessageId
from hub.storage.sqlite.migrate import migrate_sqlite

__all__ = ["SqliteSeenStore"]


class SqliteSeenStore:
    """The default durable ``SeenStore``: one SQLite table in WAL mode.

    Its schema is the ``seen`` migrations (``hub.storage.sqlite.migrate``);
    ``hub.storage.postgresql.seen.PgSeenStore`` is the same store on PostgreSQL,
    shared by several hub instances.

    WAL with ``synchronous=NORMAL`` survives a killed process (the guarantee
    SPEC asks for) without an fsync per message.
    """

    def __init__(self, path: Path) -> None:
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            migrate_sqlite(self._db, "seen")
        except sqlite3.Error as exc:
            raise InternalError(f"cannot open seen-message store {path}: {exc}") from exc
        self._lock = threading.Lock()

    def remember(
        self, sender: AuthorityCode, message_id: MessageId, digest: bytes, keep_until: datetime
    ) -> bytes | None:
        """See ``SeenStore.remember``; raises ``InternalError`` if the database fails."""
        try:
            with self._lock:
                inserted = self._db.execute(
                    "INSERT INTO seen_message VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (sender, message_id, digest, keep_until.timestamp()),
                ).rowcount
                if inserted:
                    return None
                row = self._db.execute(
                    "SELECT digest FROM seen_message WHERE sender = ? AND message_id = ?",
                    (sender, message_id),
                ).fetchone()
        except sqlite3.Error as exc:
            raise InternalError(f"seen-message store failed: {exc}") from exc
        return bytes(row[0])

    def forget_before(self, moment: datetime) -> int:
        """See ``SeenStore.forget_before``."""
        try:
            with self._lock:
                return self._db.execute(
                    "DELETE FROM seen_message WHERE keep_until < ?", (moment.timestamp(),)
                ).rowcount
        except sqlite3.Error as exc:
            raise InternalError(f"seen-message store failed: {exc}") from exc

    def check(self) -> None:
        """Raise ``InternalError`` unless the database answers (for health checks)."""
        try:
            with self._lock:
                self._db.execute("SELECT 1 FROM seen_message LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise InternalError(f"seen-message store failed: {exc}") from exc

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
