"""The embedded default children's index: one SQLite file with precomputed blocks.

Tables:

- ``meta``: the schema version, the number of children and when they were
  imported;
- ``child``: one row per record, indexed on local id, birth date, NHS number
  and UPN;
- ``code``: each distinct phonetic name code, numbered;
- ``name_code``: one row per distinct phonetic code of a record's name parts,
  carrying the record's birth year, month-day and district, indexed on
  (code, year), (code, month-day) and (code, district). These three indexes
  are the name-code blocks of ``adapters.index.blocking`` stored
  column-wise: a query seeks only the entries of its own codes and years. A
  record without a birth date has no year (the undated blocks);
- ``name_frequency``: how many children have each folded given-name and
  family-name part (``adapters.index.frequency``), read into memory once;
- ``involvement``: the involvements of each child, in file order.

``candidates`` counts, per record, the blocks it shares with the query (one
per matching index entry) exactly as ``BlockingKeys.block_ids`` defines them,
and reads the records sharing most.

``SqliteChildIndex`` only reads. An index file is written whole, once, by
``adapters.index.sqlite_build`` and put in place by ``adapters.index.replace``,
which renames it over the old one; the reader notices the new file at its
next call and reads from it from then on, so a running node switches from
the old index to the new one when, and only when, the new one is complete.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from adapters.index.base import IndexStatus
from adapters.index.blocking import BlockingKeys
from adapters.index.fields import LocalId
from adapters.index.frequency import NameFrequencies
from adapters.index.model import ChildRecord, Involvement
from adapters.index.sqlite_schema import (
    CHILD_COLUMNS,
    INVOLVEMENT_COLUMNS,
    READABLE_VERSIONS,
    SCHEMA_VERSION,
    involvement_from_row,
    marks,
    record_from_row,
    select_code_ids,
)
from hub.errors import InternalError

__all__ = ["SqliteChildIndex"]

_CACHE_KIB: Final = 64 * 1024

_FileId = tuple[int, int]
"""(device, inode): which file a path named when it was opened."""


class SqliteChildIndex:
    """A ``ChildIndex`` reading one SQLite index file; safe to share between threads.

    Opening reads the file named by ``path`` read-only: it must exist and be
    an index (``irthub node import`` writes one). Raises ``InternalError``
    naming the path when it does not exist, cannot be read, is not an index,
    or was written by a schema version this code does not read.

    At each call the path is looked at again (one ``stat``); when an import or
    a rollback has put another file there, that file is opened and read from
    then on. Should it not open, the index keeps reading the file it has and
    ``status`` raises, so that the node stops answering until an operator
    puts a good index in place.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._frequencies: NameFrequencies | None = None
        self._status: IndexStatus | None = None
        self._fault: str | None = None
        self._db, self._file = self._open()

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteChildIndex:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def path(self) -> Path:
        """The index file this index reads."""
        return self._path

    def status(self) -> IndexStatus:
        """Children held and when they were imported, from the file in place now.

        Raises ``InternalError`` when the file in place is gone or cannot be
        read, or records no import time (written before version 2).
        """
        with self._lock:
            self._connection()
            if self._fault is not None:
                raise InternalError(self._fault)
            if self._status is None:
                try:
                    rows = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
                except sqlite3.Error as exc:
                    raise InternalError(f"children's index {self._path}: {exc}") from exc
                imported = rows.get("imported_at")
                if imported is None:
                    raise InternalError(
                        f"children's index {self._path} does not record when it was imported "
                        "(an earlier version wrote it): import the exports again"
                    )
                self._status = IndexStatus(
                    children=int(rows.get("children", 0)),
                    refreshed_at=datetime.fromisoformat(imported),
                )
            return self._status

    def candidates(self, keys: BlockingKeys, *, limit: int) -> Sequence[ChildRecord]:
        """Records holding the keys' identifiers, then up to ``limit`` sharing most blocks."""
        found = {record.local_id: record for record in self._identified(keys)}
        for record in self._blocked(keys, limit):
            found.setdefault(record.local_id, record)
        return list(found.values())

    def name_frequencies(self) -> NameFrequencies:
        """Counts of the folded name parts, read once per index file."""
        with self._lock:
            db = self._connection()
            frequencies = self._frequencies
            if frequencies is None:
                try:
                    rows = db.execute("SELECT kind, part, count FROM name_frequency").fetchall()
                    counted = db.execute("SELECT value FROM meta WHERE key = 'children'").fetchone()
                except sqlite3.Error as exc:
                    raise InternalError(f"children's index {self._path}: {exc}") from exc
                frequencies = NameFrequencies(
                    children=int(counted[0]) if counted else 0,
                    given={part: n for kind, part, n in rows if kind == "given"},
                    family={part: n for kind, part, n in rows if kind == "family"},
                )
                self._frequencies = frequencies
            return frequencies

    def involvements(self, local_id: LocalId) -> Sequence[Involvement]:
        """The involvements recorded for one child, in file order."""
        sql = (
            f"SELECT {INVOLVEMENT_COLUMNS} FROM involvement "  # noqa: S608 - fixed columns
            "WHERE child = (SELECT id FROM child WHERE local_id = ?) ORDER BY seq"
        )
        return [involvement_from_row(local_id, row) for row in self._query(sql, (local_id,))]

    def _identified(self, keys: BlockingKeys) -> list[ChildRecord]:
        rows: list[tuple[Any, ...]] = []
        for column, values in (("nhs_number", keys.nhs_numbers), ("upn", keys.upns)):
            if values:
                sql = (
                    f"SELECT id, {CHILD_COLUMNS} FROM child "  # noqa: S608
                    f"WHERE {column} IN ({marks(sorted(values))})"
                )
                rows.extend(self._query(sql, sorted(values)))
        unique = {row[0]: row[1:] for row in rows}
        return [record_from_row(row) for _, row in sorted(unique.items())]

    def _blocked(self, keys: BlockingKeys, limit: int) -> list[ChildRecord]:
        if limit < 1:
            return []
        parts: list[str] = []
        params: list[object] = []
        codes = sorted(keys.name_codes)
        code_ids = []
        if codes:
            code_ids = [row[0] for row in self._query(select_code_ids(len(codes)), codes)]
        for column, values in (
            ("birth_year", sorted(keys.birth_years)),
            ("month_day", sorted(int(md) for md in keys.month_days)),
            ("district", sorted(keys.postcode_districts)),
        ):
            if code_ids and values:
                parts.append(
                    f"SELECT child FROM name_code WHERE code IN ({marks(code_ids)}) "  # noqa: S608
                    f"AND {column} IN ({marks(values)})"
                )
                params.extend((*code_ids, *values))
        if code_ids and keys.undated:
            parts.append(
                f"SELECT child FROM name_code WHERE code IN ({marks(code_ids)}) "  # noqa: S608
                "AND birth_year IS NULL"
            )
            params.extend(code_ids)
        dates = sorted(d.isoformat() for d in keys.birth_dates)
        if dates:
            parts.append(
                f"SELECT id AS child FROM child WHERE birth_date IN ({marks(dates)})"  # noqa: S608
            )
            params.extend(dates)
        if not parts:
            return []
        sql = (
            f"SELECT {CHILD_COLUMNS} FROM ("  # noqa: S608 - see INSERT_CHILD
            f"  SELECT child, COUNT(*) AS shared FROM ({' UNION ALL '.join(parts)})"
            "   GROUP BY child ORDER BY shared DESC, child LIMIT ?"
            ") AS hit JOIN child ON child.id = hit.child ORDER BY hit.shared DESC, child.id"
        )
        return [record_from_row(row) for row in self._query(sql, (*params, limit))]

    def _query(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._connection().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise InternalError(f"children's index {self._path}: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        """The connection to the file in place now (called holding the lock)."""
        try:
            found = os.stat(self._path)
        except OSError as exc:
            self._fault = (
                f"children's index {self._path} is gone ({exc.strerror}); "
                "put an index back (irthub node import, or irthub node rollback)"
            )
            return self._db
        if (found.st_dev, found.st_ino) == self._file:
            self._fault = None
            return self._db
        try:
            db, file = self._open()
        except InternalError as exc:
            self._fault = f"{exc.reason}; still reading the index it replaced"
            return self._db
        self._db.close()
        self._db, self._file, self._fault = db, file, None
        self._frequencies = self._status = None
        return db

    def _open(self) -> tuple[sqlite3.Connection, _FileId]:
        path = self._path
        # Stat first: should the file be replaced between the two, the next
        # call sees a different file and opens again, never the reverse.
        try:
            found = path.stat()
        except FileNotFoundError as exc:
            raise InternalError(
                f"children's index {path} does not exist: import the exports into it "
                "(irthub node import) or correct the path"
            ) from exc
        except OSError as exc:
            raise InternalError(f"children's index {path} cannot be read: {exc.strerror}") from exc
        db = None
        try:
            db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
            db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
            version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.Error as exc:
            if db is not None:
                db.close()
            raise InternalError(
                f"children's index {path}: {exc}; is it an index written by irthub node import?"
            ) from exc
        if version is None or version[0] not in READABLE_VERSIONS:
            db.close()
            raise InternalError(
                f"children's index {path} has schema version {version and version[0]}, "
                f"this node reads {SCHEMA_VERSION}: import the exports into a new file"
            )
        return db, (found.st_dev, found.st_ino)
