"""The embedded default children's index: one SQLite file with precomputed blocks.

Tables:

- ``child``: one row per record, with its blocking columns (birth year,
  month and day, postcode district) beside its own fields, and indexes on
  birth date, NHS number and UPN;
- ``name_code``: one row per distinct phonetic code of a record's name parts,
  carrying the record's birth year, month-day and district, indexed on
  (code, year), (code, month-day) and (code, district). These three indexes
  are the name-code blocks of ``adapters.matching.blocking`` stored
  column-wise: a query seeks only the entries of its own codes and years;
- ``name_frequency``: how many children have each folded given-name and
  family-name part (``adapters.matching.frequency``), read into memory once;
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
from datetime import date
from pathlib import Path
from typing import Any, Final, cast

from adapters.index.csvimport import read_exports
from adapters.index.fields import NAME_SEPARATOR, LocalId, Sex
from adapters.index.model import ChildRecord, Involvement, InvolvementStatus
from adapters.matching.blocking import BlockingKeys, month_day, name_codes
from adapters.matching.frequency import NameFrequencies, count_names
from adapters.matching.normalise import postcode_district
from hub.errors import InternalError

__all__ = ["ImportCounts", "SqliteChildIndex"]

_SCHEMA_VERSION: Final = "1"
_CACHE_KIB: Final = 64 * 1024
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS child (
    id INTEGER PRIMARY KEY,
    local_id TEXT NOT NULL,
    given_names TEXT NOT NULL,
    family_name TEXT NOT NULL,
    other_names TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL,
    postcode TEXT,
    address TEXT,
    nhs_number TEXT,
    upn TEXT
);
CREATE TABLE IF NOT EXISTS code (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS name_code (
    code INTEGER NOT NULL,
    child INTEGER NOT NULL,
    birth_year INTEGER NOT NULL,
    month_day INTEGER NOT NULL,
    district TEXT
);
CREATE TABLE IF NOT EXISTS name_frequency (
    kind TEXT NOT NULL,
    part TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (kind, part)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS involvement (
    child INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    agency TEXT NOT NULL,
    service TEXT NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    start_date TEXT,
    end_date TEXT,
    lead_professional INTEGER NOT NULL,
    caf INTEGER NOT NULL,
    practitioner_name TEXT,
    practitioner_role TEXT,
    practitioner_phone TEXT,
    practitioner_email TEXT
);
"""
_INDEXES: Final = {
    "child_local_id": "CREATE UNIQUE INDEX child_local_id ON child (local_id)",
    "child_birth_date": "CREATE INDEX child_birth_date ON child (birth_date)",
    "child_nhs": "CREATE INDEX child_nhs ON child (nhs_number) WHERE nhs_number IS NOT NULL",
    "child_upn": "CREATE INDEX child_upn ON child (upn) WHERE upn IS NOT NULL",
    "code_year": "CREATE INDEX code_year ON name_code (code, birth_year, child)",
    "code_month_day": "CREATE INDEX code_month_day ON name_code (code, month_day, child)",
    "code_district": "CREATE INDEX code_district ON name_code (code, district, child)",
    "involvement_child": "CREATE INDEX involvement_child ON involvement (child, seq)",
}
_CHILD_COLUMNS: Final = (
    "local_id, given_names, family_name, other_names, birth_date, sex, postcode, address, "
    "nhs_number, upn"
)
_INVOLVEMENT_COLUMNS: Final = (
    "agency, service, category, status, start_date, end_date, lead_professional, caf, "
    "practitioner_name, practitioner_role, practitioner_phone, practitioner_email"
)
# Statements are assembled from the fixed column lists above and from runs of
# "?" placeholders; every value travels as a bound parameter.
_INSERT_CHILD: Final = (
    f"INSERT INTO child (id, {_CHILD_COLUMNS}) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_CODE: Final = (
    "INSERT INTO name_code (code, child, birth_year, month_day, district) VALUES (?, ?, ?, ?, ?)"
)
_INSERT_INVOLVEMENT: Final = (
    f"INSERT INTO involvement (child, seq, {_INVOLVEMENT_COLUMNS}) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """How many rows an import wrote."""

    children: int
    involvements: int
    name_codes: int


class SqliteChildIndex:
    """A ``ChildIndex`` in one SQLite file; safe to share between threads.

    Opening creates the file and its tables if missing. Raises ``InternalError``
    when SQLite fails (a file that is not a database, a full disk).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._frequencies: NameFrequencies | None = None
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = WAL")
            # Index builds after a bulk load sort in the page cache: 64 MiB
            # keeps a 100,000-child import off temporary files.
            self._db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
            self._db.execute("PRAGMA temp_store = MEMORY")
            self._db.executescript(_SCHEMA)
            self._create_indexes()
        except sqlite3.Error as exc:
            raise InternalError(f"children's index {path}: {exc}") from exc

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
        codes = [_code_rows(n, child, code_ids) for n, child in enumerate(children, start=1)]
        with self._lock, self._transaction():
            for name in _INDEXES:
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
                _INSERT_CHILD, (_child_row(n, child) for n, child in enumerate(children, start=1))
            )
            self._db.executemany(_INSERT_CODE, (row for rows in codes for row in rows))
            self._db.executemany(
                _INSERT_INVOLVEMENT,
                (
                    (row_ids[inv.local_id], seq, *_involvement_values(inv))
                    for seq, inv in enumerate(exports.involvements)
                ),
            )
            self._create_indexes()
            self._db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (("schema_version", _SCHEMA_VERSION), ("children", str(len(children)))),
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
                    f"SELECT id, {_CHILD_COLUMNS} FROM child "  # noqa: S608
                    f"WHERE {column} IN ({_marks(sorted(values))})"
                )
                rows.extend(self._query(sql, sorted(values)))
        unique = {row[0]: row[1:] for row in rows}
        return [_record(row) for _, row in sorted(unique.items())]

    def _blocked(self, keys: BlockingKeys, limit: int) -> list[ChildRecord]:
        if limit < 1:
            return []
        parts: list[str] = []
        params: list[object] = []
        codes = sorted(keys.name_codes)
        code_ids = []
        if codes:
            code_ids = [row[0] for row in self._query(_select_code_ids(len(codes)), codes)]
        for column, values in (
            ("birth_year", sorted(keys.birth_years)),
            ("month_day", sorted(int(md) for md in keys.month_days)),
            ("district", sorted(keys.postcode_districts)),
        ):
            if code_ids and values:
                parts.append(
                    f"SELECT child FROM name_code WHERE code IN ({_marks(code_ids)}) "  # noqa: S608
                    f"AND {column} IN ({_marks(values)})"
                )
                params.extend((*code_ids, *values))
        dates = sorted(d.isoformat() for d in keys.birth_dates)
        if dates:
            parts.append(
                f"SELECT id AS child FROM child WHERE birth_date IN ({_marks(dates)})"  # noqa: S608
            )
            params.extend(dates)
        if not parts:
            return []
        sql = (
            f"SELECT {_CHILD_COLUMNS} FROM ("  # noqa: S608 - see _INSERT_CHILD
            f"  SELECT child, COUNT(*) AS shared FROM ({' UNION ALL '.join(parts)})"
            "   GROUP BY child ORDER BY shared DESC, child LIMIT ?"
            ") AS hit JOIN child ON child.id = hit.child ORDER BY hit.shared DESC, child.id"
        )
        return [_record(row) for row in self._query(sql, (*params, limit))]

    def involvements(self, local_id: LocalId) -> Sequence[Involvement]:
        """The involvements recorded for one child, in file order."""
        sql = (
            f"SELECT {_INVOLVEMENT_COLUMNS} FROM involvement "  # noqa: S608 - fixed columns
            "WHERE child = (SELECT id FROM child WHERE local_id = ?) ORDER BY seq"
        )
        return [_involvement(local_id, row) for row in self._query(sql, (local_id,))]

    def _query(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise InternalError(f"children's index {self._path}: {exc}") from exc

    def _create_indexes(self) -> None:
        for sql in _INDEXES.values():
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


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _select_code_ids(count: int) -> str:
    return f"SELECT id FROM code WHERE code IN ({','.join('?' * count)})"  # noqa: S608


def _code_rows(
    row_id: int, child: ChildRecord, code_ids: dict[str, int]
) -> list[tuple[object, ...]]:
    """``name_code`` rows of one child, numbering codes not seen before in ``code_ids``."""
    born = child.birth_date
    year, day = born.year, int(month_day(born))
    district = None if child.postcode is None else postcode_district(child.postcode)
    names = (*child.given_names, child.family_name, *child.other_names)
    rows: list[tuple[object, ...]] = []
    for code in name_codes(names):
        code_id = code_ids.get(code)
        if code_id is None:
            code_id = code_ids[code] = len(code_ids) + 1
        rows.append((code_id, row_id, year, day, district))
    return rows


def _child_row(row_id: int, child: ChildRecord) -> tuple[object, ...]:
    return (
        row_id,
        child.local_id,
        NAME_SEPARATOR.join(child.given_names),
        child.family_name,
        NAME_SEPARATOR.join(child.other_names),
        child.birth_date.isoformat(),
        child.sex,
        child.postcode,
        child.address,
        child.nhs_number,
        child.upn,
    )


def _record(row: Sequence[Any]) -> ChildRecord:
    local_id, given, family, other, born, sex, postcode, address, nhs, upn = row
    return ChildRecord(
        local_id=LocalId(local_id),
        given_names=tuple(given.split(NAME_SEPARATOR)),
        family_name=family,
        other_names=tuple(other.split(NAME_SEPARATOR)) if other else (),
        birth_date=date.fromisoformat(born),
        sex=cast(Sex, sex),
        postcode=postcode,
        address=address,
        nhs_number=nhs,
        upn=upn,
    )


def _involvement_values(inv: Involvement) -> tuple[object, ...]:
    return (
        inv.agency,
        inv.service,
        inv.category,
        inv.status,
        None if inv.start_date is None else inv.start_date.isoformat(),
        None if inv.end_date is None else inv.end_date.isoformat(),
        int(inv.lead_professional),
        int(inv.caf),
        inv.practitioner_name,
        inv.practitioner_role,
        inv.practitioner_phone,
        inv.practitioner_email,
    )


def _involvement(local_id: LocalId, row: Sequence[Any]) -> Involvement:
    agency, service, category, status, start, end, lead, caf, name, role, phone, email = row
    return Involvement(
        local_id=local_id,
        agency=agency,
        service=service,
        category=category,
        status=cast(InvolvementStatus, status),
        start_date=None if start is None else date.fromisoformat(start),
        end_date=None if end is None else date.fromisoformat(end),
        lead_professional=bool(lead),
        caf=bool(caf),
        practitioner_name=name,
        practitioner_role=role,
        practitioner_phone=phone,
        practitioner_email=email,
    )
