"""The names of the parties: the 33 London authorities and the hub."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from hub.identifiers import ALL_AUTHORITIES, HUB, AuthorityCode

__all__ = ["AUTHORITY_NAMES", "PARTIES"]

_NAMES: Final = (
    "City of London",
    "Barking and Dagenham",
    "Barnet",
    "Bexley",
    "Brent",
    "Bromley",
    "Camden",
    "Croydon",
    "Ealing",
    "Enfield",
    "Greenwich",
    "Hackney",
    "Hammersmith and Fulham",
    "Haringey",
    "Harrow",
    "Havering",
    "Hillingdon",
    "Hounslow",
    "Islington",
    "Kensington and Chelsea",
    "Kingston upon Thames",
    "Lambeth",
    "Lewisham",
    "Merton",
    "Newham",
    "Redbridge",
    "Richmond upon Thames",
    "Southwark",
    "Sutton",
    "Tower Hamlets",
    "Waltham Forest",
    "Wandsworth",
    "Westminster",
)

AUTHORITY_NAMES: Final[Mapping[AuthorityCode, str]] = MappingProxyType(
    {**dict(zip(ALL_AUTHORITIES, _NAMES, strict=True)), HUB: "London IRT Hub"}
)
"""GSS code (and ``HUB``) → the party's name, in code order."""

PARTIES: Final[tuple[AuthorityCode, ...]] = (*ALL_AUTHORITIES, HUB)
"""Every party that holds keys: the 33 authorities, then the hub."""
