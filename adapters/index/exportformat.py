"""How a borough's exports are laid out: which column holds each field, text encoding, dates.

Without a mapping file each field is read from the column of its own name
(``CHILDREN_COLUMNS``, ``INVOLVEMENT_COLUMNS``), in any order. A mapping file
(TOML) names the borough's own columns, and only those that differ:

    [children]
    local_id = "Person ID"
    given_names = ["Forename", "Middle Names"]   # several columns, joined
    family_name = "Surname"
    birth_date = "DOB"
    nhs_number = "NHS No"

    [involvements]
    local_id = "Person ID"
    service = "Team"

Column names are matched ignoring case and surrounding spaces. The columns of
``REQUIRED_CHILDREN`` and ``REQUIRED_INVOLVEMENTS`` must be present (their
cells may be empty where the data really is partial); any other field whose
column is absent is empty on every row, with one warning. Columns no field
reads are ignored, and listed in a warning so that a misspelt mapping shows.
``given_names``, ``other_names`` (joined by ``;``) and ``address`` (joined by
``, ``) may each be read from several columns.

Every mistake raises ``SchemaInvalid`` naming the file, table and key, or
the option, and what would be right.
"""

from __future__ import annotations

import codecs
import difflib
import operator
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from adapters.index.fields import ISO_DATE, NAME_SEPARATOR, DateFormat
from hub.errors import SchemaInvalid

