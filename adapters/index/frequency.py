"""How common each name part is in an index, so that agreeing on a rare name counts more.

Two children both called Muhammad Ahmed agree on their names by chance far
more often than two called Chiamaka Oyelaran. Following Fellegi and Sunter,
agreement on a value is worth ``log2(m / u)`` bits, where ``m`` is the chance
that the same child's two records agree (about ``NAME_RELIABILITY``) and
``u`` the chance that two different children do, which is the value's share
among the index's children, smoothed towards ``TYPICAL_SHARE`` for small
indexes. An index that cannot count its names returns
``NameFrequencies.unknown()``, and every name is then weighted as typical.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from adapters.index.model import ChildRecord
from adapters.index.normalise import name_parts

__all__ = [
    "NAME_RELIABILITY",
    "PRIOR_CHILDREN",
    "RAREST_SHARE",
    "TYPICAL_SHARE",
    "NameFrequencies",
    "agreement_bits",
    "count_names",
]

NAME_RELIABILITY: Final = 0.9
"""``m``: the same child's name agrees across two records about nine times in ten."""
TYPICAL_SHARE: Final = 1 / 1000
"""``u`` for a name an index cannot count: a middling name in a London borough."""
RAREST_SHARE: Final = 1 / 20000
"""The smallest ``u`` believed: a name seen once is rare, not unique."""
PRIOR_CHILDREN: Final = 10_000
"""Pseudo-children with typical names blended into every count, so that a
small index's counts do not swing the weights: a name held by one child in
three is a small sample, not a common name."""


@dataclass(frozen=True, slots=True)
class NameFrequencies:
    """Counts of folded name parts: given-name parts, and family- and other-name parts."""

    children: int
    given: Mapping[str, int] = field(default_factory=dict)
    family: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def unknown(cls) -> NameFrequencies:
        """No counts: every name is weighted as typical."""
        return cls(children=0)

    def given_share(self, part: str) -> float:
        """The share of children with this given-name part."""
        return self._share(self.given, part)

    def family_share(self, parts: Iterable[str]) -> float:
        """The share of children with all these family-name parts (treated as independent)."""
        return math.prod(self._share(self.family, part) for part in parts)

    def _share(self, counts: Mapping[str, int], part: str) -> float:
        expected = PRIOR_CHILDREN * TYPICAL_SHARE
        share = (counts.get(part, 0) + expected) / (self.children + PRIOR_CHILDREN)
        return max(share, RAREST_SHARE)


def agreement_bits(share: float) -> float:
    """``log2(m / u)``: the evidence, in bits, that agreeing on a value of this share gives."""
    return math.log2(NAME_RELIABILITY / max(share, RAREST_SHARE))


def count_names(records: Iterable[ChildRecord]) -> NameFrequencies:
    """Count each folded part of each record's given names, and of its family and other names."""
    given: Counter[str] = Counter()
    family: Counter[str] = Counter()
    children = 0
    for record in records:
        children += 1
        given.update({part for name in record.given_names for part in name_parts(name)})
        family.update(
            {
                part
                for name in (record.family_name, *record.other_names)
                if name is not None
                for part in name_parts(name)
            }
        )
    return NameFrequencies(children, dict(given), dict(family))
