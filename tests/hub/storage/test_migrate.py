"""Schema migrations on both backends: applied once, recorded, a second run a no-op."""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest

from hub.errors import InternalError
from hub.storage.migrate import load_migrations
from hub.storage.postgresql import migrate as pg_migrate
from hub.storage.postgresql.database import PgDatabase
from hub.storage.sqlite import migrate as sqlite_migrate
from hub.storage.sqlite.migrate import migrate_sqlite


@pytest.mark.parametrize("component", ["seen", "log"])
def test_sqlite_migrations_apply_once_and_are_recorded(tmp_path: Path, component: str) -> None:
    expected = [m.version for m in load_migrations(sqlite_migrate.MIGRATIONS_DIR / component)]
    db = sqlite3.connect(tmp_path / "x.sqlite", isolation_level=None)
    assert migrate_sqlite(db, component) == expected
    assert migrate_sqlite(db, component) == []
    recorded = db.execute("SELECT version, name FROM schema_migrations ORDER BY version")
    assert [row[0] for row in recorded] == expected
    db.close()


def test_a_file_made_before_migrations_is_adopted(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "seen.sqlite", isolation_level=None)
    db.execute(
        "CREATE TABLE seen_message (sender TEXT NOT NULL, message_id TEXT NOT NULL,"
        " digest BLOB NOT NULL, keep_until REAL NOT NULL, PRIMARY KEY (sender, message_id))"
        " WITHOUT ROWID"
    )
    db.execute("INSERT INTO seen_message VALUES ('E09000022', 'urn:uuid:1', x'00', 1.0)")
    assert migrate_sqlite(db, "seen") == [1]
    assert db.execute("SELECT count(*) FROM seen_message").fetchone() == (1,)
    db.close()


def test_a_failing_migration_is_an_internal_error(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "x.sqlite", isolation_level=None)
    db.execute("CREATE TABLE seen_message (other TEXT)")
    with pytest.raises(InternalError, match="schema migration of the seen database failed"):
        migrate_sqlite(db, "seen")
    assert not db.in_transaction
    db.close()


def test_misnumbered_migrations_are_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(InternalError, match=r"numbered \[1, 3\], not 1..n"):
        load_migrations(tmp_path)
    (tmp_path / "3_bad.sql").write_text("SELECT 1;")
    with pytest.raises(InternalError, match=r"is not named NNNN_name\.sql"):
        load_migrations(tmp_path)


async def _recorded(dsn: str) -> list[tuple[int, str]]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT version, name FROM schema_migrations ORDER BY 1")
    finally:
        await connection.close()
    return [(row[0], row[1]) for row in rows]


@pytest.mark.postgres
def test_postgresql_migrations_apply_once_even_with_instances_starting_together(
    pg_dsn: str,
) -> None:
    expected = [(m.version, m.name) for m in load_migrations(pg_migrate.MIGRATIONS_DIR)]
    # Three instances start at once; the advisory lock lets one migrate.
    with ThreadPoolExecutor(max_workers=3) as pool:
        databases = list(pool.map(lambda _: PgDatabase(pg_dsn, pool_size=2), range(3)))
    for database in databases:
        database.close()
    again = PgDatabase(pg_dsn, pool_size=1)
    again.close()
    assert asyncio.run(_recorded(pg_dsn)) == expected


def test_an_unreachable_server_is_an_internal_error_naming_it() -> None:
    with pytest.raises(
        InternalError, match=r"cannot open PostgreSQL storage at 127.0.0.1:9/irt"
    ) as raised:
        PgDatabase("postgresql://someone:secret@127.0.0.1:9/irt")
    assert "secret" not in str(raised.value)
