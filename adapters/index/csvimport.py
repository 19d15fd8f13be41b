"""Reading a borough's children and involvements CSV exports, reporting every bad row.

The two files have exactly these header rows (UTF-8, an optional byte order
mark, standard CSV quoting):

    children.csv      local_id,given_names,family_name,other_names,birth_date,
                      sex,postcode,address,nhs_number,upn
    involvements.csv  local_id,agency,service,category,status,start_date,
                      end_date,lead_professional,caf,practitioner_name,
                      practitioner_role,practitioner_phone,practitioner_email

Several given or other names in one cell are separated by ``;``
(``Mary Jane;Ann``); see ``adapters.index.fields`` for each field's rules.

``read_exports`` reads both files whole and either returns every record or
raises ``SchemaInvalid`` listing the bad rows as ``file:line: reason``, the
first ``MAX_REPORTED_BAD_ROWS`` of them and a count of the rest. Line numbers
are those of the file, the header being line 1.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from adapters.index.model import (
    ChildRecord,
    Involvement,
    child_from_fields,
    involvement_from_fields,
)
from hub.errors import SchemaInvalid

__all__ = [
    "CHILDREN_COLUMNS",
    "INVOLVEMENT_COLUMNS",
    "MAX_REPORTED_BAD_ROWS",
    "MAX_ROWS",
    "BadRow",
    "Exports",
    "read_exports",
]

CHILDREN_COLUMNS: Final = (
    "local_id",
    "given_names",
    "family_name",
    "other_names",
    "birth_date",
    "sex",
    "postcode",
    "address",
    "nhs_number",
    "upn",
)
INVOLVEMENT_COLUMNS: Final = (
    "local_id",
    "agency",
    "service",
    "category",
    "status",
    "start_date",
    "end_date",
    "lead_professional",
    "caf",
    "practitioner_name",
    "practitioner_role",
    "practitioner_phone",
    "practitioner_email",
)
MAX_REPORTED_BAD_ROWS: Final = 100
"""Bad rows listed in full; beyond this only a count, so a wholly wrong file
(the wrong export, a shifted column) gives a readable report."""
MAX_ROWS: Final = 2_000_000
"""Rows accepted per file: about twenty times the children of London's largest
borough, so a runaway export is refused before it exhausts memory."""


@dataclass(frozen=True, slots=True)
class BadRow:
    """One rejected row: the file as named by the caller, its line, and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Exports:
    """Every record of a valid pair of exports, in file order."""

    children: tuple[ChildRecord, ...]
    involvements: tuple[Involvement, ...]


def read_exports(children_csv: Path, involvements_csv: Path) -> Exports:
    """Read and validate both files; raise ``SchemaInvalid`` listing all bad rows.

    Checks: the exact header; the field count of each row; each field's
    value; that no ``local_id`` repeats in ``children.csv``; and that each
    involvement names a child in ``children.csv``. Unreadable files, text that
    is not UTF-8 and broken CSV quoting are reported as a bad row at the line
    where reading stopped.
    """
    bad: list[BadRow] = []
    children: list[ChildRecord] = []
    first_line: dict[str, int] = {}
    children_file = _CsvFile(children_csv, CHILDREN_COLUMNS, bad)
    for line, fields in children_file.rows():
        raw_id = fields["local_id"]
        if raw_id in first_line:
            bad.append(
                BadRow(
                    str(children_csv),
                    line,
                    f"local_id {raw_id!r} already appears on line {first_line[raw_id]}",
                )
            )
            continue
        first_line[raw_id] = line
        try:
            children.append(child_from_fields(fields))
        except SchemaInvalid as exc:
            bad.append(BadRow(str(children_csv), line, exc.reason))
    involvements: list[Involvement] = []
    for line, fields in _CsvFile(involvements_csv, INVOLVEMENT_COLUMNS, bad).rows():
        problems: list[str] = []
        # An unreadable children.csv would make every involvement look orphaned.
        if children_file.complete and fields["local_id"] not in first_line:
            problems.append(f"local_id {fields['local_id']!r} is not in {children_csv.name}")
        try:
            involvements.append(involvement_from_fields(fields))
        except SchemaInvalid as exc:
            problems.append(exc.reason)
        if problems:
            bad.append(BadRow(str(involvements_csv), line, "; ".join(problems)))
    if bad:
        raise SchemaInvalid(_report(bad))
    return Exports(tuple(children), tuple(involvements))


class _CsvFile:
    """One export being read; ``complete`` turns false when reading had to stop early."""

    def __init__(self, path: Path, columns: tuple[str, ...], bad: list[BadRow]) -> None:
        self._path = path
        self._columns = columns
        self._bad = bad
        self.complete = True

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Yield (line, fields) for each non-blank row whose field count is right."""
        end = 0  # the last physical line of the last record read
        try:
            with self._path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle, strict=True)
                header = next(reader, None)
                if header != list(self._columns):
                    self._stop(1, _header_problem(header, self._columns))
                    return
                count = 0
                end = reader.line_num
                for row in reader:
                    line, end = end + 1, reader.line_num
                    if not row or row == [""]:
                        continue
                    count += 1
                    if count > MAX_ROWS:
                        self._stop(line, f"more than {MAX_ROWS} rows")
                        return
                    if len(row) != len(self._columns):
                        self._add(line, f"expected {len(self._columns)} fields, found {len(row)}")
                        continue
                    yield line, dict(zip(self._columns, row, strict=True))
        # A failure while reading is reported at the first line of the record being read.
        except OSError as exc:
            self._stop(end + 1, f"cannot read the file: {exc.strerror or exc}")
        except UnicodeDecodeError:
            self._stop(end + 1, "reading stopped: the file is not UTF-8 text")
        except csv.Error as exc:
            self._stop(end + 1, f"reading stopped: broken CSV: {exc}")

    def _add(self, line: int, reason: str) -> None:
        self._bad.append(BadRow(str(self._path), line, reason))

    def _stop(self, line: int, reason: str) -> None:
        self.complete = False
        self._add(line, reason)


def _header_problem(header: list[str] | None, columns: tuple[str, ...]) -> str:
    expected = ",".join(columns)
    if header is None:
        return f"the file is empty; the header must be {expected}"
    missing = [c for c in columns if c not in header]
    unexpected = [c for c in header if c not in columns]
    details = []
    if missing:
        details.append(f"missing column {', '.join(missing)}")
    if unexpected:
        details.append(f"unexpected column {', '.join(repr(c) for c in unexpected)}")
    if not details:
        details.append("the columns are out of order")
    return f"{'; '.join(details)}; the header must be exactly {expected}"


def _report(bad: list[BadRow]) -> str:
    shown = bad[:MAX_REPORTED_BAD_ROWS]
    lines = [f"{len(bad)} bad row{'s' if len(bad) != 1 else ''}; nothing was imported"]
    lines.extend(str(row) for row in shown)
    if len(bad) > len(shown):
        lines.append(f"... and {len(bad) - len(shown)} more bad rows")
    return "\n".join(lines)
