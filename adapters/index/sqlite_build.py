"""Writing a new SQLite index file from a pair of validated exports, in one pass.

The file is new and nobody reads it until ``adapters.index.replace`` renames
it into place, so it is written the fastest safe way: no rollback journal
(a failed write is deleted, never rolled back), tables filled before their
indexes are built (several times faster than inserting into indexed tables),
and one ``fsync`` at the end, so that the rename that follows never exposes
a file whose pages are still in flight.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from adapters.index.csvimport import Exports
from adapters.index.frequency import count_names
from adapters.index.sqlite_schema import (
    INDEXES,
    INSERT_CHILD,
    INSERT_CODE,
    INSERT_INVOLVEMENT,
    SCHEMA,
    SCHEMA_VERSION,
    child_row,
    code_rows,
    involvement_values,
)
from hub.errors import InternalError

__all__ = ["ImportCounts", "write_index"]

_CACHE_KIB: Final = 64 * 1024
"""Index builds after a bulk load sort in the page cache: 64 MiB keeps a
100,000-child import off temporary files."""


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """How many rows an import wrote."""

    children: int
    involvements: int
    name_codes: int


def write_index(path: Path, exports: Exports, *, imported_at: datetime) -> ImportCounts:
    """Write ``exports`` as a complete index file at ``path``, which must not exist yet.

    ``imported_at`` (time-zone aware) is recorded as the index's age. Raises
    ``InternalError`` when ``path`` exists or SQLite or the disk fails; the
    caller deletes what was written.
    """
    if imported_at.tzinfo is None:
        raise InternalError("an import time must be time-zone aware")
    children = exports.children
    row_ids = {child.local_id: n for n, child in enumerate(children, start=1)}
    frequencies = count_names(children)
    code_ids: dict[str, int] = {}
    codes = [code_rows(n, child, code_ids) for n, child in enumerate(children, start=1)]
    try:
        # Exclusive creation: never write into a file someone else is making.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        with closing(sqlite3.connect(path, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
            db.execute("PRAGMA temp_store = MEMORY")
            db.executescript(SCHEMA)  # before BEGIN: executescript commits first
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO name_frequency (kind, part, count) VALUES (?, ?, ?)",
                [("given", part, n) for part, n in frequencies.given.items()]
                + [("family", part, n) for part, n in frequencies.family.items()],
            )
            db.executemany(
                "INSERT INTO code (id, code) VALUES (?, ?)",
                ((code_id, code) for code, code_id in code_ids.items()),
            )
            db.executemany(
                INSERT_CHILD, (child_row(n, child) for n, child in enumerate(children, start=1))
            )
            db.executemany(INSERT_CODE, (row for rows in codes for row in rows))
            db.executemany(
                INSERT_INVOLVEMENT,
                (
                    (row_ids[inv.local_id], seq, *involvement_values(inv))
                    for seq, inv in enumerate(exports.involvements)
                ),
            )
            for sql in INDEXES.values():
                db.execute(sql)
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                (
                    ("schema_version", SCHEMA_VERSION),
                    ("children", str(len(children))),
                    ("imported_at", imported_at.isoformat()),
                ),
            )
            db.execute("COMMIT")
        _fsync(path)
    except FileExistsError as exc:
        raise InternalError(f"{path} already exists; another import may be writing it") from exc
    except sqlite3.Error as exc:
        raise InternalError(f"cannot write the children's index {path}: {exc}") from exc
    except OSError as exc:
        raise InternalError(f"cannot write the children's index {path}: {exc.strerror}") from exc
    return ImportCounts(len(children), len(exports.involvements), sum(map(len, codes)))


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
