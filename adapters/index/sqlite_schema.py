"""The SQLite children's index's tables, statements, and record <-> row conversions.

See ``adapters.index.sqlite`` for what the tables are for. Statements are
assembled from fixed column lists and runs of ``?`` placeholders only; every
value travels as a bound parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Final, cast

from adapters.index.blocking import month_day, name_codes
from adapters.index.fields import NAME_SEPARATOR, LocalId, Sex
from adapters.index.model import ChildRecord, Involvement, InvolvementStatus
from adapters.index.normalise import postcode_district

__all__ = [
    "CHILD_COLUMNS",
    "INDEXES",
    "INSERT_CHILD",
    "INSERT_CODE",
    "INSERT_INVOLVEMENT",
    "INVOLVEMENT_COLUMNS",
    "READABLE_VERSIONS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "child_row",
    "code_rows",
    "involvement_from_row",
    "involvement_values",
    "marks",
    "record_from_row",
    "select_code_ids",
]

SCHEMA_VERSION: Final = "2"
"""Version 2 allows partial records: no given name, family name or birth date."""
READABLE_VERSIONS: Final = frozenset({"1", "2"})
"""Version 1 files hold only complete records, which version 2 reads alike."""
SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS child (
    id INTEGER PRIMARY KEY,
    local_id TEXT NOT NULL,
    given_names TEXT NOT NULL,
    family_name TEXT,
    other_names TEXT NOT NULL,
    birth_date TEXT,
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
    birth_year INTEGER,
    month_day INTEGER,
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
INDEXES: Final = {
    "child_local_id": "CREATE UNIQUE INDEX child_local_id ON child (local_id)",
    "child_birth_date": "CREATE INDEX child_birth_date ON child (birth_date)",
    "child_nhs": "CREATE INDEX child_nhs ON child (nhs_number) WHERE nhs_number IS NOT NULL",
    "child_upn": "CREATE INDEX child_upn ON child (upn) WHERE upn IS NOT NULL",
    "code_year": "CREATE INDEX code_year ON name_code (code, birth_year, child)",
    "code_month_day": "CREATE INDEX code_month_day ON name_code (code, month_day, child)",
    "code_district": "CREATE INDEX code_district ON name_code (code, district, child)",
    "involvement_child": "CREATE INDEX involvement_child ON involvement (child, seq)",
}
CHILD_COLUMNS: Final = (
    "local_id, given_names, family_name, other_names, birth_date, sex, postcode, address, "
    "nhs_number, upn"
)
INVOLVEMENT_COLUMNS: Final = (
    "agency, service, category, status, start_date, end_date, lead_professional, caf, "
    "practitioner_name, practitioner_role, practitioner_phone, practitioner_email"
)
INSERT_CHILD: Final = (
    f"INSERT INTO child (id, {CHILD_COLUMNS}) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_CODE: Final = (
    "INSERT INTO name_code (code, child, birth_year, month_day, district) VALUES (?, ?, ?, ?, ?)"
)
INSERT_INVOLVEMENT: Final = (
    f"INSERT INTO involvement (child, seq, {INVOLVEMENT_COLUMNS}) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def marks(values: Sequence[object]) -> str:
    """``?,?,…`` for each value."""
    return ",".join("?" * len(values))


def select_code_ids(count: int) -> str:
    """The statement mapping ``count`` code strings to their ids."""
    return f"SELECT id FROM code WHERE code IN ({','.join('?' * count)})"  # noqa: S608


def code_rows(
    row_id: int, child: ChildRecord, code_ids: dict[str, int]
) -> list[tuple[object, ...]]:
    """``name_code`` rows of one child, numbering codes not seen before in ``code_ids``.

    A child without a birth date has rows with no year and month-day: the
    undated blocks of ``adapters.index.blocking``.
    """
    born = child.birth_date
    year, day = (None, None) if born is None else (born.year, int(month_day(born)))
    district = None if child.postcode is None else postcode_district(child.postcode)
    family = () if child.family_name is None else (child.family_name,)
    names = (*child.given_names, *family, *child.other_names)
    rows: list[tuple[object, ...]] = []
    for code in name_codes(names):
        code_id = code_ids.get(code)
        if code_id is None:
            code_id = code_ids[code] = len(code_ids) + 1
        rows.append((code_id, row_id, year, day, district))
    return rows


def child_row(row_id: int, child: ChildRecord) -> tuple[object, ...]:
    """Values for ``INSERT_CHILD``."""
    return (
        row_id,
        child.local_id,
        NAME_SEPARATOR.join(child.given_names),
        child.family_name,
        NAME_SEPARATOR.join(child.other_names),
        None if child.birth_date is None else child.birth_date.isoformat(),
        child.sex,
        child.postcode,
        child.address,
        child.nhs_number,
        child.upn,
    )


def record_from_row(row: Sequence[Any]) -> ChildRecord:
    """A record from the ``CHILD_COLUMNS`` of a row written by ``child_row``."""
    local_id, given, family, other, born, sex, postcode, address, nhs, upn = row
    return ChildRecord(
        local_id=LocalId(local_id),
        given_names=tuple(given.split(NAME_SEPARATOR)) if given else (),
        family_name=family,
        other_names=tuple(other.split(NAME_SEPARATOR)) if other else (),
        birth_date=None if born is None else date.fromisoformat(born),
        sex=cast(Sex, sex),
        postcode=postcode,
        address=address,
        nhs_number=nhs,
        upn=upn,
    )


def involvement_values(inv: Involvement) -> tuple[object, ...]:
    """Values for the ``INVOLVEMENT_COLUMNS`` of ``INSERT_INVOLVEMENT``."""
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


def involvement_from_row(local_id: LocalId, row: Sequence[Any]) -> Involvement:
    """An involvement from the ``INVOLVEMENT_COLUMNS`` of a row."""
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
