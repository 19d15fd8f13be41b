"""How well two people's names agree, forgiving the errors real records contain.

Names are compared part by part after folding (``adapters.index.normalise``).
Two parts agree by degrees (``part_similarity``):

1. equal: 1.0;
2. nicknames or spelling variants of one given name (``Bill``/``William``,
   ``Mo``/``Muhammad``): ``NICKNAME_SIMILARITY``;
3. an initial against a name it begins: ``INITIAL_SIMILARITY``;
4. otherwise Jaro–Winkler similarity (rapidfuzz), which punishes a typo in
   a short name hard (``Ubah``/``Ueah`` 0.85), so raised to at least
   ``TYPO_SIMILARITY`` for one substitution, insertion, deletion or
   transposition (optimal string alignment distance 1) in parts of four or
   more letters, to at least ``TWO_TYPO_SIMILARITY`` for two such slips
   after an agreeing first two letters (``Kyle``/``Kylwc``; ``Kate``/``Kyle``
   are two names, not two slips), and to at least ``PHONETIC_SIMILARITY``
   when the metaphone codes are equal and the spellings are not wholly
   unlike (``Katherine``/``Catherine``; ``Rafi``/``Aarav`` share a code by
   accident).

A family name agrees with the best agreement of any of its parts with any
part of the other side's family or other names, so ``Smith-Jones`` meets
``Jones`` and a former surname held as an other name still counts; a match on
one part of a longer name scores ``PART_SIMILARITY``. Given names agree with
their best pair of parts. Each side's given names and family name are also
compared with their spaces removed, so a name split or joined by a stray
space (``Ja Cob``/``Jacob``, ``J Ollo``/``Jollo``) still agrees.

Forename and surname swapped are compared too. The swapped reading is taken
only when more of its names agree (above ``SWAP_MIN_SIMILARITY``) than in the
straight reading, or as many and better in sum: so an exact forename with a
replaced surname is never reread as a poor swap (``Joshua Dolan`` against
``Joshua Cupo``), while a swap with one name also misspelt or replaced is
still read (``White Jasmine`` against ``Jacqueline White``). The swap is
reported so scoring can charge for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from rapidfuzz.distance import OSA, JaroWinkler

from adapters.index.normalise import fold, metaphone, name_parts
from adapters.matching.nicknames import are_nicknames

__all__ = [
    "INITIAL_SIMILARITY",
    "NICKNAME_SIMILARITY",
    "PART_SIMILARITY",
    "PHONETIC_SIMILARITY",
    "SWAP_MIN_SIMILARITY",
    "TWO_TYPO_SIMILARITY",
    "TYPO_SIMILARITY",
    "NameAgreement",
    "Names",
    "compare_names",
    "part_similarity",
]

NICKNAME_SIMILARITY: Final = 0.95
"""Just below equal: ``Liz`` is very likely ``Elizabeth``, but the record says otherwise."""
INITIAL_SIMILARITY: Final = 0.8
"""An initial is consistent with the name but says little about it."""
PHONETIC_SIMILARITY: Final = 0.92
"""Names that sound alike are usually the same name spelt by a different hand."""
TYPO_SIMILARITY: Final = 0.93
"""One slip of the keyboard in a name of four or more letters."""
_TYPO_MIN_LENGTH: Final = 4
TWO_TYPO_SIMILARITY: Final = 0.88
"""Two slips in a name whose first two letters agree: likely the same name,
less so than one slip. Jaro–Winkler alone puts ``Kyle``/``Kylwc`` at 0.85."""
_TWO_TYPO_PREFIX: Final = 2
_TWO_SLIPS: Final = 2
SWAP_MIN_SIMILARITY: Final = 0.75
"""Below this two names disagree: a reading is judged first by how many agree."""
_PHONETIC_MIN_SPELLING: Final = 0.7
"""Below this Jaro–Winkler similarity an equal metaphone code is a coincidence."""
PART_SIMILARITY: Final = 0.95
"""One part of a double-barrelled name given alone: usually the same child."""

_CACHE_SIZE: Final = 1 << 18


@dataclass(frozen=True, slots=True)
class Names:
    """One person's names, folded and split into parts once."""

    given: tuple[str, ...]
    family: tuple[str, ...]
    family_whole: str
    other: tuple[str, ...]
    given_whole: str = ""
    """The first given name with its spaces removed (``Ja Cob`` gives ``JACOB``)."""

    @classmethod
    def of(cls, given: Sequence[str], family: str | None, other: Sequence[str]) -> Names:
        """Fold and split the names as written."""
        return cls(
            given=tuple(part for name in given for part in name_parts(name)),
            family=() if family is None else name_parts(family),
            family_whole="" if family is None else fold(family).replace(" ", ""),
            other=tuple(part for name in other for part in name_parts(name)),
            given_whole="".join(name_parts(given[0])) if given else "",
        )


