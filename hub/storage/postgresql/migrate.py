"""Applying the PostgreSQL migrations, once, however many hub instances start together.

One database holds everything the hub keeps, so one sequence of versions
under ``migrations/`` beside this module. The whole run holds a
transaction-level advisory lock, so instances starting together apply each
migration once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from hub.storage.migrate import load_migrations

if TYPE_CHECKING:
    import asyncpg

__all__ = ["MIGRATIONS_DIR", "migrate_postgresql"]

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
"""The SQL files, ``NNNN_name.sql``."""

_MIGRATION_LOCK: Final = 0x4952_5401
"""``pg_advisory_xact_lock`` key held while migrating ("IRT" 01); other
instances starting at the same moment wait for it and then find nothing to do."""

_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
)


async def migrate_postgresql(connection: asyncpg.Connection) -> list[int]:
    """Apply the migrations not yet recorded, under an advisory lock.

    Returns the versions applied. Raises the driver's error if one fails; then
    nothing of this run is applied (one transaction).
    """
    migrations = load_migrations(MIGRATIONS_DIR)
    applied: list[int] = []
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await connection.execute(_TABLE)
        done = {row[0] for row in await connection.fetch("SELECT version FROM schema_migrations")}
        for migration in migrations:
            if migration.version in done:
                continue
            await connection.execute(migration.sql)
            await connection.execute(
                "INSERT INTO schema_migrations VALUES ($1, $2, now())",
                migration.version,
                migration.name,
            )
            applied.append(migration.version)
    return applied
