"""Applying the SQLite migrations of one component database (``seen``, ``log``…).

The embedded hub keeps one file per component, each with its own sequence of
versions under ``migrations/<component>/`` beside this module.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from hub.errors import InternalError
from hub.storage.migrate import load_migrations

__all__ = ["MIGRATIONS_DIR", "migrate_sqlite"]

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
"""One folder of SQL files per component database."""

_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


def migrate_sqlite(db: sqlite3.Connection, component: str) -> list[int]:
    """Apply ``<component>`` migrations not yet recorded in ``db``.

    ``db`` must be in autocommit mode (``isolation_level=None``) and outside a
    transaction. Returns the versions applied. Raises ``InternalError`` if a
    migration fails (that migration is rolled back; earlier ones stay).
    """
    migrations = load_migrations(MIGRATIONS_DIR / component)
    applied: list[int] = []
    try:
        db.execute(_TABLE)
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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
