"""The London directory: authorities, neighbours, sub-regional groups and nodes.

The directory is operator-edited data (``london.toml`` beside this module),
read once with :mod:`tomllib` and checked as a whole before any object is
made, so a ``Directory`` that exists is consistent:

(1) every authority code is one of ``ALL_AUTHORITIES`` (the one list,
    ``hub.authority_list``, read from ``DEFAULT_DIRECTORY_PATH``) and appears
    exactly once, and all of them are present;
(2) every neighbour is a known authority other than itself, listed once;
(3) the neighbour relation is symmetric (A lists B exactly when B lists A);
(4) every authority names a group declared in ``[groups]``, and group names
    cannot be mistaken for the partner keywords ``london`` and ``neighbours``;
(5) node ids are unique across the directory and node URLs are ``https``.

Any failure raises ``SchemaInvalid`` naming the file and the entry at fault;
looking up a code or group the directory does not know raises
``UnknownRecipient``, whose reason names the code and never the file (it is
sent to the party that asked). SPEC §2 scope expansion (``To scope="neighbours" | "london"``) is
``Directory.expand_scope``; it never includes the requester.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, NewType

from hub.authority_list import DEFAULT_DIRECTORY_PATH
from hub.errors import SchemaInvalid, UnknownRecipient
from hub.identifiers import ALL_AUTHORITIES, AuthorityCode

__all__ = [
    "DEFAULT_DIRECTORY_PATH",
    "RESERVED_GROUP_NAMES",
    "Authority",
    "Directory",
    "GroupName",
    "Node",
    "Scope",
    "default_directory",
    "load_directory",
    "parse_directory",
]

GroupName = NewType("GroupName", str)
"""A sub-regional group declared in the directory's ``[groups]`` table."""

Scope = Literal["neighbours", "london"]
"""The two ``To/@scope`` values of SPEC §2."""

RESERVED_GROUP_NAMES: Final = frozenset({"london", "neighbours"})
"""Partner keywords of the ISP schema; a group may not take these names."""

_GROUP_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}\Z")
_NODE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}\Z")
_ALL: Final = frozenset(ALL_AUTHORITIES)


@dataclass(frozen=True, slots=True)
class Node:
    """One IRT system endpoint of an authority."""

    id: str
    """The node id carried in ``env:From/@node``; unique across London."""
    url: str
    """The ``https`` URL messages are posted to."""


@dataclass(frozen=True, slots=True)
class Authority:
    """One London authority as the directory describes it."""

    code: AuthorityCode
    name: str
    group: GroupName
    neighbours: frozenset[AuthorityCode]
    nodes: tuple[Node, ...] = ()


@dataclass(frozen=True, slots=True)
class Directory:
    """The checked directory; build it with ``parse_directory`` or ``load_directory``."""

    source: str
    """Where the data came from, for error messages."""
    authorities: Mapping[AuthorityCode, Authority]
    groups: Mapping[GroupName, str]
    """Each group name and its description."""
    _members: Mapping[GroupName, tuple[AuthorityCode, ...]] = field(repr=False)

    def authority(self, code: str) -> Authority:
        """The authority for ``code``; raise ``UnknownRecipient`` if unknown."""
        try:
            return self.authorities[AuthorityCode(code)]
        except KeyError:
            raise UnknownRecipient(f"the directory holds no authority {code!r}") from None

    def codes(self) -> tuple[AuthorityCode, ...]:
        """All authority codes in code order."""
        return tuple(sorted(self.authorities))

    def neighbours(self, code: str) -> tuple[AuthorityCode, ...]:
        """The authorities that share a boundary with ``code``, in code order."""
        return tuple(sorted(self.authority(code).neighbours))

    def group(self, code: str) -> GroupName:
        """The sub-regional group of ``code``."""
        return self.authority(code).group

    def members(self, group: str) -> tuple[AuthorityCode, ...]:
        """The authorities of ``group`` in code order; raise ``UnknownRecipient`` if unknown."""
        try:
            return self._members[GroupName(group)]
        except KeyError:
            raise UnknownRecipient(f"the directory holds no group {group!r}") from None

    def expand_scope(self, requester: str, scope: Scope) -> tuple[AuthorityCode, ...]:
        """The recipients of a ``To scope=...`` message from ``requester`` (SPEC §2).

        ``neighbours`` is the requester's neighbours; ``london`` is every other
        authority. The requester itself is never included. Raises
        ``UnknownRecipient`` for an unknown requester or scope.
        """
        me = self.authority(requester).code
        if scope == "neighbours":
            return self.neighbours(me)
        if scope == "london":
            return tuple(code for code in self.codes() if code != me)
        raise UnknownRecipient(f"unknown scope {scope!r}; expected 'neighbours' or 'london'")


