"""Real exports: the borough's own column names, Windows-1252 text, DD/MM/YYYY dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from adapters.index.csvimport import read_exports
from adapters.index.exportformat import load_export_format
from hub.errors import SchemaInvalid

MAPPING = """
[children]
local_id = "Person ID"
given_names = ["Forename", "Middle Names"]
family_name = "Surname"
other_names = "Known As"
birth_date = "Date of Birth"
sex = "Gender"
nhs_number = "NHS No"

[involvements]
local_id = "Person ID"
service = "Team"
"""
# A case-management export: its own names and order, a column we do not read,
# no address, UPN or postcode columns, Windows-1252 text and UK dates.
CHILDREN = (
    "Surname,Forename,Middle Names,Date of Birth,Person ID,Gender,NHS No,Known As,Worker\r\n"
    "Zoë,Chloé,Anne,14/03/2015,P-1,F,943 476 5919,,A. Lee\r\n"
    "Okafor,Kofi,,2/11/2012,P-2,M,,Mensah,B. Khan\r\n"
)
INVOLVEMENTS = (
    "Person ID,agency,Team,category,status,start_date,end_date,lead_professional,caf\r\n"
    "P-1,health,CAMHS,mental-health,closed,05/01/2024,30/06/2024,yes,no\r\n"
)


def _files(tmp_path: Path, mapping: str = MAPPING) -> tuple[Path, Path, Path]:
    children = tmp_path / "children.csv"
    involvements = tmp_path / "involvements.csv"
    mapping_file = tmp_path / "export.toml"
    children.write_bytes(CHILDREN.encode("cp1252"))
    involvements.write_bytes(INVOLVEMENTS.encode("cp1252"))
    mapping_file.write_text(mapping, encoding="utf-8")
    return children, involvements, mapping_file


def test_a_real_export_is_read_through_its_mapping(tmp_path: Path) -> None:
    children, involvements, mapping = _files(tmp_path)
    shape = load_export_format(mapping, encoding="windows-1252", date_format="DD/MM/YYYY")
    exports = read_exports(children, involvements, export_format=shape)
    zoe, kofi = exports.children
    assert (zoe.local_id, zoe.given_names, zoe.family_name) == ("P-1", ("Chloé", "Anne"), "Zoë")
    assert (zoe.birth_date, zoe.nhs_number, zoe.sex) == (date(2015, 3, 14), "9434765919", "female")
    assert (kofi.birth_date, kofi.other_names, kofi.given_names) == (
        date(2012, 11, 2),
        ("Mensah",),
        ("Kofi",),
    )
    (camhs,) = exports.involvements
    assert (camhs.service, camhs.start_date) == ("CAMHS", date(2024, 1, 5))
    assert [w.reason for w in exports.warnings] == [
        "no column for postcode: empty for every row",
        "no column for address: empty for every row",
        "no column for upn: empty for every row",
        "columns not imported: 'Worker'",
        "no column for practitioner_name: empty for every row",
        "no column for practitioner_role: empty for every row",
        "no column for practitioner_phone: empty for every row",
        "no column for practitioner_email: empty for every row",
    ]


def test_without_the_encoding_the_text_is_refused_by_line(tmp_path: Path) -> None:
    children, involvements, mapping = _files(tmp_path)
    shape = load_export_format(mapping, date_format="DD/MM/YYYY")
    with pytest.raises(
        SchemaInvalid, match=r"children.csv:1: reading stopped: the file is not UTF-8 text"
    ):
        read_exports(children, involvements, export_format=shape)


def test_without_the_date_format_each_date_is_refused(tmp_path: Path) -> None:
    children, involvements, mapping = _files(tmp_path)
    shape = load_export_format(mapping, encoding="cp1252")
    with pytest.raises(SchemaInvalid, match="3 bad rows") as caught:
        read_exports(children, involvements, export_format=shape)
    assert f"{children}:2: birth_date '14/03/2015' is not a date of the form YYYY-MM-DD" in (
        caught.value.reason.splitlines()
    )


def test_a_mapped_column_missing_from_the_header_is_named(tmp_path: Path) -> None:
    children, involvements, mapping = _files(tmp_path, MAPPING.replace('"Date of Birth"', '"DOB"'))
    shape = load_export_format(mapping, encoding="cp1252", date_format="DD/MM/YYYY")
    with pytest.raises(
        SchemaInvalid,
        match=r"children.csv:1: no column 'DOB' \(for birth_date in export.toml\); "
        r"the header has 'Surname', 'Forename'",
    ):
        read_exports(children, involvements, export_format=shape)


def test_a_required_column_missing_is_named(tmp_path: Path) -> None:
    children, involvements, mapping = _files(
        tmp_path, MAPPING.replace('family_name = "Surname"', "")
    )
    shape = load_export_format(mapping, encoding="cp1252", date_format="DD/MM/YYYY")
    with pytest.raises(
        SchemaInvalid,
        match=r"no column 'family_name' \(for family_name: name its column in export.toml\)",
    ):
        read_exports(children, involvements, export_format=shape)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ('[children]\nbirth_dat = "DOB"', r"\[children\] birth_dat: not a field of children.csv "
         r"\(did you mean birth_date\?\); the fields are local_id, "),
        ('[child]\nlocal_id = "ID"', r"unknown table \[child\] \(did you mean children\?\)"),
        ('[children]\nsex = ["A", "B"]', r"\[children\] sex: only given_names, other_names, "
         "address may be read from several columns"),
        ('[children]\nsex = 1', r"\[children\] sex: must be a column name, or a list"),
        ('[children]\nsex = ""', r"\[children\] sex: must be a column name, or a list"),
        ("[children\n", "the mapping file is not valid TOML"),
    ],
    ids=["misspelt-field", "misspelt-table", "joined-sex", "number", "empty", "bad-toml"],
)  # fmt: skip
def test_mapping_mistakes_name_file_table_and_key(
    tmp_path: Path, mapping: str, message: str
) -> None:
    path = tmp_path / "export.toml"
    path.write_text(mapping, encoding="utf-8")
    with pytest.raises(SchemaInvalid, match=message) as caught:
        load_export_format(path)
    assert str(path) in caught.value.reason


def test_an_unknown_encoding_is_refused() -> None:
    with pytest.raises(SchemaInvalid, match="encoding 'latin-9000' is unknown; give a codec"):
        load_export_format(encoding="latin-9000")


def test_utf8_always_allows_a_byte_order_mark() -> None:
    assert load_export_format(encoding="UTF8").encoding == "utf-8-sig"
