"""``CatalogueStore`` on SQLite: one row per authority, replaced only by a later catalogue."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from hub.identifiers import AuthorityCode, MessageId
from hub.services.store import StoredCatalogue
from hub.storage.sqlite.database import SqliteDatabase

__all__ = ["SqliteCatalogueStore"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS catalogue (
    authority   TEXT PRIMARY KEY,
    published   REAL NOT NULL,
    received_at REAL NOT NULL,
    message_id  TEXT NOT NULL,
    signed      BLOB NOT NULL,
    receipt     BLOB NOT NULL
) WITHOUT ROWID;
"""


class SqliteCatalogueStore:
    """The durable ``CatalogueStore``."""

    def __init__(self, path: Path) -> None:
        """Open or create the store at ``path``; raise ``InternalError`` on failure."""
        self._db = SqliteDatabase(path, schema=_SCHEMA, name="service catalogue store")

    def put(self, entry: StoredCatalogue) -> bool:
        """See ``CatalogueStore.put``."""
        with self._db.transaction() as db:
            changed = db.execute(
                "INSERT INTO catalogue VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (authority) DO UPDATE SET published = excluded.published,"
                " received_at = excluded.received_at, message_id = excluded.message_id,"
                " signed = excluded.signed, receipt = excluded.receipt"
                " WHERE excluded.published > catalogue.published",
                (
                    entry.authority,
                    entry.published.timestamp(),
                    entry.received_at.timestamp(),
                    entry.message_id,
                    entry.signed,
                    entry.receipt,
                ),
            ).rowcount
        return bool(changed)

    def load_all(self) -> list[StoredCatalogue]:
        """See ``CatalogueStore.load_all``."""
        with self._db.reading() as db:
            rows = db.execute("SELECT * FROM catalogue ORDER BY authority").fetchall()
        return [
            StoredCatalogue(
                authority=AuthorityCode(row[0]),
                published=datetime.fromtimestamp(row[1], UTC),
                received_at=datetime.fromtimestamp(row[2], UTC),
                message_id=MessageId(row[3]),
                signed=bytes(row[4]),
                receipt=bytes(row[5]),
            )
            for row in rows
        ]

    def check(self) -> None:
        """Raise ``InternalError`` unless the database answers."""
        self._db.check()

    def close(self) -> None:
        """Close the database."""
        self._db.close()