@dataclass(frozen=True, slots=True)
class NameAgreement:
    """How well a record's given and family names were matched by the query's.

    Similarities are in [0, 1], ``None`` when either side lacks that name.
    ``given_part`` and ``family_parts`` are the record's folded parts that
    agreed best, for weighting by how common they are. When ``swapped``, the
    record's given name was matched by the query's family name and the other
    way round.
    """

    given: float | None
    family: float | None
    given_part: str = ""
    family_parts: tuple[str, ...] = ()
    swapped: bool = False


def compare_names(query: Names, record: Names) -> NameAgreement:
    """The agreement of a query's names with a record's, straight or swapped."""
    given, given_part = _given(query, record)
    family, family_parts = _family(query, record)
    swapped_given, swapped_part = _best(query.given, record.family, given=False)
    swapped_family, swapped_parts = _best(query.family, record.given, given=True)
    if (
        swapped_given is not None
        and swapped_family is not None
        and _reading(swapped_given, swapped_family) > _reading(given, family)
    ):
        return NameAgreement(
            swapped_family, swapped_given, swapped_parts, (swapped_part,), swapped=True
        )
    return NameAgreement(given, family, given_part, family_parts)


def _reading(given: float | None, family: float | None) -> tuple[int, float]:
    """How good a reading of the names is: how many agree, then their summed similarity."""
    similarities = [s for s in (given, family) if s is not None]
    return sum(s > SWAP_MIN_SIMILARITY for s in similarities), sum(similarities)


@lru_cache(maxsize=_CACHE_SIZE)
def part_similarity(first: str, second: str, *, given: bool) -> float:
    """Similarity in [0, 1] of two folded name parts; nicknames count only for given names."""
    if first == second:
        return 1.0
    if given and are_nicknames(first, second):
        return NICKNAME_SIMILARITY
    if len(first) == 1 or len(second) == 1:
        return INITIAL_SIMILARITY if first[0] == second[0] else 0.0
    similarity = JaroWinkler.normalized_similarity(first, second)
    if (
        similarity < TYPO_SIMILARITY
        and min(len(first), len(second)) >= _TYPO_MIN_LENGTH
        and OSA.distance(first, second) == 1
    ):
        similarity = TYPO_SIMILARITY
    if (
        similarity < TWO_TYPO_SIMILARITY
        and min(len(first), len(second)) >= _TYPO_MIN_LENGTH
        and first[:_TWO_TYPO_PREFIX] == second[:_TWO_TYPO_PREFIX]
        and OSA.distance(first, second) == _TWO_SLIPS
    ):
        similarity = TWO_TYPO_SIMILARITY
    if _PHONETIC_MIN_SPELLING <= similarity < PHONETIC_SIMILARITY and metaphone(first) == metaphone(
        second
    ):
        similarity = PHONETIC_SIMILARITY
    return similarity


def _given(query: Names, record: Names) -> tuple[float | None, str]:
    best, part = _best(query.given, record.given, given=True)
    if best is not None and best < 1.0 and query.given_whole and record.given_whole:
        # a stray space: compare the first given names whole
        joined = part_similarity(query.given_whole, record.given_whole, given=True)
        if joined > best:
            return joined, record.given_whole
    return best, part


def _family(query: Names, record: Names) -> tuple[float | None, tuple[str, ...]]:
    if not query.family or not (record.family or record.other):
        return None, ()
    if query.family_whole == record.family_whole:
        return 1.0, record.family
    best, part = _best(query.family + query.other, record.family + record.other, given=False)
    if best is None:
        return None, ()
    if record.family_whole and (len(query.family) > 1 or len(record.family) > 1):
        # a stray space or hyphen: compare the family names whole, typos forgiven
        joined = part_similarity(query.family_whole, record.family_whole, given=False)
        if joined > best:
            return joined, record.family
    # Part of a longer name, or an other name, agreeing exactly is strong but not whole.
    return min(best, PART_SIMILARITY), (part,)


def _best(
    query: tuple[str, ...], record: tuple[str, ...], *, given: bool
) -> tuple[float | None, str]:
    """The best similarity of any query part with any record part, and that record part."""
    best: float | None = None
    best_part = ""
    for q in query:
        for r in record:
            similarity = part_similarity(q, r, given=given)
            if best is None or similarity > best:
                best, best_part = similarity, r
    return best, best_part
