"""The shared backend: every store in one PostgreSQL database, one pool per hub process.

Several hub processes behind a load balancer name the same database (README,
"Running several hubs"). ``open_storage`` opens every store of the hub over
one ``PgDatabase`` pool (``hub.storage.backends.open_hub_storage`` calls it
for ``[storage] backend = "postgresql"``). Importing this package loads the
asyncpg driver (the ``postgresql`` extra), so nothing else imports it.
"""

from __future__ import annotations

from pathlib import Path

from hub.storage.backends import HubStorage
from hub.storage.postgresql.catalogues import PgCatalogueStore
from hub.storage.postgresql.database import PgDatabase
from hub.storage.postgresql.isps import PgKeptIsps
from hub.storage.postgresql.log import PgLogStorage
from hub.storage.postgresql.referrals import PgReferralStore
from hub.storage.postgresql.seen import PgSeenStore
from hub.storage.settings import StorageSettings

__all__ = ["open_storage"]


def open_storage(settings: StorageSettings, data_dir: Path) -> HubStorage:
    """Every store in the database ``settings.dsn``, migrated as needed; nothing in ``data_dir``.

    Raises ``InternalError`` (``LogStoreError`` for the log) if the database
    cannot be reached or migrated.
    """
    del data_dir  # everything is in the database
    assert settings.dsn is not None  # checked by StorageSettings
    database = PgDatabase(settings.dsn, pool_size=settings.pool_size)
    return HubStorage(
        seen=PgSeenStore(database),
        log=PgLogStorage(database),
        referrals=PgReferralStore(database),
        catalogues=PgCatalogueStore(database),
        isps=PgKeptIsps(database),
        shared=database,
        shared_by_processes=True,
    )
