"""Importing a borough's CSV exports: every bad row reported by line, and all or nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.index.blocking import BlockingKeys
from adapters.index.csvimport import (
    CHILDREN_COLUMNS,
    INVOLVEMENT_COLUMNS,
    MAX_REPORTED_BAD_ROWS,
    read_exports,
)
from adapters.index.fields import LocalId
from adapters.index.replace import ShrinkGuard, import_exports
from adapters.index.sqlite import SqliteChildIndex
from hub.errors import SchemaInvalid

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

CHILDREN_HEADER = ",".join(CHILDREN_COLUMNS)
INVOLVEMENTS_HEADER = ",".join(INVOLVEMENT_COLUMNS)
AMARA = "C1,Amara;Grace,Okafor,,2015-03-14,F,SE15 4QS,1 Rye Lane,9434765919,"
KOFI = "C2,Kofi,Mensah,Owusu,2012-11-02,M,SW9 8AB,,,"
CAMHS = "C1,health,CAMHS,mental-health,open,2024-01-05,,true,false,Ann Lee,Psychologist,,"
FAMILY = "C2,early-help,Family support,involvement,closed,2023-01-01,2023-05-01,no,yes,,,,"


def _write(directory: Path, children: list[str], involvements: list[str]) -> tuple[Path, Path]:
    children_csv = directory / "children.csv"
    involvements_csv = directory / "involvements.csv"
    children_csv.write_text("\n".join(children) + "\n", encoding="utf-8")
    involvements_csv.write_text("\n".join(involvements) + "\n", encoding="utf-8")
    return children_csv, involvements_csv


def _import(tmp_path: Path, children: list[str], involvements: list[str]) -> SqliteChildIndex:
    import_exports(tmp_path / "index.sqlite", *_write(tmp_path, children, involvements), now=NOW)
    return SqliteChildIndex(tmp_path / "index.sqlite")


def _names(index: SqliteChildIndex) -> set[str | None]:
    """Family names of the records holding Amara's NHS number."""
    keys = BlockingKeys(nhs_numbers=frozenset({"9434765919"}))
    return {record.family_name for record in index.candidates(keys, limit=0)}


def test_happy_path(tmp_path: Path) -> None:
    children_csv, involvements_csv = _write(
        tmp_path, [CHILDREN_HEADER, AMARA, "", KOFI], [INVOLVEMENTS_HEADER, CAMHS, FAMILY]
    )
    report = import_exports(tmp_path / "index.sqlite", children_csv, involvements_csv, now=NOW)
    assert (report.children, report.involvements, report.warnings) == (2, 2, ())
    with SqliteChildIndex(tmp_path / "index.sqlite") as index:
        (camhs,) = index.involvements(LocalId("C1"))
        assert camhs.service == "CAMHS"
        assert camhs.lead_professional is True
        assert _names(index) == {"Okafor"}
        (kofi,) = index.candidates(
            BlockingKeys(birth_dates=frozenset({date(2012, 11, 2)})), limit=5
        )
        assert kofi.other_names == ("Owusu",)
        assert kofi.postcode == "SW9 8AB"


def _rejected(tmp_path: Path, children: list[str], involvements: list[str]) -> str:
    with pytest.raises(SchemaInvalid, match="nothing was imported") as caught:
        import_exports(
            tmp_path / "index.sqlite", *_write(tmp_path, children, involvements), now=NOW
        )
    assert not (tmp_path / "index.sqlite").exists()
    return caught.value.reason