__all__ = [
    "CHILDREN_COLUMNS",
    "INVOLVEMENT_COLUMNS",
    "REQUIRED_CHILDREN",
    "REQUIRED_INVOLVEMENTS",
    "ColumnLayout",
    "ExportFormat",
    "Table",
    "load_export_format",
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
REQUIRED_CHILDREN: Final = frozenset({"local_id", "given_names", "family_name", "birth_date"})
"""Without these columns an export cannot be the children's index; their cells
may still be empty for a partial record (``adapters.index.model.read_child``)."""
REQUIRED_INVOLVEMENTS: Final = frozenset({"local_id", "agency", "service", "category", "status"})

Table = Literal["children", "involvements"]
_FIELDS: Final[dict[Table, tuple[str, ...]]] = {
    "children": CHILDREN_COLUMNS,
    "involvements": INVOLVEMENT_COLUMNS,
}
_REQUIRED: Final[dict[Table, frozenset[str]]] = {
    "children": REQUIRED_CHILDREN,
    "involvements": REQUIRED_INVOLVEMENTS,
}
_JOINED: Final = {"given_names": NAME_SEPARATOR, "other_names": NAME_SEPARATOR, "address": ", "}
"""Fields that may be read from several columns, and what joins their cells."""


@dataclass(frozen=True, slots=True)
class ColumnLayout:
    """Where each field of one table sits in one file's rows; built by ``ExportFormat.layout``."""

    width: int
    """Fields per row, as in the header."""
    positions: Mapping[str, tuple[int, ...]]
    """Field → the positions of its columns (empty: the file has none)."""
    warnings: tuple[str, ...]
    """Columns absent or ignored, one sentence each."""
    _single: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _cells: Callable[[Sequence[str]], tuple[str, ...]] = field(
        init=False, repr=False, compare=False
    )
    _several: tuple[tuple[str, tuple[int, ...]], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Prepared once: ``fields`` runs for every row of a large export.
        single = [(n, p[0]) for n, p in self.positions.items() if len(p) == 1]
        several = tuple((n, p) for n, p in self.positions.items() if len(p) != 1)
        getter = operator.itemgetter(*(place for _, place in single), 0, 0)
        object.__setattr__(self, "_single", tuple(name for name, _ in single))
        object.__setattr__(self, "_cells", getter)
        object.__setattr__(self, "_several", several)

    def fields(self, row: Sequence[str]) -> dict[str, str]:
        """The text of every field in ``row`` (which has ``width`` cells)."""
        # The getter takes two cells more, so that it always returns a tuple.
        values = dict(zip(self._single, self._cells(row), strict=False))
        for name, places in self._several:
            cells = (row[place].strip() for place in places)
            values[name] = _JOINED.get(name, "").join(cell for cell in cells if cell)
        return values


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """How to read one borough's exports; the default is UTF-8, ISO dates, own column names."""

    children: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Field → the borough's column(s) for ``children.csv``; unnamed fields read their own."""
    involvements: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The same for ``involvements.csv``."""
    encoding: str = "utf-8-sig"
    """A Python codec name; UTF-8 always allows a byte order mark."""
    dates: DateFormat = ISO_DATE
    source: str = ""
    """The mapping file, named in header errors; empty when there is none."""

    def layout(self, table: Table, header: Sequence[str]) -> ColumnLayout:
        """Find each field of ``table`` in ``header``; raise ``SchemaInvalid`` if one is missing."""
        mapping = self.children if table == "children" else self.involvements
        found: dict[str, int] = {}
        for place, name in enumerate(header):
            found.setdefault(_key(name), place)
        positions: dict[str, tuple[int, ...]] = {}
        missing: list[str] = []
        absent: list[str] = []
        for name in _FIELDS[table]:
            columns = mapping.get(name, (name,))
            places = tuple(found[_key(c)] for c in columns if _key(c) in found)
            if len(places) < len(columns) and (name in mapping or name in _REQUIRED[table]):
                lost = [c for c in columns if _key(c) not in found]
                missing.append(f"{', '.join(repr(c) for c in lost)} ({self._why(name, mapping)})")
            elif not places:
                absent.append(name)
            positions[name] = places
        if missing:
            raise SchemaInvalid(
                f"no column {'; no column '.join(missing)}; the header has "
                f"{', '.join(repr(h) for h in header) or 'nothing'}"
            )
        read = {place for places in positions.values() for place in places}
        ignored = [repr(h) for place, h in enumerate(header) if place not in read and h.strip()]
        warnings = [f"no column for {name}: empty for every row" for name in absent]
        if ignored:
            warnings.append(f"columns not imported: {', '.join(ignored)}")
        return ColumnLayout(len(header), positions, tuple(warnings))

    def _why(self, name: str, mapping: Mapping[str, tuple[str, ...]]) -> str:
        if name in mapping:
            return f"for {name} in {self.source}"
        return f"for {name}: name its column in {self.source or 'a mapping file (--mapping)'}"


def load_export_format(
    mapping: Path | None = None, *, encoding: str | None = None, date_format: str | None = None
) -> ExportFormat:
    """The format of ``mapping`` (a TOML file, see the module docstring) and the options.

    Raises ``SchemaInvalid`` naming the file, table and key at fault, an
    unknown encoding, or a date format not of ``DateFormat``'s shape.
    """
    tables: dict[Table, dict[str, tuple[str, ...]]] = {"children": {}, "involvements": {}}
    if mapping is not None:
        tables = _read_mapping(mapping)
    return ExportFormat(
        children=tables["children"],
        involvements=tables["involvements"],
        encoding=_encoding(encoding or "utf-8"),
        dates=ISO_DATE if date_format is None else DateFormat(date_format),
        source="" if mapping is None else mapping.name,
    )


def _read_mapping(path: Path) -> dict[Table, dict[str, tuple[str, ...]]]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise SchemaInvalid(f"{path}: cannot read the mapping file: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SchemaInvalid(f"{path}: the mapping file is not valid TOML: {exc}") from exc
    for name in data:
        if name not in _FIELDS:
            raise SchemaInvalid(
                f"{path}: unknown table [{name}]{_suggest(name, list(_FIELDS))}; "
                "a mapping file has [children] and [involvements]"
            )
    return {table: _read_table(path, table, data.get(table, {})) for table in _FIELDS}


def _read_table(path: Path, table: Table, data: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(data, dict):
        raise SchemaInvalid(f'{path}: [{table}] must be a table of field = "column"')
    columns: dict[str, tuple[str, ...]] = {}
    for name, value in data.items():
        where = f"{path}: [{table}] {name}"
        if name not in _FIELDS[table]:
            raise SchemaInvalid(
                f"{where}: not a field of {table}.csv{_suggest(name, _FIELDS[table])}; "
                f"the fields are {', '.join(_FIELDS[table])}"
            )
        names = (value,) if isinstance(value, str) else value
        if (
            not isinstance(names, list | tuple)
            or not names
            or not all(isinstance(n, str) and n.strip() for n in names)
        ):
            raise SchemaInvalid(f"{where}: must be a column name, or a list of column names")
        if len(names) > 1 and name not in _JOINED:
            raise SchemaInvalid(
                f"{where}: only {', '.join(_JOINED)} may be read from several columns"
            )
        columns[name] = tuple(names)
    return columns


def _encoding(name: str) -> str:
    try:
        codec = codecs.lookup(name).name
    except LookupError as exc:
        raise SchemaInvalid(
            f"encoding {name!r} is unknown; give a codec such as utf-8 or windows-1252"
        ) from exc
    # A byte order mark is common in exports from Windows tools; utf-8-sig
    # removes it and reads plain UTF-8 alike.
    return "utf-8-sig" if codec == "utf-8" else codec


def _key(column: str) -> str:
    return " ".join(column.split()).casefold()


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
