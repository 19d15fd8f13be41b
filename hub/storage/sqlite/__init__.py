"""The embedded backend: one SQLite file per store under the hub's ``data_dir``.

One hub process, nothing to operate. ``open_storage`` opens every store of
the hub (``hub.storage.backends.open_hub_storage`` calls it for
``[storage] backend = "sqlite"``, the default).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from hub.storage.backends import HubStorage
from hub.storage.settings import StorageSettings
from hub.storage.sqlite.catalogues import SqliteCatalogueStore
from hub.storage.sqlite.isps import FolderKeptIsps
from hub.storage.sqlite.log import LOG_DB_NAME, SqliteLogStorage
from hub.storage.sqlite.referrals import SqliteReferralStore
from hub.storage.sqlite.seen import SqliteSeenStore

__all__ = [
    "CATALOGUE_DATABASE",
    "KEPT_ISPS_FOLDER",
    "LOG_FOLDER",
    "REFERRAL_DATABASE",
    "SEEN_DATABASE",
    "open_storage",
]

SEEN_DATABASE: Final = "seen.sqlite"
REFERRAL_DATABASE: Final = "referrals.sqlite"
CATALOGUE_DATABASE: Final = "catalogues.sqlite"
LOG_FOLDER: Final = "log"
"""Folder under ``data_dir`` of the message log (``log.sqlite``)."""
KEPT_ISPS_FOLDER: Final = "policy"
"""Folder under ``data_dir`` of the signed ISP versions in force."""


def open_storage(settings: StorageSettings, data_dir: Path) -> HubStorage:
    """Every store in its file under ``data_dir``, created and migrated as needed.

    ``settings`` holds nothing for this backend. Raises ``InternalError``
    (``LogStoreError`` for the log) if a file cannot be opened.
    """
    del settings  # every option of [storage] is PostgreSQL's
    (data_dir / LOG_FOLDER).mkdir(parents=True, exist_ok=True)
    return HubStorage(
        seen=SqliteSeenStore(data_dir / SEEN_DATABASE),
        log=SqliteLogStorage(data_dir / LOG_FOLDER / LOG_DB_NAME),
        referrals=SqliteReferralStore(data_dir / REFERRAL_DATABASE),
        catalogues=SqliteCatalogueStore(data_dir / CATALOGUE_DATABASE),
        isps=FolderKeptIsps(data_dir / KEPT_ISPS_FOLDER),
    )
