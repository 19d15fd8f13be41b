"""Where the hub keeps the signed bytes of each ISP version it has put in force.

At start the hub loads the kept versions first and the configured folder
second, so a refused or older file can never displace a version already in
force, and a restart never falls back. With several hub instances the kept
versions must be shared, or two instances could enforce different versions:
``hub.storage.sqlite.isps.FolderKeptIsps`` serves one instance (the embedded
default, under its ``data_dir``), ``hub.storage.postgresql.isps.PgKeptIsps`` every instance of one
PostgreSQL database.
"""

from __future__ import annotations

from typing import Protocol

from hub.identifiers import AuthorityCode

__all__ = ["KeptIsps"]


class KeptIsps(Protocol):
    """The signed ISP documents in force, one per authority."""

    def documents(self) -> list[tuple[str, bytes]]:
        """Every kept document as (source named ``…/<CODE>.xml``, exact signed bytes)."""
        ...

    def keep(self, authority: AuthorityCode, data: bytes) -> None:
        """Keep ``data`` as ``authority``'s version in force; raise ``InternalError``."""
        ...