@pytest.mark.parametrize(
    ("children", "involvements", "expected"),
    [
        (
            [CHILDREN_HEADER, AMARA, KOFI.replace(",,,", ",,9434765918,")],
            [INVOLVEMENTS_HEADER],
            "children.csv:3: nhs_number '9434765918' is not a valid NHS number",
        ),
        (
            [CHILDREN_HEADER, AMARA.replace("2015-03-14", "2015-14-03")],
            [INVOLVEMENTS_HEADER],
            "children.csv:2: birth_date '2015-14-03' is not a calendar date",
        ),
        (
            [CHILDREN_HEADER, AMARA],
            [INVOLVEMENTS_HEADER, CAMHS.replace("health", "school")],
            "involvements.csv:2: agency 'school' is not one of social-care",
        ),
        (
            [CHILDREN_HEADER.replace(",birth_date", ""), AMARA],
            [INVOLVEMENTS_HEADER],
            "children.csv:1: no column 'birth_date' (for birth_date: name its column in a "
            "mapping file (--mapping)); the header has 'local_id',",
        ),
        (
            [CHILDREN_HEADER, AMARA.replace("2015-03-14", "2031-03-14")],
            [INVOLVEMENTS_HEADER],
            "children.csv:2: birth_date 2031-03-14 is in the future (today is 2026-12-01)",
        ),
        (
            [CHILDREN_HEADER, AMARA.replace("Amara;Grace,Okafor", ",")],
            [INVOLVEMENTS_HEADER],
            "children.csv:2: the child has neither a given nor a family name; give at least one",
        ),
        (
            [CHILDREN_HEADER, AMARA.replace("Amara;Grace", "Amara;")],
            [INVOLVEMENTS_HEADER],
            "children.csv:2: given_names is empty",
        ),
        (
            [CHILDREN_HEADER, AMARA, KOFI, AMARA],
            [INVOLVEMENTS_HEADER],
            "children.csv:4: local_id 'C1' already appears on line 2",
        ),
        (
            [CHILDREN_HEADER, KOFI],
            [INVOLVEMENTS_HEADER, FAMILY, CAMHS],
            "involvements.csv:3: local_id 'C1' is not in children.csv",
        ),
        (
            [CHILDREN_HEADER, AMARA + ",extra"],
            [INVOLVEMENTS_HEADER],
            "children.csv:2: expected 10 fields, found 11",
        ),
        (
            [CHILDREN_HEADER, 'C1,"Amara', "Okafor\u00a0"],
            [INVOLVEMENTS_HEADER],
            "children.csv:2: reading stopped: broken CSV",
        ),
    ],
)
def test_each_kind_of_bad_row_is_reported_by_line(
    tmp_path: Path, children: list[str], involvements: list[str], expected: str
) -> None:
    reason = _rejected(tmp_path, children, involvements)
    assert any(line.endswith(expected) or expected in line for line in reason.splitlines())


def test_every_bad_row_is_collected(tmp_path: Path) -> None:
    bad_children = [
        AMARA.replace("C1,", f"X{n},").replace("2015-03-14", "2015-03-44") for n in (1, 2)
    ]
    reason = _rejected(
        tmp_path,
        [CHILDREN_HEADER, *bad_children, KOFI],
        [INVOLVEMENTS_HEADER, FAMILY.replace("closed", "shut"), CAMHS],
    )
    lines = reason.splitlines()
    assert lines[0] == "4 bad rows; nothing was imported"
    assert [line.split(": ", 1)[0].rsplit("/", 1)[-1] for line in lines[1:]] == [
        "children.csv:2",
        "children.csv:3",
        "involvements.csv:2",
        "involvements.csv:3",
    ]


def test_report_is_capped(tmp_path: Path) -> None:
    rows = [f"C{n},Ann,Lee,,2015-02-30,F,,,," for n in range(MAX_REPORTED_BAD_ROWS + 5)]
    reason = _rejected(tmp_path, [CHILDREN_HEADER, *rows], [INVOLVEMENTS_HEADER])
    lines = reason.splitlines()
    assert lines[0] == f"{MAX_REPORTED_BAD_ROWS + 5} bad rows; nothing was imported"
    assert len(lines) == MAX_REPORTED_BAD_ROWS + 2
    assert lines[-1] == "... and 5 more bad rows"


def test_text_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    children_csv, involvements_csv = _write(
        tmp_path, [CHILDREN_HEADER, AMARA], [INVOLVEMENTS_HEADER]
    )
    children_csv.write_bytes(children_csv.read_bytes() + b"C9,Zo\xe9,Lee,,2015-01-01,F,,,,\n")
    with pytest.raises(
        SchemaInvalid,
        match=r"children.csv:\d+: reading stopped: the file is not UTF-8 text; give its "
        r"encoding with --encoding \(e.g. windows-1252\)",
    ):
        import_exports(tmp_path / "index.sqlite", children_csv, involvements_csv, now=NOW)


