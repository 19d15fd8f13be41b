"""The SQLite node store holds exactly what the memory store holds, and keeps it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.log.errors import LogStoreError
from hub.log.merkle import LeafHash, leaf_hash, root_from_leaves
from hub.log.tree import (
    MemoryNodeStore,
    NodeId,
    append_leaves,
    consistency_proof,
    inclusion_proof,
    root,
)
from hub.storage.sqlite.merkle_nodes import SqliteNodeStore


def _leaves(count: int) -> list[LeafHash]:
    return [leaf_hash(index.to_bytes(8, "big")) for index in range(count)]


def _every_node(size: int) -> list[NodeId]:
    return [
        NodeId(level, index) for level in range(size.bit_length()) for index in range(size >> level)
    ]


def test_sqlite_store_equals_memory_store(tmp_path: Path) -> None:
    hashes = _leaves(1000)
    memory = MemoryNodeStore()
    append_leaves(memory, hashes)
    sqlite_store = SqliteNodeStore(tmp_path / "nodes.sqlite")
    # Uneven batches on one side, a single batch on the other.
    for start in range(0, 1000, 333):
        append_leaves(sqlite_store, hashes[start : start + 333])
    nodes = _every_node(1000)
    assert sqlite_store.size() == memory.size() == 1000
    assert sqlite_store.get_nodes(nodes) == memory.get_nodes(nodes)
    count = sqlite_store._db.execute("SELECT count(*) FROM merkle_node").fetchone()[0]
    assert count == len(nodes)
    for index, size in ((0, 1000), (511, 1000), (999, 1000), (700, 777)):
        assert inclusion_proof(sqlite_store, index, size) == inclusion_proof(memory, index, size)
    assert consistency_proof(sqlite_store, 333, 1000) == consistency_proof(memory, 333, 1000)
    sqlite_store.close()


def test_the_tree_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "nodes.sqlite"
    hashes = _leaves(77)
    first = SqliteNodeStore(path)
    append_leaves(first, hashes[:50])
    first.close()
    second = SqliteNodeStore(path)
    append_leaves(second, hashes[50:])
    assert second.size() == 77
    assert root(second, 77) == root_from_leaves(hashes)
    assert second._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    second.close()


def test_a_second_appender_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nodes.sqlite"
    mine, theirs = SqliteNodeStore(path), SqliteNodeStore(path)
    append_leaves(mine, _leaves(8))
    stale = 0
    with pytest.raises(LogStoreError, match=r"tree size is 8, not 0: another appender moved it"):
        theirs.put_nodes([(NodeId(0, 0), leaf_hash(b"x"))], old_size=stale, new_size=1)
    assert theirs.size() == 8
    mine.close()
    theirs.close()


def test_a_failed_batch_leaves_no_trace(tmp_path: Path) -> None:
    store = SqliteNodeStore(tmp_path / "nodes.sqlite")
    append_leaves(store, _leaves(4))
    clash = [(NodeId(0, 4), leaf_hash(b"new")), (NodeId(0, 0), leaf_hash(b"again"))]
    with pytest.raises(LogStoreError, match=r"already holds a node"):
        store.put_nodes(clash, old_size=4, new_size=5)
    assert store.size() == 4
    with pytest.raises(LogStoreError, match=r"lacks node"):
        store.get_nodes([NodeId(0, 4)])
    store.close()


def test_an_unopenable_path_is_reported(tmp_path: Path) -> None:
    with pytest.raises(LogStoreError, match=r"cannot open node store"):
        SqliteNodeStore(tmp_path / "missing-folder" / "nodes.sqlite")


def test_a_broken_database_is_a_store_error(tmp_path: Path) -> None:
    store = SqliteNodeStore(tmp_path / "nodes.sqlite")
    store.close()
    with pytest.raises(LogStoreError, match=r"node store .* failed"):
        store.size()
