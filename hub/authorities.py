"""The names of the parties: every authority of the directory file, and the hub.

Names come from the one list (``hub.authority_list``, read from the deployed
directory file), so a certificate's organisation name and the name an
operator edits are the same text.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from hub.authority_list import LISTED
from hub.identifiers import ALL_AUTHORITIES, HUB, AuthorityCode

__all__ = ["AUTHORITY_NAMES", "PARTIES"]

AUTHORITY_NAMES: Final[Mapping[AuthorityCode, str]] = MappingProxyType(
    {**{AuthorityCode(a.code): a.name for a in LISTED}, HUB: "London IRT Hub"}
)
"""GSS code (and ``HUB``) → the party's name, in code order."""

PARTIES: Final[tuple[AuthorityCode, ...]] = (*ALL_AUTHORITIES, HUB)
"""Every party that holds keys: the authorities in code order, then the hub."""