def test_a_failed_import_changes_nothing(tmp_path: Path) -> None:
    index = _import(tmp_path, [CHILDREN_HEADER, AMARA, KOFI], [INVOLVEMENTS_HEADER, CAMHS])
    with pytest.raises(SchemaInvalid, match=r"involvements\.csv:3: local_id 'C7'"):
        import_exports(
            tmp_path / "index.sqlite",
            *_write(
                tmp_path,
                [CHILDREN_HEADER, AMARA.replace("Okafor", "Adeyemi"), KOFI],
                [INVOLVEMENTS_HEADER, CAMHS, CAMHS.replace("C1,", "C7,")],
            ),
            now=NOW,
        )
    assert _names(index) == {"Okafor"}
    assert len(index.involvements(LocalId("C1"))) == 1
    index.close()


def test_an_import_replaces_the_whole_index(tmp_path: Path) -> None:
    index = _import(tmp_path, [CHILDREN_HEADER, AMARA, KOFI], [INVOLVEMENTS_HEADER, CAMHS])
    import_exports(
        tmp_path / "index.sqlite",
        *_write(
            tmp_path, [CHILDREN_HEADER, AMARA.replace("Okafor", "Adeyemi")], [INVOLVEMENTS_HEADER]
        ),
        now=NOW,
        guard=ShrinkGuard(unsafe_force=True),  # one child of two left: forced
    )
    assert _names(index) == {"Adeyemi"}
    assert index.involvements(LocalId("C1")) == []
    index.close()


def test_columns_in_another_order_and_extra_columns_are_read(tmp_path: Path) -> None:
    columns = [*reversed(CHILDREN_COLUMNS), "case_worker"]
    row = [*reversed(AMARA.split(",")), "Ann Lee"]
    children_csv, involvements_csv = _write(
        tmp_path, [",".join(columns), ",".join(row)], [INVOLVEMENTS_HEADER]
    )
    exports = read_exports(children_csv, involvements_csv)
    (amara,) = exports.children
    assert (amara.given_names, amara.nhs_number) == (("Amara", "Grace"), "9434765919")
    assert [str(w) for w in exports.warnings] == [
        f"{children_csv}:1: warning: columns not imported: 'case_worker'"
    ]


def test_partial_records_are_imported_with_a_warning_each(tmp_path: Path) -> None:
    unborn = "C3,Baby of Jane Smith,Smith,,2027-02-01,U,SE15 4QS,,,"
    undated = "C4,Ife,Bello,,,F,,,,"
    foundling = "C5,Moses,Unknown,,2026-06-01,M,,,,"
    children_csv, involvements_csv = _write(
        tmp_path, [CHILDREN_HEADER, AMARA, unborn, undated, foundling], [INVOLVEMENTS_HEADER]
    )
    exports = read_exports(children_csv, involvements_csv, today=NOW.date())
    _, baby, ife, moses = exports.children
    assert (baby.given_names, baby.family_name, baby.birth_date) == ((), "Smith", None)
    assert (ife.given_names, ife.birth_date) == (("Ife",), None)
    assert (moses.family_name, moses.birth_date) == (None, date(2026, 6, 1))
    assert dict(exports.partial) == {"no-given-name": 1, "no-birth-date": 2, "no-family-name": 1}
    lines = [str(w) for w in exports.warnings]
    assert [line.split(": warning: ")[0] for line in lines] == [
        f"{children_csv}:3",
        f"{children_csv}:4",
        f"{children_csv}:5",
    ]
    assert "given_names 'Baby of Jane Smith' stands for a child not yet named" in lines[0]
    assert "birth_date 2027-02-01 is in the future, an expected date: dropped" in lines[0]
    assert "no birth date: found by NHS number or UPN, or by name only where" in lines[1]
    assert "family_name 'Unknown' read as not recorded" in lines[2]
