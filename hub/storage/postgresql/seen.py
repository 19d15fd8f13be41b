"""``SeenStore`` on PostgreSQL: replay detection shared by every hub instance.

Behind a load balancer a retry, or a replay, may reach another instance than
the first arrival did; both instances must give the same answer. One
statement decides: ``INSERT … ON CONFLICT DO NOTHING RETURNING``. If two
instances insert the same (sender, MessageID) at once, PostgreSQL makes the
second wait for the first to commit and then reports the conflict, so
exactly one of them sees a first sighting; the other reads the stored digest
and answers retry or ``duplicate-message`` as a single instance would.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from hub.errors import InternalError
from hub.identifiers import AuthorityCode, MessageId
from hub.storage.postgresql.database import PgDatabase

__all__ = ["PgSeenStore"]

_REMEMBER = (
    "WITH inserted AS ("
    " INSERT INTO seen_message VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM inserted)"
)


class PgSeenStore:
    """The ``SeenStore`` in the ``seen_message`` table of a shared ``PgDatabase``."""

    def __init__(self, database: PgDatabase) -> None:
        self._db = database

    def remember(
        self, sender: AuthorityCode, message_id: MessageId, digest: bytes, keep_until: datetime
    ) -> bytes | None:
        """See ``SeenStore.remember``; raises ``InternalError`` if the database fails."""

        async def work(connection: asyncpg.Connection) -> bytes | None:
            if await connection.fetchval(_REMEMBER, sender, message_id, digest, keep_until):
                return None
            earlier = await connection.fetchval(
                "SELECT digest FROM seen_message WHERE sender = $1 AND message_id = $2",
                sender,
                message_id,
            )
            if earlier is None:
                # Purged between the two statements: its retention had ended,
                # so this arrival is stale anyway; refuse rather than guess.
                raise InternalError(f"seen-message {message_id} vanished while being checked")
            return bytes(earlier)

        return self._db.run(work, action="record a seen message in")

    def forget_before(self, moment: datetime) -> int:
        """See ``SeenStore.forget_before``."""

        async def work(connection: asyncpg.Connection) -> int:
            status = await connection.execute(
                "DELETE FROM seen_message WHERE keep_until < $1", moment
            )
            return int(status.rsplit(" ", 1)[-1])

        return self._db.run(work, action="purge seen messages in")

    def check(self) -> None:
        """Raise ``InternalError`` unless the database answers (for health checks)."""

        async def work(connection: asyncpg.Connection) -> None:
            await connection.fetchval("SELECT 1 FROM seen_message LIMIT 1")

        self._db.run(work, action="read seen messages in")

    def close(self) -> None:
        """Nothing to release: the ``PgDatabase`` is closed by its owner."""
