"""``CatalogueStore`` on PostgreSQL: one row per authority, shared by hub instances.

The table of ``hub.storage.sqlite.catalogues`` (migration ``postgresql/0003_referrals.sql``).
The upsert replaces a row only with a later catalogue, so two instances that
receive catalogues of one authority in either order keep the latest. Each
instance holds the catalogues in memory (``CatalogueHandlers``) and reloads
them from here periodically, so a catalogue published to one instance is
served by every instance within that period (``[storage] catalogue_refresh_seconds``).
"""

from __future__ import annotations

from typing import Final

import asyncpg

from hub.identifiers import AuthorityCode, MessageId
from hub.services.store import StoredCatalogue
from hub.storage.postgresql.database import PgDatabase

__all__ = ["PgCatalogueStore"]

_PUT: Final = (
    "INSERT INTO catalogue VALUES ($1, $2, $3, $4, $5, $6)"
    " ON CONFLICT (authority) DO UPDATE SET published = excluded.published,"
    " received_at = excluded.received_at, message_id = excluded.message_id,"
    " signed = excluded.signed, receipt = excluded.receipt"
    " WHERE excluded.published > catalogue.published"
)


class PgCatalogueStore:
    """The shared ``CatalogueStore`` in a ``PgDatabase``."""

    def __init__(self, database: PgDatabase) -> None:
        self._db = database

    def put(self, entry: StoredCatalogue) -> bool:
        """See ``CatalogueStore.put``."""

        async def work(connection: asyncpg.Connection) -> bool:
            status = await connection.execute(
                _PUT,
                entry.authority,
                entry.published,
                entry.received_at,
                entry.message_id,
                entry.signed,
                entry.receipt,
            )
            return bool(status == "INSERT 0 1")

        return self._db.run(work, action="store a service catalogue in")

    def load_all(self) -> list[StoredCatalogue]:
        """See ``CatalogueStore.load_all``."""

        async def work(connection: asyncpg.Connection) -> list[StoredCatalogue]:
            rows = await connection.fetch(
                "SELECT authority, published, received_at, message_id, signed, receipt"
                " FROM catalogue ORDER BY authority"
            )
            return [
                StoredCatalogue(
                    authority=AuthorityCode(row[0]),
                    published=row[1],
                    received_at=row[2],
                    message_id=MessageId(row[3]),
                    signed=bytes(row[4]),
                    receipt=bytes(row[5]),
                )
                for row in rows
            ]

        return self._db.run(work, action="read service catalogues from")

    def check(self) -> None:
        """Raise ``InternalError`` unless the database answers."""

        async def work(connection: asyncpg.Connection) -> None:
            await connection.fetchval("SELECT 1 FROM catalogue LIMIT 1")

        self._db.run(work, action="read service catalogues from")

    def close(self) -> None:
        """Nothing to release: the ``PgDatabase`` is closed by its owner."""