def load_directory(path: Path) -> Directory:
    """Read and check the directory at ``path``; raise ``SchemaInvalid`` naming the fault."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SchemaInvalid(f"{path}: cannot read the directory: {exc}") from exc
    return parse_directory(data, source=str(path))


@functools.cache
def default_directory() -> Directory:
    """The shipped London directory, loaded once per process."""
    return load_directory(DEFAULT_DIRECTORY_PATH)


def parse_directory(data: Mapping[str, Any], *, source: str) -> Directory:
    """Check parsed TOML ``data`` and build a ``Directory``.

    Raises ``SchemaInvalid`` naming ``source`` and the entry at fault.
    """
    groups = _parse_groups(data.get("groups"), source)
    entries = data.get("authority")
    if not isinstance(entries, list) or not entries:
        raise SchemaInvalid(f"{source}: no [[authority]] entries")
    authorities: dict[AuthorityCode, Authority] = {}
    node_ids: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        where = f"{source}: [[authority]] entry {index}"
        authority = _parse_authority(entry, where, groups, node_ids)
        # (1) each code once
        if authority.code in authorities:
            raise SchemaInvalid(f"{where}: duplicate code {authority.code}")
        authorities[authority.code] = authority
    missing = sorted(_ALL - authorities.keys())
    if missing:
        raise SchemaInvalid(f"{source}: authorities missing: {', '.join(missing)}")
    # (3) symmetry, reported for the first pair in code order
    for code in sorted(authorities):
        for other in sorted(authorities[code].neighbours):
            if code not in authorities[other].neighbours:
                raise SchemaInvalid(
                    f"{source}: {code} lists {other} as a neighbour but {other} "
                    f"({authorities[other].name}) does not list {code}: "
                    "neighbours must be symmetric"
                )
    members = {
        name: tuple(sorted(c for c, a in authorities.items() if a.group == name)) for name in groups
    }
    return Directory(
        source=source,
        authorities=MappingProxyType(authorities),
        groups=MappingProxyType(groups),
        _members=MappingProxyType(members),
    )


def _parse_groups(raw: object, source: str) -> dict[GroupName, str]:
    if not isinstance(raw, dict) or not raw:
        raise SchemaInvalid(f"{source}: a [groups] table naming at least one group is required")
    groups: dict[GroupName, str] = {}
    for name, description in raw.items():
        # (4) group names are plain tokens and never a partner keyword
        if not _GROUP_NAME.match(name) or name in RESERVED_GROUP_NAMES:
            raise SchemaInvalid(f"{source}: [groups] {name!r} is not an acceptable group name")
        if not isinstance(description, str):
            raise SchemaInvalid(f"{source}: [groups] {name} must be a string description")
        groups[GroupName(name)] = description
    return groups


def _parse_authority(
    entry: object, where: str, groups: Mapping[GroupName, str], node_ids: set[str]
) -> Authority:
    if not isinstance(entry, dict):
        raise SchemaInvalid(f"{where}: must be a table")
    unknown_keys = sorted(set(entry) - {"code", "name", "group", "neighbours", "node"})
    if unknown_keys:
        raise SchemaInvalid(f"{where}: unknown keys {', '.join(unknown_keys)}")
    code = entry.get("code")
    if code not in _ALL:
        raise SchemaInvalid(f"{where}: code {code!r} is not a London authority code")
    where = f"{where} ({code})"
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SchemaInvalid(f"{where}: a non-empty name is required")
    group = entry.get("group")
    if not isinstance(group, str) or group not in groups:
        raise SchemaInvalid(f"{where}: group {group!r} is not declared in [groups]")
    raw_neighbours = entry.get("neighbours", [])
    if not isinstance(raw_neighbours, list):
        raise SchemaInvalid(f"{where}: neighbours must be a list of codes")
    # (2) neighbours are known, distinct and not the authority itself
    for other in raw_neighbours:
        if other not in _ALL:
            raise SchemaInvalid(f"{where}: neighbour {other!r} is not a London authority code")
        if other == code:
            raise SchemaInvalid(f"{where}: an authority cannot be its own neighbour")
    if len(set(raw_neighbours)) != len(raw_neighbours):
        raise SchemaInvalid(f"{where}: a neighbour is listed twice")
    raw_nodes = entry.get("node", [])
    if not isinstance(raw_nodes, list):
        raise SchemaInvalid(f"{where}: node must be an array of tables ([[authority.node]])")
    nodes = tuple(
        _parse_node(raw, f"{where} node {i}", node_ids) for i, raw in enumerate(raw_nodes, 1)
    )
    return Authority(
        code=AuthorityCode(code),
        name=name.strip(),
        group=GroupName(group),
        neighbours=frozenset(AuthorityCode(n) for n in raw_neighbours),
        nodes=nodes,
    )


def _parse_node(raw: object, where: str, node_ids: set[str]) -> Node:
    # (5) node ids unique, URLs https only: the transport is mutual TLS (SPEC §4)
    if not isinstance(raw, dict) or set(raw) != {"id", "url"}:
        raise SchemaInvalid(f"{where}: a node is a table with exactly 'id' and 'url'")
    node_id, url = raw["id"], raw["url"]
    if not isinstance(node_id, str) or not _NODE_ID.match(node_id):
        raise SchemaInvalid(f"{where}: node id {node_id!r} is not a lowercase token")
    if node_id in node_ids:
        raise SchemaInvalid(f"{where}: node id {node_id!r} is used twice")
    if not isinstance(url, str) or not url.startswith("https://"):
        raise SchemaInvalid(f"{where}: node url {url!r} must be an https URL")
    node_ids.add(node_id)
    return Node(id=node_id, url=url)
