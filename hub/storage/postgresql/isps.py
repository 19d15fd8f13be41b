"""ISP versions in force on PostgreSQL, shared by every hub instance (see ``hub.policy.store``)."""

from __future__ import annotations

import asyncpg

from hub.identifiers import AuthorityCode
from hub.storage.postgresql.database import PgDatabase

__all__ = ["PgKeptIsps"]


class PgKeptIsps:
    """``KeptIsps`` in the ``isp_in_force`` table."""

    def __init__(self, database: PgDatabase) -> None:
        self._db = database

    def documents(self) -> list[tuple[str, bytes]]:
        """See ``hub.policy.store.KeptIsps.documents``."""

        async def work(connection: asyncpg.Connection) -> list[tuple[str, bytes]]:
            rows = await connection.fetch(
                "SELECT authority, document FROM isp_in_force ORDER BY authority"
            )
            return [(f"isp_in_force/{row[0]}.xml", bytes(row[1])) for row in rows]

        return self._db.run(work, action="read the ISPs in force from")

    def keep(self, authority: AuthorityCode, data: bytes) -> None:
        """See ``hub.policy.store.KeptIsps.keep``."""

        async def work(connection: asyncpg.Connection) -> None:
            await connection.execute(
                "INSERT INTO isp_in_force (authority, document) VALUES ($1, $2)"
                " ON CONFLICT (authority) DO UPDATE"
                " SET document = EXCLUDED.document, kept_at = now()",
                authority,
                data,
            )

        self._db.run(work, action="keep an ISP in force in")
