"""One PostgreSQL database shared by the hub's stores: an asyncpg pool on its own loop.

The hub's storage Protocols are synchronous (SQLite answers in microseconds,
and their callers already run them in worker threads: the verifier's replay
check, the log's group commit, the checkpointer), while asyncpg is an asyncio
driver. ``PgDatabase`` bridges the two without blocking the hub's event
loop: the pool lives on a private event loop in a daemon thread, and

- ``run(work)`` (from any thread but that one) submits ``work(connection)``
  there and waits for its result;
- ``arun(work)`` (from another event loop, such as the hub's) awaits it
  without blocking that loop.

Every database or connection failure leaves as the ``failure`` class the
caller names (``InternalError`` by default), with the action and the server
(host, port and database: never the password). Schema migrations are applied
when the database is opened (``hub.storage.migrate``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import asyncpg

from hub.errors import InternalError, IrtError
from hub.storage.postgresql.migrate import migrate_postgresql

__all__ = ["COMMAND_TIMEOUT_SECONDS", "DB_ERRORS", "PgDatabase", "describe_dsn"]

_T = TypeVar("_T")

COMMAND_TIMEOUT_SECONDS: Final = 30.0
"""Longest a statement, or the wait for a pooled connection, may take before
the store reports itself failed: a stuck server must not hold a request for
ever."""

_CONNECT_TIMEOUT_SECONDS: Final = 10.0
"""Longest opening the pool (first connection and migrations) may take."""

DB_ERRORS: Final = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
"""What asyncpg raises for server errors, broken connections and timeouts."""


def describe_dsn(dsn: str) -> str:
    """``host:port/database`` of a ``postgresql://`` DSN, for messages (no user, no password)."""
    parts = urlsplit(dsn)
    host = parts.hostname or "localhost"
    port = parts.port or 5432
    return f"{host}:{port}{parts.path or '/'}"


class PgDatabase:
    """An asyncpg pool on a private event loop; see the module docstring."""

    def __init__(self, dsn: str, *, pool_size: int = 10, migrate: bool = True) -> None:
        """Connect to ``dsn`` and, if ``migrate``, apply pending migrations.

        Readers that must not change the database (an auditor) pass
        ``migrate=False``.

        Raises ``InternalError`` if the server cannot be reached or a
        migration fails.
        """
        self.where = describe_dsn(dsn)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="irt-postgresql", daemon=True
        )
        self._thread.start()
        self._closed = False
        try:
            self._pool: asyncpg.Pool = self._submit(
                self._open(dsn, pool_size, migrate=migrate)
            ).result(_CONNECT_TIMEOUT_SECONDS + COMMAND_TIMEOUT_SECONDS)
        except (*DB_ERRORS, ValueError) as exc:
            self._stop_loop()
            raise InternalError(f"cannot open PostgreSQL storage at {self.where}: {exc}") from exc

    def run(
        self,
        work: Callable[[asyncpg.Connection], Awaitable[_T]],
        *,
        action: str,
        failure: Callable[[str], IrtError] = InternalError,
    ) -> _T:
        """Run ``work`` with a pooled connection and return its result; blocks this thread.

        Raises ``failure("cannot <action> …")`` for database failures; any
        ``IrtError`` ``work`` raises passes unchanged.
        """
        if threading.current_thread() is self._thread:
            raise InternalError("PgDatabase.run called on its own event loop (would deadlock)")
        return self._translate(lambda: self._submit(self._with_connection(work)).result(), action,
                               failure)  # fmt: skip

    async def arun(
        self,
        work: Callable[[asyncpg.Connection], Awaitable[_T]],
        *,
        action: str,
        failure: Callable[[str], IrtError] = InternalError,
    ) -> _T:
        """``run`` for a caller on another event loop: awaits without blocking it."""
        future = asyncio.wrap_future(self._submit(self._with_connection(work)))
        try:
            return await future
        except DB_ERRORS as exc:
            raise failure(f"cannot {action} PostgreSQL at {self.where}: {exc}") from exc

    @contextmanager
    def try_advisory_lock(
        self, key: int, *, action: str, failure: Callable[[str], IrtError] = InternalError
    ) -> Iterator[bool]:
        """Hold session advisory lock ``key`` if free; yield whether it is held.

        The lock lives on one pooled connection for the block: if this
        process dies, the server drops the session and the lock with it.
        Raises ``failure`` (``InternalError`` by default) for database failures.
        """
        pool = self._pool

        async def acquire() -> asyncpg.Connection:
            return await pool.acquire(timeout=COMMAND_TIMEOUT_SECONDS)

        connection = self._translate(lambda: self._submit(acquire()).result(), action, failure)
        try:
            held = self._translate(
                lambda: self._submit(
                    connection.fetchval("SELECT pg_try_advisory_lock($1)", key)
                ).result(),
                action,
                failure,
            )
            try:
                yield bool(held)
            finally:
                if held:
                    self._translate(
                        lambda: self._submit(
                            connection.execute("SELECT pg_advisory_unlock($1)", key)
                        ).result(),
                        action,
                        failure,
                    )
        finally:
            self._submit(pool.release(connection)).result()

    def close(self) -> None:
        """Close the pool and stop the loop; later calls fail with ``InternalError``."""
        if self._closed:
            return
        self._closed = True
        try:
            self._submit(self._pool.close()).result(COMMAND_TIMEOUT_SECONDS)
        except (*DB_ERRORS, RuntimeError):
            # The server may already be gone; the sockets die with the loop.
            self._pool.terminate()
        finally:
            self._stop_loop()

    async def _open(self, dsn: str, pool_size: int, *, migrate: bool) -> asyncpg.Pool:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=pool_size,
            timeout=_CONNECT_TIMEOUT_SECONDS,
            command_timeout=COMMAND_TIMEOUT_SECONDS,
        )
        try:
            async with pool.acquire() as connection:
                if migrate:
                    await migrate_postgresql(connection)
                else:
                    await connection.fetchval("SELECT 1")
        except BaseException:
            pool.terminate()
            raise
        return pool

    async def _with_connection(self, work: Callable[[asyncpg.Connection], Awaitable[_T]]) -> _T:
        async with self._pool.acquire(timeout=COMMAND_TIMEOUT_SECONDS) as connection:
            return await work(connection)

    def _submit(self, coroutine: Coroutine[Any, Any, _T]) -> Future[_T]:
        if self._closed and self._loop.is_closed():
            coroutine.close()
            raise InternalError(f"PostgreSQL storage at {self.where} is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def _translate(
        self, call: Callable[[], _T], action: str, failure: Callable[[str], IrtError]
    ) -> _T:
        try:
            return call()
        except DB_ERRORS as exc:
            raise failure(f"cannot {action} PostgreSQL at {self.where}: {exc}") from exc

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=COMMAND_TIMEOUT_SECONDS)
        self._loop.close()
