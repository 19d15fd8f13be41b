"""``[storage]``: where the hub keeps its state, and opening it.

SQLite (the default) keeps one file per store under the hub's ``data_dir``:
one hub process, nothing to operate. PostgreSQL keeps everything in one
database that several hub processes share behind a load balancer (README,
"Running several hubs"). ``open_hub_storage`` opens every store of the chosen
backend; ``HubStorage.close`` releases them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from hub.clock import Clock
from hub.log.errors import LogStoreError
from hub.log.message_log import GroupCommit, MessageLog
from hub.log.store import LogStorage
from hub.policy.store import KeptIsps
from hub.storage.sqlite.catalogues import SqliteCatalogueStore
from hub.storage.sqlite.isps import FolderKeptIsps
from hub.storage.sqlite.log import LOG_DB_NAME, SqliteLogStorage
from hub.storage.sqlite.referrals import SqliteReferralStore
from hub.storage.sqlite.seen import SqliteSeenStore

if TYPE_CHECKING:
    from hub.storage.postgresql.catalogues import PgCatalogueStore
    from hub.storage.postgresql.database import PgDatabase
    from hub.storage.postgresql.referrals import PgReferralStore
    from hub.storage.postgresql.seen import PgSeenStore

__all__ = [
    "CATALOGUE_DATABASE",
    "REFERRAL_DATABASE",
    "SEEN_DATABASE",
    "Backend",
    "HubStorage",
    "StorageSettings",
    "open_hub_storage",
    "open_sqlite_log",
]

Backend = Literal["sqlite", "postgresql"]

SEEN_DATABASE: Final = "seen.sqlite"
REFERRAL_DATABASE: Final = "referrals.sqlite"
CATALOGUE_DATABASE: Final = "catalogues.sqlite"
KEPT_ISPS_FOLDER: Final = "policy"
"""Folder under ``data_dir`` of the signed ISP versions in force (SQLite backend)."""

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


@dataclass(frozen=True)
class HubStorage:
    """Every store of one hub process, on one backend."""

    seen: SqliteSeenStore | PgSeenStore
    log: LogStorage
    referrals: SqliteReferralStore | PgReferralStore
    catalogues: SqliteCatalogueStore | PgCatalogueStore
    isps: KeptIsps
    """The signed ISP versions in force (shared on PostgreSQL, see hub.policy.store)."""
    database: PgDatabase | None = None
    """The shared PostgreSQL pool, or ``None`` on SQLite."""

    def close(self) -> None:
        """Close every store and the pool."""
        self.seen.close()
        self.log.close()
        self.referrals.close()
        self.catalogues.close()
        if self.database is not None:
            self.database.close()


def open_hub_storage(settings: StorageSettings, data_dir: Path) -> HubStorage:
    """Open (creating and migrating as needed) every store of ``settings.backend``.

    Raises ``InternalError`` (``LogStoreError`` for the log) if one cannot be opened.
    """
    if settings.backend == "postgresql":
        # Imported here: the embedded SQLite hub never loads the driver.
        from hub.storage.postgresql.catalogues import PgCatalogueStore  # noqa: PLC0415
        from hub.storage.postgresql.database import PgDatabase  # noqa: PLC0415
        from hub.storage.postgresql.isps import PgKeptIsps  # noqa: PLC0415
        from hub.storage.postgresql.log import PgLogStorage  # noqa: PLC0415
        from hub.storage.postgresql.referrals import PgReferralStore  # noqa: PLC0415
        from hub.storage.postgresql.seen import PgSeenStore  # noqa: PLC0415

        assert settings.dsn is not None  # checked by StorageSettings
        database = PgDatabase(settings.dsn, pool_size=settings.pool_size)
        return HubStorage(
            seen=PgSeenStore(database),
            log=PgLogStorage(database),
            referrals=PgReferralStore(database),
            catalogues=PgCatalogueStore(database),
            isps=PgKeptIsps(database),
            database=database,
        )
    (data_dir / "log").mkdir(parents=True, exist_ok=True)
    return HubStorage(
        seen=SqliteSeenStore(data_dir / SEEN_DATABASE),
        log=SqliteLogStorage(data_dir / "log" / LOG_DB_NAME),
        referrals=SqliteReferralStore(data_dir / REFERRAL_DATABASE),
        catalogues=SqliteCatalogueStore(data_dir / CATALOGUE_DATABASE),
        isps=FolderKeptIsps(data_dir / KEPT_ISPS_FOLDER),
    )


def open_sqlite_log(
    directory: Path,
    *,
    read_only: bool = False,
    clock: Clock | None = None,
    group_commit: GroupCommit | None = None,
) -> MessageLog:
    """The message log in ``directory`` (``log.sqlite``), created unless ``read_only``.

    Raises ``LogStoreError`` if it cannot be opened.
    """
    if not read_only:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LogStoreError(f"cannot create log directory {directory}: {exc}") from exc
    storage = SqliteLogStorage(directory / LOG_DB_NAME, read_only=read_only)
    return MessageLog(storage, clock=clock, group_commit=group_commit)
