"""Keys, clock, trees and log backends shared by the log, storage and witness tests."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from hub.clock import FixedClock
from hub.log.note import NoteSigner, generate_cosigner_key, generate_log_key
from hub.log.tree import MemoryNodeStore, NodeStore
from hub.storage.postgresql.database import PgDatabase
from hub.storage.postgresql.log import PgLogStorage, PgNodeStore
from hub.storage.sqlite.log import LOG_DB_NAME, SqliteLogStorage
from hub.storage.sqlite.merkle_nodes import SqliteNodeStore
from tests.support.log_backends import Backend

LOG_NAME = "irt.london.example/log"
WITNESS_NAME = "lambeth.irt.london.example/witness"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def log_signer() -> NoteSigner:
    return NoteSigner.from_key_text(generate_log_key(LOG_NAME)[0])


@pytest.fixture(scope="session")
def witness_signer() -> NoteSigner:
    return NoteSigner.from_key_text(generate_cosigner_key(WITNESS_NAME)[0])


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NodeStore]:
    if request.param == "memory":
        yield MemoryNodeStore()
        return
    if request.param == "postgresql":
        database = PgDatabase(request.getfixturevalue("pg_dsn"), pool_size=2)
        yield PgNodeStore(database)
        database.close()
        return
    sqlite_store = SqliteNodeStore(tmp_path / "nodes.sqlite")
    yield sqlite_store
    sqlite_store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """An empty message log on each backend: the same tests run on both."""
    if request.param == "sqlite":
        storage = SqliteLogStorage(tmp_path / LOG_DB_NAME)

        def tamper_sqlite(sql: str) -> None:
            with sqlite3.connect(storage.path) as attacker:
                attacker.execute(sql)

        yield Backend("sqlite", storage, tamper_sqlite)
        storage.close()
        return
    dsn = request.getfixturevalue("pg_dsn")
    database = PgDatabase(dsn, pool_size=4)

    def tamper_postgresql(sql: str) -> None:
        async def run() -> None:
            attacker = await asyncpg.connect(dsn)
            try:
                await attacker.execute(sql)
            finally:
                await attacker.close()

        # In a thread of its own: an async test's event loop may be running here.
        with ThreadPoolExecutor(max_workers=1) as thread:
            thread.submit(asyncio.run, run()).result()

    yield Backend("postgresql", PgLogStorage(database), tamper_postgresql)
    database.close()
