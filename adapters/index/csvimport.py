"""Reading a borough's children and involvements CSV exports, reporting every bad row.

By default the two files are UTF-8 (an optional byte order mark), with ISO
dates and a header naming these columns, in any order:

    children.csv      local_id,given_names,family_name,other_names,birth_date,
                      sex,postcode,address,nhs_number,upn
    involvements.csv  local_id,agency,service,category,status,start_date,
                      end_date,lead_professional,caf,practitioner_name,
                      practitioner_role,practitioner_phone,practitioner_email

An ``ExportFormat`` (``adapters.index.exportformat``) reads other column
names, encodings and date formats. Several given or other names in one cell
are separated by ``;`` (``Mary Jane;Ann``); see ``adapters.index.fields``
for each field's rules, and ``adapters.index.model.read_child`` for the
partial records accepted with a warning.

``read_exports`` reads both files whole and either returns every record,
with the warnings, or raises ``SchemaInvalid`` listing the bad rows as
``file:line: reason``, the first ``MAX_REPORTED_BAD_ROWS`` of them and a
count of the rest. Line numbers are those of the file, the header being
line 1.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

from adapters.index.exportformat import (
    CHILDREN_COLUMNS,
    INVOLVEMENT_COLUMNS,
    ExportFormat,
    Table,
)
from adapters.index.model import (
    ChildRecord,
    Involvement,
    Partial,
    involvement_from_fields,
    read_child,
)
from hub.errors import SchemaInvalid

__all__ = [
    "CHILDREN_COLUMNS",
    "INVOLVEMENT_COLUMNS",
    "MAX_REPORTED_BAD_ROWS",
    "MAX_ROWS",
    "BadRow",
    "Exports",
    "Progress",
    "RowWarning",
    "read_exports",
]

MAX_REPORTED_BAD_ROWS: Final = 100
"""Bad rows (and warnings) listed in full; beyond this only a count, so a wholly
wrong file (the wrong export, a shifted column) gives a readable report."""
MAX_ROWS: Final = 2_000_000
"""Rows accepted per file: about twenty times the children of London's largest
borough, so a runaway export is refused before it exhausts memory."""
_PROGRESS_ROWS: Final = 4096
"""Rows read between two progress reports."""

Progress = Callable[[int], None]
"""Told how many more bytes of the exports have been read."""


@dataclass(frozen=True, slots=True)
class BadRow:
    """One rejected row: the file as named by the caller, its line, and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class RowWarning:
    """One row imported as it is, though partial, or a header note (line 1)."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: warning: {self.reason}"


@dataclass(frozen=True, slots=True)
class Exports:
    """Every record of a valid pair of exports, in file order, and what was partial."""

    children: tuple[ChildRecord, ...]
    involvements: tuple[Involvement, ...]
    warnings: tuple[RowWarning, ...] = ()
    partial: Counter[Partial] = field(default_factory=Counter)
    """Records lacking each kind of data (a record may lack several)."""


def read_exports(
    children_csv: Path,
    involvements_csv: Path,
    *,
    export_format: ExportFormat | None = None,
    today: date | None = None,
    progress: Progress | None = None,
) -> Exports:
    """Read and validate both files; raise ``SchemaInvalid`` listing all bad rows.

    Checks: the header (every required column present); the field count of
    each row; each field's value (a birth date after ``today`` is refused);
    that no ``local_id`` repeats in ``children.csv``; and that each
    involvement names a child in ``children.csv``. Unreadable files, text
    that is not in the format's encoding and broken CSV quoting are reported
    as a bad row at the line where reading stopped.
    """
    shape = export_format or ExportFormat()
    bad: list[BadRow] = []
    warnings: list[RowWarning] = []
    partial: Counter[Partial] = Counter()
    children: list[ChildRecord] = []
    first_line: dict[str, int] = {}
    children_file = _CsvFile(children_csv, "children", shape, bad, warnings, progress)
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
            read = read_child(fields, dates=shape.dates, today=today)
        except SchemaInvalid as exc:
            bad.append(BadRow(str(children_csv), line, exc.reason))
            continue
        children.append(read.record)
        partial.update(read.partial)
        if read.warnings:
            warnings.append(RowWarning(str(children_csv), line, "; ".join(read.warnings)))
    involvements: list[Involvement] = []
    involvements_file = _CsvFile(involvements_csv, "involvements", shape, bad, warnings, progress)
    for line, fields in involvements_file.rows():
        problems: list[str] = []
        # An unreadable children.csv would make every involvement look orphaned.
        if children_file.complete and fields["local_id"] not in first_line:
            problems.append(f"local_id {fields['local_id']!r} is not in {children_csv.name}")
        try:
            involvements.append(involvement_from_fields(fields, dates=shape.dates))
        except SchemaInvalid as exc:
            problems.append(exc.reason)
        if problems:
            bad.append(BadRow(str(involvements_csv), line, "; ".join(problems)))
    if bad:
        raise SchemaInvalid(_report(bad))
    return Exports(tuple(children), tuple(involvements), tuple(warnings), partial)


class _CsvFile:
    """One export being read; ``complete`` turns false when reading had to stop early."""

    def __init__(
        self,
        path: Path,
        table: Table,
        shape: ExportFormat,
        bad: list[BadRow],
        warnings: list[RowWarning],
        progress: Progress | None,
    ) -> None:
        self._path = path
        self._table = table
        self._shape = shape
        self._bad = bad
        self._warnings = warnings
        self._progress = progress
        self.complete = True

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Yield (line, fields) for each non-blank row whose field count is right."""
        end = 0  # the last physical line of the last record read
        try:
            with (
                self._path.open("rb") as raw,
                io.TextIOWrapper(raw, encoding=self._shape.encoding, newline="") as handle,
            ):
                reader = csv.reader(handle, strict=True)
                header = next(reader, None)
                if header is None:
                    self._stop(1, "the file is empty; it needs a header row")
                    return
                try:
                    layout = self._shape.layout(self._table, header)
                except SchemaInvalid as exc:
                    self._stop(1, exc.reason)
                    return
                self._warnings.extend(RowWarning(str(self._path), 1, w) for w in layout.warnings)
                count = 0
                reported = 0
                end = reader.line_num
                for row in reader:
                    line, end = end + 1, reader.line_num
                    if not row or row == [""]:
                        continue
                    count += 1
                    if count > MAX_ROWS:
                        self._stop(line, f"more than {MAX_ROWS} rows")
                        return
                    if self._progress is not None and count % _PROGRESS_ROWS == 0:
                        position = raw.tell()
                        self._progress(position - reported)
                        reported = position
                    if len(row) != layout.width:
                        self._add(line, f"expected {layout.width} fields, found {len(row)}")
                        continue
                    yield line, layout.fields(row)
                if self._progress is not None:
                    self._progress(raw.tell() - reported)
        # A failure while reading is reported at the first line of the record being read.
        except OSError as exc:
            self._stop(end + 1, f"cannot read the file: {exc.strerror or exc}")
        except UnicodeDecodeError:
            self._stop(
                end + 1,
                f"reading stopped: the file is not {_encoding_name(self._shape.encoding)} text; "
                "give its encoding with --encoding (e.g. windows-1252)",
            )
        except csv.Error as exc:
            self._stop(end + 1, f"reading stopped: broken CSV: {exc}")

    def _add(self, line: int, reason: str) -> None:
        self._bad.append(BadRow(str(self._path), line, reason))

    def _stop(self, line: int, reason: str) -> None:
        self.complete = False
        self._add(line, reason)


def _encoding_name(codec: str) -> str:
    return "UTF-8" if codec == "utf-8-sig" else codec


def _report(bad: list[BadRow]) -> str:
    shown = bad[:MAX_REPORTED_BAD_ROWS]
    lines = [f"{len(bad)} bad row{'s' if len(bad) != 1 else ''}; nothing was imported"]
    lines.extend(str(row) for row in shown)
    if len(bad) > len(shown):
        lines.append(f"... and {len(bad) - len(shown)} more bad rows")
    return "\n".join(lines)
