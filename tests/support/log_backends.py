"""``Backend``: a log database under test, on SQLite or PostgreSQL (see conftest)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hub.log.store import LogStorage

__all__ = ["Backend"]


@dataclass
class Backend:
    """A log database under test, with a side door for tampering like an attacker."""

    name: str
    storage: LogStorage
    tamper: Callable[[str], None]
    """Run SQL (valid on both SQLite and PostgreSQL) straight against the tables."""
