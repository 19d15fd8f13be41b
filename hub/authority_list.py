"""The one list of authorities: the directory file, read for each authority's code and name.

Every authority of the interchange is listed once, in the deployed directory
``hub/directory/london.toml`` (code, name, sub-regional group, neighbours,
nodes). Whatever needs only the list takes it from here instead of writing
it again: ``hub.identifiers.ALL_AUTHORITIES`` (the closed set of codes),
``hub.authorities.AUTHORITY_NAMES`` (names, for certificates and people),
and the synthetic generator's per-borough data, which is keyed by code and
checked against it. ``hub.directory`` loads the same file in full and checks
the rest (groups, neighbours, nodes).

The file is read once, when this module is first imported, because every
layer builds constants from the list. A list that cannot be read, an entry
without a code of GSS shape or without a name, and a code listed twice
raise ``SchemaInvalid`` naming the file and the entry.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hub.errors import SchemaInvalid

__all__ = ["DEFAULT_DIRECTORY_PATH", "LISTED", "ListedAuthority", "read_authority_list"]

DEFAULT_DIRECTORY_PATH: Final = Path(__file__).with_name("directory") / "london.toml"
"""The deployed directory: the one list of authorities."""

# An ONS GSS code: a country letter and eight digits (E09000022 is Lambeth).
_GSS_CODE: Final = re.compile(r"[ENSW][0-9]{8}\Z")


@dataclass(frozen=True, slots=True)
class ListedAuthority:
    """One ``[[authority]]`` entry of the directory file, as far as the list goes."""

    code: str
    """The authority's ONS GSS code."""
    name: str
    """The authority's name, as certificates and people give it."""


def read_authority_list(path: Path) -> tuple[ListedAuthority, ...]:
    """The authorities ``path`` lists, in code order.

    Raises ``SchemaInvalid`` naming ``path`` (and the entry) when the file
    cannot be read, lists no authority, or has an entry whose code is not of
    GSS shape, is listed twice, or has no name.
    """
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8")).get("authority")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SchemaInvalid(f"{path}: cannot read the list of authorities: {exc}") from exc
    if not isinstance(entries, list) or not entries:
        raise SchemaInvalid(f"{path}: no [[authority]] entries")
    listed: dict[str, ListedAuthority] = {}
    for index, entry in enumerate(entries, start=1):
        where = f"{path}: [[authority]] entry {index}"
        code = entry.get("code") if isinstance(entry, dict) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(code, str) or not _GSS_CODE.match(code):
            raise SchemaInvalid(f"{where}: code {code!r} is not a GSS code")
        if code in listed:
            raise SchemaInvalid(f"{where}: duplicate code {code}")
        if not isinstance(name, str) or not name.strip():
            raise SchemaInvalid(f"{where} ({code}): a non-empty name is required")
        listed[code] = ListedAuthority(code, name.strip())
    return tuple(listed[code] for code in sorted(listed))


LISTED: Final = read_authority_list(DEFAULT_DIRECTORY_PATH)
"""The authorities of the deployed directory, in code order."""
