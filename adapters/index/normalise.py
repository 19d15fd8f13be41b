"""Folding names and postcodes into the comparable forms blocking and scoring use.

A name is folded to upper-case ASCII letters (accents stripped, apostrophes
and full stops dropped, so ``O'Brien`` and ``OBrien`` agree) and split into
parts at spaces and hyphens (``Smith-Jones`` gives ``SMITH`` and ``JONES``).
Names in scripts with no Latin letters fold to nothing and take no part in
matching. Folding and phonetic coding are cached: a borough's names repeat.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Final

import jellyfish

__all__ = [
    "fold",
    "metaphone",
    "name_parts",
    "postcode_district",
    "postcode_sector",
    "soundex",
]

_CACHE_SIZE: Final = 1 << 16
"""Distinct name parts held in each cache: a London borough's whole index has
far fewer, so every lookup after the first is a dictionary hit."""
_DROPPED: Final = str.maketrans("", "", "'’.")
_SEPARATORS: Final = str.maketrans("-", " ")


@lru_cache(maxsize=_CACHE_SIZE)
def fold(name: str) -> str:
    """Upper-case ASCII letters and single spaces only; hyphens become spaces."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_DROPPED).translate(_SEPARATORS))
    letters = [c for c in decomposed.upper() if ("A" <= c <= "Z") or c == " "]
    return " ".join("".join(letters).split())


@lru_cache(maxsize=_CACHE_SIZE)
def name_parts(name: str) -> tuple[str, ...]:
    """The folded parts of one name: ``"Smith-Jones"`` gives ``("SMITH", "JONES")``."""
    return tuple(fold(name).split())


@lru_cache(maxsize=_CACHE_SIZE)
def metaphone(part: str) -> str:
    """Metaphone code of a folded name part (``MOHAMMED`` and ``MUHAMMAD`` give ``MHMT``)."""
    return jellyfish.metaphone(part)


@lru_cache(maxsize=_CACHE_SIZE)
def soundex(part: str) -> str:
    """Soundex code of a folded name part; coarser than metaphone, kinder to typos."""
    return jellyfish.soundex(part)


def postcode_district(postcode: str) -> str:
    """The outward code of a normalised postcode: ``SW2 1RW`` gives ``SW2``."""
    return postcode.split(" ", 1)[0]


def postcode_sector(postcode: str) -> str:
    """The outward code and first inward digit: ``SW2 1RW`` gives ``SW2 1``."""
    return postcode[:-2]
