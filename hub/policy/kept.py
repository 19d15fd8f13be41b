"""Where the hub keeps the signed bytes of each ISP version it has put in force.

At start the hub loads the kept versions first and the configured folder
second, so a refused or older file can never displace a version already in
force, and a restart never falls back. With several hub instances the kept
versions must be shared, or two instances could enforce different versions:
``FolderKeptIsps`` serves one instance (the embedded default, under its
``data_dir``), ``hub.storage.pg_isps.PgKeptIsps`` every instance of one
PostgreSQL database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hub.errors import InternalError
from hub.identifiers import AuthorityCode

__all__ = ["FolderKeptIsps", "KeptIsps"]


class KeptIsps(Protocol):
    """The signed ISP documents in force, one per authority."""

    def documents(self) -> list[tuple[str, bytes]]:
        """Every kept document as (source named ``…/<CODE>.xml``, exact signed bytes)."""
        ...

    def keep(self, authority: AuthorityCode, data: bytes) -> None:
        """Keep ``data`` as ``authority``'s version in force; raise ``InternalError``."""
        ...


@dataclass(frozen=True)
class FolderKeptIsps:
    """Kept versions as ``<CODE>.xml`` files in one folder, replaced atomically."""

    folder: Path

    def documents(self) -> list[tuple[str, bytes]]:
        """See ``KeptIsps.documents``."""
        if not self.folder.is_dir():
            return []
        try:
            return [(str(p), p.read_bytes()) for p in sorted(self.folder.glob("E09*.xml"))]
        except OSError as exc:
            raise InternalError(f"cannot read kept ISPs in {self.folder}: {exc}") from exc

    def keep(self, authority: AuthorityCode, data: bytes) -> None:
        """See ``KeptIsps.keep``."""
        target = self.folder / f"{authority}.xml"
        partial = self.folder / f".{authority}.xml.partial"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(data)
            os.replace(partial, target)
        except OSError as exc:
            raise InternalError(f"cannot keep {target.name} in {self.folder}: {exc}") from exc
