"""``LogStorage`` in one SQLite file: leaves, message bytes, tree, checkpoints.

Tables (``log.sqlite``, made by the ``sqlite/log`` migrations):
``log_leaf (idx, leaf, message_id)``,
``log_message (idx, raw)``, ``log_pruned (idx, rule_id, pruned_at)``,
``log_checkpoint (size, note, signed_at)``,
``log_cosignature (size, witness, line, received_at)``, and the node store's
``merkle_node`` and ``merkle_size`` (``SqliteNodeStore.sharing``), so one
transaction appends a batch's leaves, message bytes and tree nodes together.

Durability: WAL with ``synchronous=FULL``. A message must not be acknowledged,
nor a checkpoint signed over it, before its leaf is on disk: with ``NORMAL``
a committed WAL transaction survives a killed process but not a power cut, and
a lost leaf under a signed checkpoint is indistinguishable from a forked log.
``FULL`` costs one fsync per commit; ``MessageLog`` batches appends (group
commit) so that fsync is shared by every message in the batch.

Retention: ``secure_delete`` is on, so pruned message bytes are overwritten in
the file, and the WAL is checkpointed and truncated after each prune so they
do not linger there either.

Reads go through a second, read-only connection: proofs and checkpoints never
wait behind a batch's fsync.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Final

from hub.errors import InternalError
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
from hub.log.tree import NodeStore, append_leaves
from hub.storage.sqlite.merkle_nodes import SqliteNodeStore
from hub.storage.sqlite.migrate import migrate_sqlite

__all__ = ["LOG_DB_NAME", "SqliteLogStorage"]

LOG_DB_NAME: Final = "log.sqlite"
"""The database file inside a log directory."""

_READ_CHUNK: Final = 512
"""Leaves per SELECT when streaming: a few MB of message bytes at most, and the
read lock is released between chunks."""

_PRUNE_CHUNK: Final = 500
"""Indices per DELETE: far below SQLite's bound-parameter limit."""

_WAL_CHECKPOINT_PAGES: Final = 10_000
"""Pages (4 KiB) the WAL may grow to before SQLite copies it into the file:
about ten batches of 1,000 messages. The default of 1,000 pages checkpoints
after nearly every batch, adding an fsync of the database file to each."""

_CACHE_KIB: Final = 64 * 1024
"""Page cache of the writing connection, so the message-id index and the
tree's right edge stay in memory as the log grows past the default 2 MiB."""

_TABLES: Final = frozenset({"log_leaf", "log_message", "log_pruned", "log_checkpoint"})

_RECORDS: Final = (
    "SELECT l.idx, l.leaf, m.raw, p.rule_id, p.pruned_at FROM log_leaf AS l"
    " LEFT JOIN log_message AS m ON m.idx = l.idx"
    " LEFT JOIN log_pruned AS p ON p.idx = l.idx"
    " WHERE l.idx >= ? AND l.idx < ? ORDER BY l.idx LIMIT ?"
)


