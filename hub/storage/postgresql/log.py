"""``LogStorage`` on PostgreSQL: one message log shared by several hub instances.

The tables are those of ``hub.storage.sqlite.log`` (migration
``postgresql/0002_message_log.sql``). What changes with several writers:

- **One gap-free order.** ``append`` locks the one-row ``merkle_size`` head
  ``FOR UPDATE`` first, so appenders on every instance queue there; each
  reads the size and the tree's right edge *after* taking the lock, writes
  its leaves at ``size, size+1, …``, the message bytes and the new Merkle
  nodes, and moves the size, all in one transaction. A transaction that fails
  leaves the head where it was, so no index is ever skipped or reused.
- **One checkpoint signer at a time.** ``signing_turn`` holds a session
  advisory lock while the ``Checkpointer`` reads the head, signs and stores;
  another instance finds it taken and skips that tick. If the holder dies its
  session ends and the lock is free again.
- **Durability.** A commit returns once PostgreSQL has flushed its WAL
  (``synchronous_commit=on``, the server default): the same promise as the
  SQLite log's ``synchronous=FULL``. Replicas are the operator's choice.

Retention: pruned bytes are deleted and recorded in one transaction, as on
SQLite; PostgreSQL has no ``secure_delete``, so the dead row versions stay in
the data files until ``VACUUM`` reuses the space (docs/configuration.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Final

import asyncpg

from hub.log.entry import LogEntry
from hub.log.errors import LogStoreError
from hub.log.merkle import leaf_hash
from hub.log.store import (
    LeafRecord,
    Pruned,
    StoredCheckpoint,
    StoredCosignature,
    check_rule_id,
)
from hub.log.tree import NodeId, NodeStore, append_leaves, right_edge
from hub.storage.postgresql.database import PgDatabase

__all__ = ["PgLogStorage", "PgNodeStore"]

_READ_CHUNK: Final = 512
"""Leaves per SELECT when streaming, as on SQLite."""

_PRUNE_CHUNK: Final = 10_000
"""Indices per DELETE: one array parameter, bounded to keep a statement short."""

_SIGNING_LOCK: Final = 0x4952_5402
"""Session advisory lock key held while a checkpoint is signed ("IRT" 02)."""

_RECORDS: Final = (
    "SELECT l.idx, l.leaf, m.raw, p.rule_id, p.pruned_at FROM log_leaf AS l"
    " LEFT JOIN log_message AS m ON m.idx = l.idx"
    " LEFT JOIN log_pruned AS p ON p.idx = l.idx"
    " WHERE l.idx >= $1 AND l.idx < $2 ORDER BY l.idx LIMIT $3"
)
_GET_NODES: Final = (
    "SELECT n.level, n.idx, n.hash FROM unnest($1::smallint[], $2::bigint[]) AS v (level, idx)"
    " JOIN merkle_node AS n ON n.level = v.level AND n.idx = v.idx"
)


class PgNodeStore:
    """The ``NodeStore`` of a ``PgLogStorage``: reads any time, writes under the head lock."""

    def __init__(self, database: PgDatabase) -> None:
        self._db = database

    def size(self) -> int:
        """See ``NodeStore.size``."""
        return int(self._db.run(_size, action="read the log's size from", failure=LogStoreError))

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        """See ``NodeStore.get_nodes``."""

        async def work(connection: asyncpg.Connection) -> list[bytes]:
            return await _get_nodes(connection, ids)

        return self._db.run(work, action="read Merkle nodes from", failure=LogStoreError)

    def put_nodes(
        self, nodes: Sequence[tuple[NodeId, bytes]], *, old_size: int, new_size: int
    ) -> None:
        """See ``NodeStore.put_nodes``: one transaction, refused if the size moved."""

        async def work(connection: asyncpg.Connection) -> None:
            async with connection.transaction():
                size = await _locked_size(connection)
                if size != old_size:
                    raise LogStoreError(
                        f"tree size is {size}, not {old_size}: another appender moved it"
                    )
                await _put_nodes(connection, nodes, new_size)

        self._db.run(work, action="write Merkle nodes to", failure=_store_error)


class PgLogStorage:
    """A ``LogStorage`` in a ``PgDatabase``; safe to share between threads and processes."""

    def __init__(self, database: PgDatabase) -> None:
        self._db = database
        self._nodes = PgNodeStore(database)

    @property
    def nodes(self) -> NodeStore:
        """See ``LeafStore.nodes``."""
        return self._nodes

    def append(self, items: Sequence[tuple[LogEntry, bytes]]) -> int:
        """See ``LeafStore.append``: serialised on the head row across instances."""
        leaves = [(entry.leaf_bytes(), raw, entry.message_id) for entry, raw in items]

        async def work(connection: asyncpg.Connection) -> int:
            async with connection.transaction():
                first = await _locked_size(connection)
                edge_ids = right_edge(first)
                staged = _StagedNodes(
                    first, dict(zip(edge_ids, await _get_nodes(connection, edge_ids), strict=True))
                )
                new_size = append_leaves(staged, [leaf_hash(leaf) for leaf, _, _ in leaves])
                await connection.copy_records_to_table(
                    "log_leaf",
                    records=[(first + n, leaf, mid) for n, (leaf, _, mid) in enumerate(leaves)],
                    columns=("idx", "leaf", "message_id"),
                )
                await connection.copy_records_to_table(
                    "log_message",
                    records=[(first + n, raw) for n, (_, raw, _) in enumerate(leaves)],
                    columns=("idx", "raw"),
                )
                await _put_nodes(connection, staged.written, new_size)
            return first

        return self._db.run(work, action="append to the message log in", failure=_store_error)

    def records(self, start: int, end: int) -> Iterator[LeafRecord]:
        """See ``LeafStore.records``; streamed in chunks."""
        while start < end:

            async def work(
                connection: asyncpg.Connection, low: int = start
            ) -> list[asyncpg.Record]:
                return list(await connection.fetch(_RECORDS, low, end, _READ_CHUNK))

            rows = self._db.run(work, action="read the message log in", failure=LogStoreError)
            yield from (_record(*row) for row in rows)
            if len(rows) < _READ_CHUNK:
                return
            start = rows[-1][0] + 1

    def find(self, message_id: str) -> list[int]:
        """See ``LeafStore.find``."""

        async def work(connection: asyncpg.Connection) -> list[int]:
            rows = await connection.fetch(
                "SELECT idx FROM log_leaf WHERE message_id = $1 ORDER BY idx", message_id
            )
            return [int(row[0]) for row in rows]

        return self._db.run(work, action="read the message log in", failure=LogStoreError)

    def prune(self, indices: Iterable[int], rule_id: str, at: datetime) -> int:
        """See ``MessageStore.prune``; one transaction."""
        check_rule_id(rule_id)
        wanted = list(indices)

        async def work(connection: asyncpg.Connection) -> int:
            pruned = 0
            async with connection.transaction():
                for first in range(0, len(wanted), _PRUNE_CHUNK):
                    rows = await connection.fetch(
                        "DELETE FROM log_message WHERE idx = ANY($1::bigint[]) RETURNING idx",
                        wanted[first : first + _PRUNE_CHUNK],
                    )
                    await connection.executemany(
                        "INSERT INTO log_pruned VALUES ($1, $2, $3)",
                        [(row[0], rule_id, at) for row in rows],
                    )
                    pruned += len(rows)
            return pruned

        return self._db.run(work, action="prune the message log in", failure=_store_error)

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """See ``CheckpointStore.add_checkpoint``."""

        async def work(connection: asyncpg.Connection) -> None:
            await connection.execute(
                "INSERT INTO log_checkpoint VALUES ($1, $2, $3)",
                checkpoint.size,
                checkpoint.note,
                checkpoint.signed_at,
            )

        self._db.run(work, action="store a checkpoint in", failure=_store_error)

    def checkpoints(self) -> list[StoredCheckpoint]:
        """See ``CheckpointStore.checkpoints``."""

        async def work(connection: asyncpg.Connection) -> list[StoredCheckpoint]:
            rows = await connection.fetch(
                "SELECT size, note, signed_at FROM log_checkpoint ORDER BY size"
            )
            return [StoredCheckpoint(int(s), bytes(n), t) for s, n, t in rows]

        return self._db.run(work, action="read checkpoints from", failure=LogStoreError)

    def add_cosignature(self, cosignature: StoredCosignature) -> bool:
        """See ``CheckpointStore.add_cosignature``."""

        async def work(connection: asyncpg.Connection) -> bool:
            status = await connection.execute(
                "INSERT INTO log_cosignature (size, witness, line, received_at)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                cosignature.size,
                cosignature.witness,
                cosignature.line,
                cosignature.received_at,
            )
            return bool(status == "INSERT 0 1")

        return self._db.run(work, action="store a cosignature in", failure=_store_error)

    def cosignatures(self, size: int) -> list[StoredCosignature]:
        """See ``CheckpointStore.cosignatures``."""

        async def work(connection: asyncpg.Connection) -> list[StoredCosignature]:
            rows = await connection.fetch(
                "SELECT witness, line, received_at FROM log_cosignature WHERE size = $1"
                " ORDER BY seq",
                size,
            )
            return [StoredCosignature(size, str(w), bytes(line), t) for w, line, t in rows]

        return self._db.run(work, action="read cosignatures from", failure=LogStoreError)

    def signing_turn(self) -> AbstractContextManager[bool]:
        """See ``CheckpointStore.signing_turn``: a session advisory lock on the server."""
        return self._db.try_advisory_lock(
            _SIGNING_LOCK, action="take the checkpoint signing turn in", failure=LogStoreError
        )

    def close(self) -> None:
        """Nothing to release: the ``PgDatabase`` is closed by its owner."""


class _StagedNodes:
    """A ``NodeStore`` over a prefetched right edge that keeps what is written.

    ``append_leaves`` is synchronous; the transaction reads the edge it needs
    (``right_edge``) first, lets ``append_leaves`` hash in memory, then
    writes ``written`` itself.
    """

    def __init__(self, size: int, edge: dict[NodeId, bytes]) -> None:
        self._size = size
        self._edge = edge
        self.written: list[tuple[NodeId, bytes]] = []

    def size(self) -> int:
        return self._size

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        return [self._edge[node] for node in ids]

    def put_nodes(
        self, nodes: Sequence[tuple[NodeId, bytes]], *, old_size: int, new_size: int
    ) -> None:
        self.written = list(nodes)


async def _size(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("SELECT size FROM merkle_size WHERE id = 1"))


async def _locked_size(connection: asyncpg.Connection) -> int:
    # The head row lock is what serialises appenders on every instance.
    return int(await connection.fetchval("SELECT size FROM merkle_size WHERE id = 1 FOR UPDATE"))


async def _get_nodes(connection: asyncpg.Connection, ids: Sequence[NodeId]) -> list[bytes]:
    if not ids:
        return []
    rows = await connection.fetch(
        _GET_NODES, [node.level for node in ids], [node.index for node in ids]
    )
    found = {(int(level), int(idx)): bytes(digest) for level, idx, digest in rows}
    try:
        return [found[(node.level, node.index)] for node in ids]
    except KeyError as exc:
        raise LogStoreError(f"the log's node store lacks node {exc.args[0]}") from exc


async def _put_nodes(
    connection: asyncpg.Connection, nodes: Sequence[tuple[NodeId, bytes]], new_size: int
) -> None:
    await connection.copy_records_to_table(
        "merkle_node",
        records=[(node.level, node.index, digest) for node, digest in nodes],
        columns=("level", "idx", "hash"),
    )
    await connection.execute("UPDATE merkle_size SET size = $1 WHERE id = 1", new_size)


def _store_error(reason: str) -> LogStoreError:
    if "duplicate key" in reason:
        return LogStoreError(f"{reason} (it already holds that item)")
    return LogStoreError(reason)


def _record(
    index: int, leaf: bytes, raw: bytes | None, rule_id: str | None, at: datetime | None
) -> LeafRecord:
    message: bytes | Pruned | None = None
    if raw is not None:
        message = bytes(raw)
    elif rule_id is not None and at is not None:
        message = Pruned(index, rule_id, at)
    return LeafRecord(index=index, leaf=bytes(leaf), message=message)
