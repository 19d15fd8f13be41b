"""Common nicknames, diminutives and spelling variants of given names.

``nicknames.csv`` (shipped beside this module) lists ``nickname,formal`` pairs:
``Bill,William``, ``Liz,Elizabeth``, ``Mo,Muhammad``, ``Mohammed,Muhammad``.
Two given names are equivalent when one is the other's formal name or both are
listed under the same formal name. Equivalence goes one step only: ``Kay`` is
listed under both ``Catherine`` and ``Kayode``, which does not make those two
equivalent. The table is for given names; family names are never nicknamed.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import cache
from importlib import resources
from typing import Final

from adapters.index.normalise import fold
from hub.errors import InternalError

__all__ = ["NICKNAMES_FILE", "are_nicknames", "nickname_variants"]

NICKNAMES_FILE: Final = "nicknames.csv"
_HEADER: Final = ["nickname", "formal"]


@cache
def _groups() -> dict[str, frozenset[str]]:
    """Each folded name to the folded formal names it stands for (itself included)."""
    text = resources.files("adapters.matching").joinpath(NICKNAMES_FILE).read_text("utf-8")
    rows = csv.reader(text.splitlines())
    if next(rows) != _HEADER:
        raise InternalError(f"{NICKNAMES_FILE} must start with the header {','.join(_HEADER)}")
    groups: defaultdict[str, set[str]] = defaultdict(set)
    for nickname, formal in rows:
        groups[fold(nickname)].add(fold(formal))
        groups[fold(formal)].add(fold(formal))
    return {name: frozenset(formals) for name, formals in groups.items()}


@cache
def _members() -> dict[str, frozenset[str]]:
    """Each folded formal name to every folded name listed under it."""
    members: defaultdict[str, set[str]] = defaultdict(set)
    for name, formals in _groups().items():
        for formal in formals:
            members[formal].add(name)
    return {formal: frozenset(names) for formal, names in members.items()}


def are_nicknames(first: str, second: str) -> bool:
    """True when two folded given-name parts share a formal name in the table."""
    groups = _groups()
    one = groups.get(first)
    if one is None:
        return False
    other = groups.get(second)
    return other is not None and not one.isdisjoint(other)


def nickname_variants(part: str) -> frozenset[str]:
    """Every folded name equivalent to ``part`` (itself included)."""
    formals = _groups().get(part)
    if formals is None:
        return frozenset((part,))
    members = _members()
    return frozenset(name for formal in formals for name in members[formal]) | {part}