class SqliteLogStorage:
    """A ``LogStorage`` in the SQLite file ``path``; safe to share between threads."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """Open (or, unless ``read_only``, create) the log database at ``path``.

        Raises ``LogStoreError`` if it cannot be opened or is not a message log.
        """
        self._path = path
        self._writer: sqlite3.Connection | None = None
        self._write_lock = threading.RLock()
        self._read_lock = threading.Lock()
        try:
            if not read_only:
                writer = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                self._writer = writer
                writer.execute("PRAGMA journal_mode=WAL")
                writer.execute("PRAGMA synchronous=FULL")
                writer.execute("PRAGMA secure_delete=ON")
                writer.execute(f"PRAGMA wal_autocheckpoint={_WAL_CHECKPOINT_PAGES}")
                writer.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
                migrate_sqlite(writer, "log")
                self._tree = SqliteNodeStore.sharing(
                    writer, self._write_lock, path=path, create=False
                )
            uri = f"{path.resolve().as_uri()}?mode=ro"
            self._reader = sqlite3.connect(
                uri, uri=True, check_same_thread=False, isolation_level=None
            )
            tables = {row[0] for row in self._reader.execute("SELECT name FROM sqlite_master")}
        except (sqlite3.Error, InternalError) as exc:
            raise LogStoreError(f"cannot open message log {path}: {exc}") from exc
        if not _TABLES.issubset(tables):
            raise LogStoreError(f"{path} is not a message log (tables {sorted(_TABLES)} missing)")
        self._read_tree = SqliteNodeStore.sharing(
            self._reader, self._read_lock, path=path, create=False
        )

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def nodes(self) -> NodeStore:
        """See ``LeafStore.nodes``; read through the read-only connection."""
        return self._read_tree

    def append(self, items: Sequence[tuple[LogEntry, bytes]]) -> int:
        """See ``LeafStore.append``: leaves, message bytes and nodes in one transaction."""
        leaves = [(entry.leaf_bytes(), raw, entry.message_id) for entry, raw in items]
        writer = self._writable()
        with self._write_lock, self._failing("append to"):
            writer.execute("BEGIN IMMEDIATE")
            try:
                first = self._tree.size()
                writer.executemany(
                    "INSERT INTO log_leaf VALUES (?, ?, ?)",
                    [(first + n, leaf, mid) for n, (leaf, _, mid) in enumerate(leaves)],
                )
                writer.executemany(
                    "INSERT INTO log_message VALUES (?, ?)",
                    [(first + n, raw) for n, (_, raw, _) in enumerate(leaves)],
                )
                append_leaves(self._tree, [leaf_hash(leaf) for leaf, _, _ in leaves])
                writer.execute("COMMIT")
            except BaseException:
                if writer.in_transaction:
                    writer.execute("ROLLBACK")
                raise
        return first

    def records(self, start: int, end: int) -> Iterator[LeafRecord]:
        """See ``LeafStore.records``; streamed in chunks."""
        while start < end:
            with self._read_lock, self._failing("read"):
                rows = self._reader.execute(_RECORDS, (start, end, _READ_CHUNK)).fetchall()
                records = [_record(*row) for row in rows]
            yield from records
            if len(rows) < _READ_CHUNK:
                return
            start = rows[-1][0] + 1

    def find(self, message_id: str) -> list[int]:
        """See ``LeafStore.find``."""
        with self._read_lock, self._failing("read"):
            rows = self._reader.execute(
                "SELECT idx FROM log_leaf WHERE message_id = ? ORDER BY idx", (message_id,)
            ).fetchall()
        return [row[0] for row in rows]

    def prune(self, indices: Iterable[int], rule_id: str, at: datetime) -> int:
        """See ``MessageStore.prune``; one transaction, then the WAL is truncated."""
        check_rule_id(rule_id)
        writer = self._writable()
        pruned = 0
        with self._write_lock, self._failing("prune"):
            writer.execute("BEGIN IMMEDIATE")
            try:
                for batch in _chunks(indices, _PRUNE_CHUNK):
                    marks = ", ".join("?" * len(batch))
                    present = [
                        row[0]
                        for row in writer.execute(
                            f"SELECT idx FROM log_message WHERE idx IN ({marks})",  # noqa: S608
                            batch,
                        )
                    ]
                    writer.executemany(
                        "DELETE FROM log_message WHERE idx = ?", [(i,) for i in present]
                    )
                    writer.executemany(
                        "INSERT INTO log_pruned VALUES (?, ?, ?)",
                        [(i, rule_id, at.isoformat()) for i in present],
                    )
                    pruned += len(present)
                writer.execute("COMMIT")
            except BaseException:
                if writer.in_transaction:
                    writer.execute("ROLLBACK")
                raise
            writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return pruned

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """See ``CheckpointStore.add_checkpoint``."""
        writer = self._writable()
        with self._write_lock, self._failing("store a checkpoint in"):
            writer.execute(
                "INSERT INTO log_checkpoint VALUES (?, ?, ?)",
                (checkpoint.size, checkpoint.note, checkpoint.signed_at.isoformat()),
            )

    def checkpoints(self) -> list[StoredCheckpoint]:
        """See ``CheckpointStore.checkpoints``."""
        with self._read_lock, self._failing("read"):
            rows = self._reader.execute(
                "SELECT size, note, signed_at FROM log_checkpoint ORDER BY size"
            ).fetchall()
            return [StoredCheckpoint(s, _blob(n), datetime.fromisoformat(t)) for s, n, t in rows]

    def add_cosignature(self, cosignature: StoredCosignature) -> bool:
        """See ``CheckpointStore.add_cosignature``."""
        writer = self._writable()
        with self._write_lock, self._failing("store a cosignature in"):
            cursor = writer.execute(
                "INSERT INTO log_cosignature VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    cosignature.size,
                    cosignature.witness,
                    cosignature.line,
                    cosignature.received_at.isoformat(),
                ),
            )
        return cursor.rowcount == 1

    def cosignatures(self, size: int) -> list[StoredCosignature]:
        """See ``CheckpointStore.cosignatures``."""
        with self._read_lock, self._failing("read"):
            rows = self._reader.execute(
                "SELECT witness, line, received_at FROM log_cosignature WHERE size = ?"
                " ORDER BY rowid",
                (size,),
            ).fetchall()
            return [
                StoredCosignature(size, str(w), _blob(line), datetime.fromisoformat(t))
                for w, line, t in rows
            ]

    def signing_turn(self) -> AbstractContextManager[bool]:
        """See ``CheckpointStore.signing_turn``: a SQLite log has one writer, always its turn."""
        return nullcontext(True)

    def export_copy(self, destination: Path) -> None:
        """Write a consistent single-file copy (no WAL) to ``destination``, for auditors.

        Raises ``LogStoreError`` if ``destination`` exists or cannot be written.
        """
        if destination.exists():
            raise LogStoreError(f"{destination} already exists; choose a new file")
        try:
            copy = sqlite3.connect(destination, isolation_level=None)
            try:
                with self._read_lock:
                    self._reader.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")
            finally:
                copy.close()
        except sqlite3.Error as exc:
            raise LogStoreError(f"cannot copy {self._path} to {destination}: {exc}") from exc

    def close(self) -> None:
        """Close both connections."""
        with self._read_lock:
            self._reader.close()
        if self._writer is not None:
            with self._write_lock:
                self._writer.close()

    def _writable(self) -> sqlite3.Connection:
        if self._writer is None:
            raise LogStoreError(f"message log {self._path} is open read-only")
        return self._writer

    def _failing(self, action: str) -> AbstractContextManager[None]:
        return _Translate(f"cannot {action} message log {self._path}")


class _Translate(AbstractContextManager[None]):
    """Turns ``sqlite3.Error`` into ``LogStoreError`` with a prefix."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        if isinstance(error, sqlite3.IntegrityError):
            raise LogStoreError(f"{self._prefix}: it already holds that item ({error})") from error
        if isinstance(error, sqlite3.Error):
            raise LogStoreError(f"{self._prefix}: {error}") from error
        if isinstance(error, ValueError | TypeError):
            raise LogStoreError(f"{self._prefix}: a stored row is malformed: {error}") from error


def _record(index: int, leaf: object, raw: object, rule_id: object, at: object) -> LeafRecord:
    message: bytes | Pruned | None = None
    if raw is not None:
        message = _blob(raw)
    elif rule_id is not None:
        message = Pruned(index, str(rule_id), datetime.fromisoformat(str(at)))
    return LeafRecord(index=index, leaf=_blob(leaf), message=message)


def _blob(value: object) -> bytes:
    # Written as BLOBs; a value someone stored as another type (TEXT after a
    # concatenation, say) is read as its UTF-8 text, which then fails the
    # checks its bytes are subject to, instead of crashing the reader.
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode("utf-8", "surrogateescape")


def _chunks(indices: Iterable[int], size: int) -> Iterator[list[int]]:
    batch: list[int] = []
    for index in indices:
        batch.append(index)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
