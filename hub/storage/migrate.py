"""Versioned schema migrations: the files and their order, shared by every backend.

Migrations are SQL files named ``NNNN_name.sql`` in a ``migrations/`` folder
beside the backend that runs them (``hub/storage/sqlite/migrations/<component>/``,
``hub/storage/postgresql/migrations/``). Each database records what was
applied in ``schema_migrations (version, name, applied_at)``; each backend's
``migrate`` module applies, in version order, every file not yet recorded, each
in one transaction with its record, and returns the versions it applied (none
the second time).

A migration that was applied is never edited: a change is a new file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from hub.errors import InternalError

__all__ = ["Migration", "load_migrations"]

_FILE_NAME: Final = re.compile(r"(\d{4})_([a-z0-9_]{1,60})\.sql\Z")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema change: its version, name and SQL."""

    version: int
    name: str
    sql: str


@cache
def load_migrations(folder: Path) -> tuple[Migration, ...]:
    """The migrations in ``folder``, by version.

    Raises ``InternalError`` if a file is misnamed, two share a version, or
    the versions do not run 1, 2, 3… without a gap.
    """
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise InternalError(f"migration file {path} is not named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise InternalError(f"migrations in {folder} are numbered {versions}, not 1..n")
    return tuple(found)
