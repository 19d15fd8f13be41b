"""Versioned schema migrations for SQLite and PostgreSQL, applied at start.

Migrations are SQL files named ``NNNN_name.sql`` under
``hub/storage/migrations/``:

- ``postgresql/``: one database holds everything the hub keeps, so one
  sequence of versions;
- ``sqlite/<component>/``: the embedded hub keeps one file per component
  (``seen``, ``log``), each with its own sequence.

Each database records what was applied in ``schema_migrations (version,
name, applied_at)``. ``migrate_sqlite`` and ``migrate_postgresql`` apply, in
version order, every file not yet recorded, each in one transaction with its
record, and return the versions they applied (none the second time). On
PostgreSQL the whole run holds a transaction-level advisory lock, so hub
instances starting together apply each migration once.

A migration that was applied is never edited: a change is a new file.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Final

from hub.errors import InternalError

if TYPE_CHECKING:
    import asyncpg

__all__ = [
    "MIGRATIONS_DIR",
    "Migration",
    "load_migrations",
    "migrate_postgresql",
    "migrate_sqlite",
]

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
"""Where the SQL files live."""

_FILE_NAME: Final = re.compile(r"(\d{4})_([a-z0-9_]{1,60})\.sql\Z")

_MIGRATION_LOCK: Final = 0x4952_5401
"""``pg_advisory_xact_lock`` key held while migrating ("IRT" 01); other
instances starting at the same moment wait for it and then find nothing to do."""

_SQLITE_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)
_POSTGRESQL_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
)


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema change: its version, name and SQL."""

    version: int
    name: str
    sql: str


@cache
def load_migrations(folder: Path) -> tuple[Migration, ...]:
    """The migrations in ``folder``, by version.

    Raises ``InternalError`` if a file is misnamed, two share a version, or
    the versions do not run 1, 2, 3… without a gap.
    """
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise InternalError(f"migration file {path} is not named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise InternalError(f"migrations in {folder} are numbered {versions}, not 1..n")
    return tuple(found)


def migrate_sqlite(db: sqlite3.Connection, component: str) -> list[int]:
    """Apply ``sqlite/<component>`` migrations not yet recorded in ``db``.

    ``db`` must be in autocommit mode (``isolation_level=None``) and outside a
    transaction. Returns the versions applied. Raises ``InternalError`` if a
    migration fails (that migration is rolled back; earlier ones stay).
    """
    migrations = load_migrations(MIGRATIONS_DIR / "sqlite" / component)
    applied: list[int] = []
    try:
        db.execute(_SQLITE_TABLE)
        done = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
        for migration in migrations:
            if migration.version in done:
                continue
            # executescript cannot bind parameters; version and name come from
            # a file name that matched _FILE_NAME, never from input.
            values = f"({migration.version}, '{migration.name}', '{_now()}')"
            record = "INSERT OR IGNORE INTO schema_migrations VALUES " + values  # noqa: S608
            db.executescript(f"BEGIN IMMEDIATE;\n{migration.sql}\n;{record};\nCOMMIT;")
            applied.append(migration.version)
    except sqlite3.Error as exc:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise InternalError(f"schema migration of the {component} database failed: {exc}") from exc
    return applied


async def migrate_postgresql(connection: asyncpg.Connection) -> list[int]:
    """Apply the ``postgresql`` migrations not yet recorded, under an advisory lock.

    Returns the versions applied. Raises the driver's error if one fails; then
    nothing of this run is applied (one transaction).
    """
    migrations = load_migrations(MIGRATIONS_DIR / "postgresql")
    applied: list[int] = []
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await connection.execute(_POSTGRESQL_TABLE)
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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
