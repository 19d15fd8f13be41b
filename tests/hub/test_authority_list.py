"""The one list of authorities: everything that names the authorities agrees with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from hub.authorities import AUTHORITY_NAMES, PARTIES
from hub.authority_list import DEFAULT_DIRECTORY_PATH, LISTED, read_authority_list
from hub.directory import default_directory
from hub.errors import SchemaInvalid
from hub.identifiers import ALL_AUTHORITIES, HUB, parse_authority
from tests.support.paths import REPO

_XS = {"xs": "http://www.w3.org/2001/XMLSchema"}


def test_the_codes_and_names_are_the_directory_files() -> None:
    directory = default_directory()
    assert directory.source == str(DEFAULT_DIRECTORY_PATH)
    assert ALL_AUTHORITIES == directory.codes() == tuple(a.code for a in LISTED)
    assert {c: AUTHORITY_NAMES[c] for c in ALL_AUTHORITIES} == {
        c: directory.authority(c).name for c in directory.codes()
    }
    assert (*ALL_AUTHORITIES, HUB) == PARTIES
    assert list(AUTHORITY_NAMES) == list(PARTIES)


def test_every_listed_code_parses_and_nothing_else_does() -> None:
    assert [parse_authority(c) for c in ALL_AUTHORITIES] == list(ALL_AUTHORITIES)
    with pytest.raises(SchemaInvalid, match=r"'E09000099' is not a London authority code"):
        parse_authority("E09000099")


@pytest.mark.parametrize("type_name", ["AuthorityCode", "LondonAuthorityCode"])
def test_the_wire_schema_accepts_exactly_the_listed_codes(type_name: str) -> None:
    # The XSD is the wire contract and has its own pattern; a code added to
    # the list must be added there too (a new schema version), and this says so.
    schema = etree.parse(REPO / "schemas" / "common" / "1" / "common.xsd")
    found = schema.xpath(
        "//xs:simpleType[@name=$n]//xs:pattern/@value", namespaces=_XS, n=type_name
    )
    assert isinstance(found, list)
    (pattern,) = found
    candidates = {f"E09{n:06d}" for n in range(1000)} | set(ALL_AUTHORITIES)
    accepted = {c for c in candidates if re.fullmatch(str(pattern), c)}
    assert accepted == set(ALL_AUTHORITIES)


def _listing(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "directory.toml"
    path.write_text(text)
    return path


def test_the_list_is_read_in_code_order(tmp_path: Path) -> None:
    path = _listing(
        tmp_path,
        '[[authority]]\ncode = "E09000022"\nname = " Lambeth "\n'
        '[[authority]]\ncode = "E09000008"\nname = "Croydon"\n',
    )
    assert [(a.code, a.name) for a in read_authority_list(path)] == [
        ("E09000008", "Croydon"),
        ("E09000022", "Lambeth"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[groups]\n", r"directory\.toml: no \[\[authority\]\] entries"),
        ("[[authority", r"directory\.toml: cannot read the list of authorities"),
        (
            '[[authority]]\ncode = "HUB"\nname = "Hub"\n',
            r"entry 1: code 'HUB' is not a GSS code",
        ),
        ('[[authority]]\nname = "Nowhere"\n', r"entry 1: code None is not a GSS code"),
        (
            '[[authority]]\ncode = "E09000001"\nname = "A"\n'
            '[[authority]]\ncode = "E09000001"\nname = "B"\n',
            r"entry 2: duplicate code E09000001",
        ),
        (
            '[[authority]]\ncode = "E09000001"\nname = "  "\n',
            r"entry 1 \(E09000001\): a non-empty name is required",
        ),
    ],
)
def test_a_broken_list_is_refused_naming_the_file_and_entry(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(SchemaInvalid, match=message):
        read_authority_list(_listing(tmp_path, text))


def test_a_missing_list_is_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaInvalid, match=r"nowhere\.toml: cannot read the list of authorities"):
        read_authority_list(tmp_path / "nowhere.toml")
