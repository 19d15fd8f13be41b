"""The embedded default children's index: one SQLite file with precomputed blocks.

Tables:

- ``child``: one row per record, indexed on local id, birth date, NHS number
  and UPN;
- ``code``: each distinct phonetic name code, numbered;
- ``name_code``: one row per distinct phonetic code of a record's name parts,
  carrying the record's birth year, month-day and district, indexed on
  (code, year), (code, month-day) and (code, district). These three indexes
  are the name-code blocks of ``adapters.index.blocking`` stored
  column-wise: a query seeks only the entries of its own codes and years;
- ``name_frequency``: how many children have each folded given-name and
  family-name part (``adapters.index.frequency``), read into memory once;
- ``involvement``: the involvements of each child, in file order.

``candidates`` counts, per record, the blocks it shares with the query (one
per matching index entry) exactly as ``BlockingKeys.block_ids`` defines them,
and reads the records sharing most.

``import_csv`` replaces the whole index with a borough's two CSV exports in
one transaction: either every row is valid and the index holds exactly the
new exports, or ``SchemaInvalid`` lists the bad rows and nothing changes.
Indexes are dropped and rebuilt inside that transaction, which makes a bulk
load several times faster than inserting into indexed tables.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from adapters.index.blocking import BlockingKeys
from adapters.index.csvimport import read_exports
from adapters.index.fields import LocalId
from adapters.index.frequency import NameFrequencies, count_names
from adapters.index.model import ChildRecord, Involvement
from adapters.index.sqlite_schema import (
    CHILD_COLUMNS,
    INDEXES,
    INSERT_CHILD,
    INSERT_CODE,
    INSERT_INVOLVEMENT,
    INVOLVEMENT_COLUMNS,
    SCHEMA,
    SCHEMA_VERSION,
    child_row,
    code_rows,
    involvement_from_row,
    involvement_values,
    marks,
    record_from_row,
    select_code_ids,
)
from hub.errors import InternalError

__all__ = ["ImportCounts", "SqliteChildIndex"]

_CACHE_KIB: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """How many rows an import wrote."""

    children: int
    involvements: int
    name_codes: int


class SqliteChildIndex:
    """A ``ChildIndex`` in one SQLite file; safe to share between threads.

    Opening creates the file and its tables if missing. Raises ``InternalError``
    when SQLite fails (a file that is not a database, a full disk) or the file
    was written by another schema version.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._frequencies: NameFrequencies | None = None
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = WAL")
            # WAL with NORMAL sync never corrupts the file; a crash may lose the
            # last import, which the borough simply runs again.
            self._db.execute("PRAGMA synchronous = NORMAL")
            # Index builds after a bulk load sort in the page cache: 64 MiB
            # keeps a 100,000-child import off temporary files.
            self._db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
            self._db.execute("PRAGMA temp_store = MEMORY")
            self._db.executescript(SCHEMA)
            self._create_indexes()
            found = self._db.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()
        except sqlite3.Error as exc:
            raise InternalError(f"children's index {path}: {exc}") from exc
        if found is not None and found[0] != SCHEMA_VERSION:
            self._db.close()
            raise InternalError(
                f"children's index {path} has schema version {found[0]}, "
                f"this node reads {SCHEMA_VERSION}: import the exports into a new file"
            )

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteChildIndex:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def import_csv(self, children_csv: Path, involvements_csv: Path) -> ImportCounts:
        """Replace the index with two CSV exports (see ``adapters.index.csvimport``).

        Raises ``SchemaInvalid`` listing every bad row (``file:line: reason``)
        and changes nothing; raises ``InternalError`` if SQLite fails, after
        rolling back.
        """
        exports = read_exports(children_csv, involvements_csv)
        children = exports.children
        row_ids = {child.local_id: n for n, child in enumerate(children, start=1)}
        frequencies = count_names(children)
        code_ids: dict[str, int] = {}
        codes = [code_rows(n, child, code_ids) for n, child in enumerate(children, start=1)]
        with self._lock, self._transaction():
            for name in INDEXES:
                self._db.execute(f"DROP INDEX IF EXISTS {name}")
            for table in ("name_code", "code", "name_frequency", "involvement", "child"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            self._db.executemany(
                "INSERT INTO name_frequency (kind, part, count) VALUES (?, ?, ?)",
                [("given", part, n) for part, n in frequencies.given.items()]
                + [("family", part, n) for part, n in frequencies.family.items()],
            )
            self._db.executemany(
                "INSERT INTO code (id, code) VALUES (?, ?)",
                ((code_id, code) for code, code_id in code_ids.items()),
            )
            self._db.executemany(
                INSERT_CHILD, (child_row(n, child) for n, child in enumerate(children, start=1))
            )
            self._db.executemany(INSERT_CODE, (row for rows in codes for row in rows))
            self._db.executemany(
                INSERT_INVOLVEMENT,
                (
                    (row_ids[inv.local_id], seq, *involvement_values(inv))
                    for seq, inv in enumerate(exports.involvements)
                ),
            )
            self._create_indexes()
            self._db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (("schema_version", SCHEMA_VERSION), ("children", str(len(children)))),
            )
            self._frequencies = None
        return ImportCounts(len(children), len(exports.involvements), sum(map(len, codes)))

    def candidates(self, keys: BlockingKeys, *, limit: int) -> Sequence[ChildRecord]:
        """Records holding the keys' identifiers, then up to ``limit`` sharing most blocks."""
        found = {record.local_id: record for record in self._identified(keys)}
        for record in self._blocked(keys, limit):
            found.setdefault(record.local_id, record)
        return list(found.values())

    def name_frequencies(self) -> NameFrequencies:
        """Counts of the folded name parts, read once and kept until the next import."""
        frequencies = self._frequencies
        if frequencies is None:
            rows = self._query("SELECT kind, part, count FROM name_frequency", ())
            counted = self._query("SELECT value FROM meta WHERE key = 'children'", ())
            frequencies = NameFrequencies(
                children=int(counted[0][0]) if counted else 0,
                given={part: n for kind, part, n in rows if kind == "given"},
                family={part: n for kind, part, n in rows if kind == "family"},
            )
            self._frequencies = frequencies
        return frequencies

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

    def involvements(self, local_id: LocalId) -> Sequence[Involvement]:
        """The involvements recorded for one child, in file order."""
        sql = (
            f"SELECT {INVOLVEMENT_COLUMNS} FROM involvement "  # noqa: S608 - fixed columns
            "WHERE child = (SELECT id FROM child WHERE local_id = ?) ORDER BY seq"
        )
        return [involvement_from_row(local_id, row) for row in self._query(sql, (local_id,))]

    def _query(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise InternalError(f"children's index {self._path}: {exc}") from exc

    def _create_indexes(self) -> None:
        for sql in INDEXES.values():
            self._db.execute(sql.replace("INDEX ", "INDEX IF NOT EXISTS ", 1))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise InternalError(f"children's index {self._path}: {exc}") from exc
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise InternalError(f"children's index {self._path}: {exc}") from exc
            raise
