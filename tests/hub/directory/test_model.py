"""The London directory: data, symmetry, scope expansion and the loader's refusals."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from hub.authorities import AUTHORITY_NAMES
from hub.directory import DEFAULT_DIRECTORY_PATH, default_directory, load_directory
from hub.directory.model import parse_directory
from hub.errors import SchemaInvalid, UnknownRecipient
from hub.identifiers import ALL_AUTHORITIES, AuthorityCode


def _raw() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_DIRECTORY_PATH.read_text())


def _entry(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(a for a in data["authority"] if a["code"] == code)


def test_all_33_authorities_in_code_order_with_their_names() -> None:
    directory = default_directory()
    assert directory.codes() == ALL_AUTHORITIES
    # The operator-edited directory and the PKI's names must agree.
    assert [directory.authority(c).name for c in directory.codes()] == [
        AUTHORITY_NAMES[c] for c in ALL_AUTHORITIES
    ]


def test_neighbour_relation_is_symmetric_and_irreflexive() -> None:
    directory = default_directory()
    for code in directory.codes():
        assert code not in directory.neighbours(code)
        for other in directory.neighbours(code):
            assert code in directory.neighbours(other), (code, other)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("E09000022", "E09000033"),  # Lambeth - Westminster, across the Thames
        ("E09000032", "E09000020"),  # Wandsworth - Kensington and Chelsea, river
        ("E09000004", "E09000016"),  # Bexley - Havering, river
        ("E09000002", "E09000011"),  # Barking and Dagenham - Greenwich, river
        ("E09000023", "E09000030"),  # Lewisham - Tower Hamlets, river
        ("E09000006", "E09000022"),  # Bromley - Lambeth at Crystal Palace
        ("E09000008", "E09000028"),  # Croydon - Southwark
        ("E09000021", "E09000032"),  # Kingston - Wandsworth at Kingston Vale
    ],
)
def test_real_neighbours(a: str, b: str) -> None:
    assert AuthorityCode(b) in default_directory().neighbours(a)


@pytest.mark.parametrize(
    ("a", "b"),
    [("E09000016", "E09000017"), ("E09000001", "E09000022"), ("E09000009", "E09000027")],
)
def test_not_neighbours(a: str, b: str) -> None:
    assert AuthorityCode(b) not in default_directory().neighbours(a)


def test_every_authority_in_one_london_plan_sub_region() -> None:
    directory = default_directory()
    assert set(directory.groups) == {"central", "north", "east", "south", "west"}
    members = [m for g in directory.groups for m in directory.members(g)]
    assert sorted(members) == list(ALL_AUTHORITIES)
    assert directory.members("north") == ("E09000003", "E09000010", "E09000014")
    assert directory.group("E09000022") == "central"
    assert directory.group("E09000029") == "south"


def test_expand_scope_never_includes_the_requester() -> None:
    directory = default_directory()
    for code in directory.codes():
        london = directory.expand_scope(code, "london")
        assert code not in london
        assert len(london) == 32
        assert directory.expand_scope(code, "neighbours") == directory.neighbours(code)
    assert directory.expand_scope("E09000029", "neighbours") == (
        "E09000008",
        "E09000021",
        "E09000024",
    )


def test_unknown_lookups_are_unknown_recipients() -> None:
    directory = default_directory()
    with pytest.raises(UnknownRecipient, match="no authority 'E09000034'"):
        directory.authority("E09000034")
    with pytest.raises(UnknownRecipient, match="no group 'midlands'"):
        directory.members("midlands")
    with pytest.raises(UnknownRecipient, match="unknown scope 'everywhere'"):
        # Deliberately outside the Scope literal, to reach the runtime refusal.
        directory.expand_scope("E09000001", "everywhere")  # type: ignore[arg-type]


def test_asymmetric_neighbours_are_refused_naming_file_and_entries() -> None:
    data = _raw()
    _entry(data, "E09000022")["neighbours"].remove("E09000033")
    with pytest.raises(SchemaInvalid, match=r"london\.toml: E09000033 lists E09000022 .*symmetric"):
        parse_directory(data, source="london.toml")


def test_unknown_code_is_refused() -> None:
    data = _raw()
    _entry(data, "E09000022")["neighbours"].append("E09000099")
    with pytest.raises(SchemaInvalid, match=r"entry 22 \(E09000022\): neighbour 'E09000099'"):
        parse_directory(data, source="london.toml")


def test_duplicate_code_is_refused() -> None:
    data = _raw()
    data["authority"][1]["code"] = "E09000001"
    with pytest.raises(SchemaInvalid, match="entry 2: duplicate code E09000001"):
        parse_directory(data, source="london.toml")


def test_missing_authority_is_refused() -> None:
    data = _raw()
    data["authority"] = [a for a in data["authority"] if a["code"] != "E09000015"]
    for entry in data["authority"]:
        if "E09000015" in entry["neighbours"]:
            entry["neighbours"].remove("E09000015")
    with pytest.raises(SchemaInvalid, match="authorities missing: E09000015"):
        parse_directory(data, source="london.toml")


def test_undeclared_or_reserved_group_is_refused() -> None:
    data = _raw()
    _entry(data, "E09000001")["group"] = "city"
    with pytest.raises(SchemaInvalid, match=r"\(E09000001\): group 'city' is not declared"):
        parse_directory(data, source="london.toml")
    data = _raw()
    data["groups"]["london"] = "all"
    with pytest.raises(SchemaInvalid, match="'london' is not an acceptable group name"):
        parse_directory(data, source="london.toml")


def test_nodes_are_read_and_checked() -> None:
    data = _raw()
    _entry(data, "E09000022")["node"] = [{"id": "lambeth-irt", "url": "https://irt.example/v1"}]
    directory = parse_directory(data, source="london.toml")
    assert directory.authority("E09000022").nodes[0].id == "lambeth-irt"
    _entry(data, "E09000028")["node"] = [{"id": "lambeth-irt", "url": "https://x.example/v1"}]
    with pytest.raises(SchemaInvalid, match="node id 'lambeth-irt' is used twice"):
        parse_directory(data, source="london.toml")
    _entry(data, "E09000028")["node"] = [{"id": "southwark", "url": "http://x.example/v1"}]
    with pytest.raises(SchemaInvalid, match="must be an https URL"):
        parse_directory(data, source="london.toml")


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "london.toml"
    bad.write_text("[groups\n")
    with pytest.raises(SchemaInvalid, match=r"london\.toml: cannot read the directory"):
        load_directory(bad)
