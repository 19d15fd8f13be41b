"""Shared keys, clock and trees for the verifiable-log tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.clock import FixedClock
from hub.log.note import NoteSigner, generate_cosigner_key, generate_log_key
from hub.log.sqlite_nodes import SqliteNodeStore
from hub.log.tree import MemoryNodeStore, NodeStore

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


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NodeStore]:
    if request.param == "memory":
        yield MemoryNodeStore()
        return
    sqlite_store = SqliteNodeStore(tmp_path / "nodes.sqlite")
    yield sqlite_store
    sqlite_store.close()
