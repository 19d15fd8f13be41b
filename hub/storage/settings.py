"""``[storage]``: where the hub keeps its state.

SQLite (the default) keeps one file per store under the hub's ``data_dir``:
one hub process, nothing to operate. PostgreSQL keeps everything in one
database that several hub processes share behind a load balancer (README,
"Running several hubs"). Opening the chosen backend is
``hub.storage.backends.open_hub_storage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

__all__ = ["Backend", "StorageSettings"]

Backend = Literal["sqlite", "postgresql"]
"""The storage backends, each the name of its package under ``hub.storage``."""

_MAX_POOL: Final = 100
"""More connections per hub process than this would only queue inside PostgreSQL."""


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """``[storage]`` of a hub file."""

    backend: Backend = "sqlite"
    """``sqlite`` (default): files under ``[hub] data_dir``, one hub process.
    ``postgresql``: one database shared by every hub process that names it."""
    dsn: str | None = None
    """``postgresql://user:password@host:5432/database`` (libpq URI; ``?sslmode=…``
    as usual). Required with ``postgresql``; or give ``dsn_env`` instead, so the
    password stays out of the file."""
    pool_size: int = 10
    """Connections each hub process keeps open to PostgreSQL (1–100)."""
    catalogue_refresh_seconds: float = 5.0
    """With ``postgresql``: how often each process reloads the service catalogues
    from the database, so one published to another instance is served here too."""

    def __post_init__(self) -> None:
        if self.backend not in get_args(Backend):
            raise ValueError(f"backend must be one of {', '.join(get_args(Backend))}")
        if self.backend == "postgresql" and not self.dsn:
            raise ValueError("backend 'postgresql' needs dsn (or dsn_env naming a set variable)")
        if self.dsn and not self.dsn.startswith(("postgresql://", "postgres://")):
            raise ValueError("dsn must be a postgresql:// URI")
        if not 1 <= self.pool_size <= _MAX_POOL:
            raise ValueError(f"pool_size must be within 1..{_MAX_POOL}")
        if not 0 < self.catalogue_refresh_seconds <= 3600:
            raise ValueError("catalogue_refresh_seconds must be within (0, 3600]")

    @classmethod
    def from_table(cls, table: dict[str, Any], environ: dict[str, str]) -> StorageSettings:
        """Settings from a ``[storage]`` table; ``dsn_env`` is looked up in ``environ``.

        Raises ``ValueError`` (or ``TypeError``) naming the option at fault.
        """
        options = dict(table)
        variable = options.pop("dsn_env", None)
        if variable is not None:
            if "dsn" in options:
                raise ValueError("give dsn or dsn_env, not both")
            if not isinstance(variable, str) or variable not in environ:
                raise ValueError(f"dsn_env names {variable!r}, which is not set")
            options["dsn"] = environ[variable]
        return cls(**options)
