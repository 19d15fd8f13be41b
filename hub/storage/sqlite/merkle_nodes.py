"""The durable ``NodeStore``: perfect-subtree hashes in one SQLite table.

Two tables: ``merkle_node (level, idx, hash)`` keyed by the node id, and a
one-row ``merkle_size``. ``put_nodes`` writes a whole batch and moves the size
in one ``BEGIN IMMEDIATE`` transaction, so a crash leaves either the old tree
or the new one, and a second appender on the same file is refused rather than
interleaved. WAL with ``synchronous=NORMAL`` survives a killed process without
an fsync per batch. The same two tables work unchanged on PostgreSQL.

``SqliteNodeStore.sharing`` puts the two tables on a connection someone else
owns (the message log keeps leaves, message bytes and nodes in one file); the
owner sets the pragmas, and a ``put_nodes`` called inside the owner's open
transaction joins it instead of committing on its own.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Final

from hub.log.errors import LogStoreError
from hub.log.tree import NodeId

__all__ = ["SqliteNodeStore"]

_READ_CHUNK: Final = 400
"""Node ids per SELECT: two bound parameters each, far below SQLite's
32,766-parameter limit, and more than any proof over a 2^63-leaf tree needs."""

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS merkle_node ("
    " level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,"
    " PRIMARY KEY (level, idx)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS merkle_size ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL)",
    "INSERT INTO merkle_size VALUES (1, 0) ON CONFLICT DO NOTHING",
)


class SqliteNodeStore:
    """A ``NodeStore`` in a SQLite file (WAL mode); safe to share between threads."""

    def __init__(self, path: Path) -> None:
        """Open or create the store at ``path``; raises ``LogStoreError`` if it cannot."""
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                self._db.execute(statement)
        except sqlite3.Error as exc:
            raise LogStoreError(f"cannot open node store {path}: {exc}") from exc
        self._path = path
        self._lock: AbstractContextManager[object] = threading.Lock()

    @classmethod
    def sharing(
        cls,
        db: sqlite3.Connection,
        lock: AbstractContextManager[object],
        *,
        path: Path,
        create: bool = True,
    ) -> SqliteNodeStore:
        """A store on the open connection ``db``, guarded by its owner's ``lock``.

        ``lock`` must be re-entrant if the owner holds it while calling
        ``put_nodes``. ``create`` makes the tables if missing (off for a
        read-only connection). Raises ``LogStoreError`` if they cannot be made.
        """
        store = cls.__new__(cls)
        store._db, store._lock, store._path = db, lock, path
        if create:
            try:
                with lock:
                    for statement in _SCHEMA:
                        db.execute(statement)
            except sqlite3.Error as exc:
                raise LogStoreError(f"cannot create node tables in {path}: {exc}") from exc
        return store

    def size(self) -> int:
        """See ``NodeStore.size``."""
        try:
            with self._lock:
                row = self._db.execute("SELECT size FROM merkle_size WHERE id = 1").fetchone()
        except sqlite3.Error as exc:
            raise LogStoreError(f"node store {self._path} failed: {exc}") from exc
        return int(row[0])

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        """See ``NodeStore.get_nodes``."""
        found: dict[tuple[int, int], bytes] = {}
        try:
            with self._lock:
                for first in range(0, len(ids), _READ_CHUNK):
                    chunk = ids[first : first + _READ_CHUNK]
                    rows = ", ".join(["(?, ?)"] * len(chunk))
                    params = [value for node in chunk for value in (node.level, node.index)]
                    found.update(
                        ((level, idx), bytes(digest))
                        for level, idx, digest in self._db.execute(
                            # A join, not a row-value IN: SQLite answers the IN
                            # with a full table scan, the join with one
                            # primary-key search per wanted node.
                            f"SELECT n.level, n.idx, n.hash FROM (VALUES {rows}) AS v"  # noqa: S608
                            " CROSS JOIN merkle_node AS n"
                            " ON n.level = v.column1 AND n.idx = v.column2",
                            params,
                        )
                    )
        except sqlite3.Error as exc:
            raise LogStoreError(f"node store {self._path} failed: {exc}") from exc
        try:
            return [found[(node.level, node.index)] for node in ids]
        except KeyError as exc:
            raise LogStoreError(f"node store {self._path} lacks node {exc.args[0]}") from exc

    def put_nodes(
        self, nodes: Sequence[tuple[NodeId, bytes]], *, old_size: int, new_size: int
    ) -> None:
        """See ``NodeStore.put_nodes``; one transaction for the whole batch.

        Inside a transaction the caller opened on a shared connection, the
        nodes join that transaction and the caller commits or rolls back.
        """
        try:
            with self._lock:
                owned = not self._db.in_transaction
                if owned:
                    self._db.execute("BEGIN IMMEDIATE")
                try:
                    (size,) = self._db.execute(
                        "SELECT size FROM merkle_size WHERE id = 1"
                    ).fetchone()
                    if size != old_size:
                        raise LogStoreError(
                            f"tree size is {size}, not {old_size}: another appender moved it"
                        )
                    self._db.executemany(
                        "INSERT INTO merkle_node VALUES (?, ?, ?)",
                        [(node.level, node.index, digest) for node, digest in nodes],
                    )
                    self._db.execute("UPDATE merkle_size SET size = ? WHERE id = 1", (new_size,))
                except BaseException:
                    if owned:
                        self._db.execute("ROLLBACK")
                    raise
                if owned:
                    self._db.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            raise LogStoreError(f"node store {self._path} already holds a node: {exc}") from exc
        except sqlite3.Error as exc:
            raise LogStoreError(f"node store {self._path} failed: {exc}") from exc

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
