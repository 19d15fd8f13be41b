"""One SQLite database file shared by the stores built on it, with errors translated.

Every store of the hub and the nodes that sits on SQLite opens its file
through ``SqliteDatabase``: WAL journal, a busy timeout, one connection
guarded by a lock (calls may come from the event loop and from worker
threads), explicit ``BEGIN IMMEDIATE`` transactions, and every
``sqlite3.Error`` turned into ``InternalError`` naming the store, so a full
disk or a broken file reaches the sender as a clear ``internal-error`` and
never as an acknowledgement.

``synchronous=FULL`` (the default here) makes a commit survive a power cut
as well as a killed process: a store that answers "persisted" must mean it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final, Literal

from hub.errors import InternalError

__all__ = ["BUSY_TIMEOUT_SECONDS", "SqliteDatabase"]

BUSY_TIMEOUT_SECONDS: Final = 10.0
"""How long a writer waits for another process's transaction (a CLI reading
a node's store) before the store reports itself failed."""


class SqliteDatabase:
    """An open SQLite file with a schema applied; see the module docstring."""

    def __init__(
        self,
        path: Path,
        *,
        schema: str,
        name: str,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> None:
        """Open (creating if needed) ``path`` and apply ``schema`` (idempotent DDL).

        ``name`` is how errors call the store. Raises ``InternalError`` if the
        file cannot be opened or the schema cannot be applied.
        """
        self.name = name
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.executescript(schema)
        except sqlite3.Error as exc:
            raise InternalError(f"cannot open the {name} at {path}: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on normal exit, rolled back on any error.

        Raises ``InternalError`` for database failures (disk full, I/O error,
        locked for longer than ``BUSY_TIMEOUT_SECONDS``).
        """
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise InternalError(f"{self.name} failed: {exc}") from exc
            try:
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise InternalError(f"{self.name} failed: {exc}") from exc
            except BaseException:
                self._rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads; raises ``InternalError`` on database failures."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise InternalError(f"{self.name} failed: {exc}") from exc

    def check(self) -> None:
        """Raise ``InternalError`` unless the database answers (for ``/healthz``)."""
        with self.reading() as db:
            db.execute("SELECT 1").fetchall()

    def close(self) -> None:
        """Close the file; later calls fail with ``InternalError``."""
        with self._lock:
            self._db.close()

    def _rollback(self) -> None:
        # The failed statement may already have ended the transaction; the
        # original error is the one worth reporting.
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")
