"""A message log in a folder of its own, for the tools that work on one outside the hub.

The auditor's copy, ``irthub log``, benchmarks and tests open a ``log.sqlite``
in a folder they name. This is wiring above the SQLite backend (which never
imports the ``MessageLog`` it serves), beside the hub's own
``hub.storage.backends``.
"""

from __future__ import annotations

from pathlib import Path

from hub.clock import Clock
from hub.log.errors import LogStoreError
from hub.log.message_log import GroupCommit, MessageLog
from hub.storage.sqlite.log import LOG_DB_NAME, SqliteLogStorage

__all__ = ["open_sqlite_log"]


def open_sqlite_log(
    directory: Path,
    *,
    read_only: bool = False,
    clock: Clock | None = None,
    group_commit: GroupCommit | None = None,
) -> MessageLog:
    """The message log in ``directory`` (``log.sqlite``), created unless ``read_only``.

    Raises ``LogStoreError`` if it cannot be opened.
    """
    if not read_only:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LogStoreError(f"cannot create log directory {directory}: {exc}") from exc
    storage = SqliteLogStorage(directory / LOG_DB_NAME, read_only=read_only)
    return MessageLog(storage, clock=clock, group_commit=group_commit)
