"""How well two postal addresses agree, forgiving the ways one address is written.

An address is read as its numbers (house, flat: ``Flat 3, 12a Acre Lane``,
``3/12A Acre Lane`` and ``12A Acre Lane, Flat 3`` all give ``3`` and ``12A``)
and its words, folded to upper-case ASCII with common street abbreviations
written out (``Rd``/``Road``) and flat markers dropped (``Flat``, ``Apt``),
since records and practitioners write both ways. ``compare_addresses`` grades the
agreement:

- ``same``: the words agree and so do the numbers, or one side's numbers
  are all among the other's (a flat number left out), or neither side has
  any (a named house: the words are all there is). Words agree when at
  least half the words of the shorter side are found in the other, one of
  them a name rather than a street type (``Lane``, ``Road``): a word is
  found when spelt alike (rapidfuzz ratio at least ``WORD_AGREES``), so a
  typo or a locality line given on one side only still agrees;
- ``street``: the words agree but the numbers differ or only one side has any:
  the same street, another door;
- ``different``: anything else.

Either side with no words at all compares as nothing (``None``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final, Literal

from rapidfuzz import fuzz

__all__ = ["WORD_AGREES", "AddressAgreement", "compare_addresses"]

AddressAgreement = Literal["same", "street", "different"]

WORD_AGREES: Final = 80.0
"""Similarity (0-100) from which two words of four or more letters are one word
misspelt: ``Coldharbour``/``Coldharbor``, not ``Acre``/``Acorn``."""
_SHORT_WORD: Final = 4
_CACHE_SIZE: Final = 1 << 14
_NUMBER: Final = re.compile(r"\d+[A-Z]?\b")
_WORD: Final = re.compile(r"[A-Z]+")
_DROPPED_WORDS: Final = frozenset({"FLAT", "APARTMENT", "APT", "UNIT", "NO", "THE", "OF"})
_ABBREVIATIONS: Final = {
    "RD": "ROAD",
    "ST": "STREET",
    "AVE": "AVENUE",
    "AV": "AVENUE",
    "LN": "LANE",
    "GDNS": "GARDENS",
    "GRN": "GREEN",
    "CT": "COURT",
    "CRT": "COURT",
    "CRES": "CRESCENT",
    "CL": "CLOSE",
    "DR": "DRIVE",
    "PL": "PLACE",
    "SQ": "SQUARE",
    "TCE": "TERRACE",
    "HSE": "HOUSE",
    "HO": "HOUSE",
    "PK": "PARK",
    "PDE": "PARADE",
    "WY": "WAY",
    "EST": "ESTATE",
}
_STREET_TYPES: Final = frozenset(_ABBREVIATIONS.values()) | {"LONDON", "ROW", "HILL", "MEWS"}


@lru_cache(maxsize=_CACHE_SIZE)
def _read(address: str) -> tuple[frozenset[str], frozenset[str]]:
    """The numbers of an address and its words."""
    text = unicodedata.normalize("NFKD", address).upper()
    text = "".join(c for c in text if c.isascii())
    numbers = frozenset(_NUMBER.findall(text))
    words = (_ABBREVIATIONS.get(w, w) for w in _WORD.findall(_NUMBER.sub(" ", text)))
    return numbers, frozenset(w for w in words if w not in _DROPPED_WORDS)


def _found(word: str, words: frozenset[str]) -> bool:
    if word in words:
        return True
    return len(word) >= _SHORT_WORD and any(
        len(other) >= _SHORT_WORD and fuzz.ratio(word, other) >= WORD_AGREES for other in words
    )


def _words_agree(asked: frozenset[str], held: frozenset[str]) -> bool:
    shorter, longer = sorted((asked, held), key=len)
    found = [word for word in shorter if _found(word, longer)]
    return 2 * len(found) >= len(shorter) and any(w not in _STREET_TYPES for w in found)


def compare_addresses(asked: str, held: str) -> AddressAgreement | None:
    """How the query's address agrees with a record's (grades in the module docstring)."""
    asked_numbers, asked_words = _read(asked)
    held_numbers, held_words = _read(held)
    if not asked_words or not held_words:
        return None
    if not _words_agree(asked_words, held_words):
        return "different"
    if (
        asked_numbers
        and held_numbers
        and (asked_numbers <= held_numbers or held_numbers <= asked_numbers)
    ):
        return "same"
    return "street"
