"""Every store of one hub process, typed by the Protocols its concepts own, and opening them.

Each backend is one package under ``hub.storage`` named as in
``hub.storage.settings.Backend`` (``sqlite``, ``postgresql``) whose
``open_storage(settings, data_dir)`` returns a ``HubStorage``.
``open_hub_storage`` imports only the package chosen, so the embedded SQLite
hub never loads the PostgreSQL driver, and a third backend is one new folder
plus its name in ``Backend``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hub.log.store import LogStorage
from hub.policy.store import KeptIsps
from hub.referral.store import ReferralStorage
from hub.replay.store import SeenStorage
from hub.services.store import CatalogueStorage
from hub.storage.settings import StorageSettings

__all__ = ["Closable", "HubStorage", "OpenStorage", "open_hub_storage"]


class Closable(Protocol):
    """Something held open that is released once."""

    def close(self) -> None:
        """Release it; closing it again does nothing."""
        ...


@dataclass(frozen=True)
class HubStorage:
    """Every store of one hub process, on one backend."""

    seen: SeenStorage
    """Replay protection's sightings (``hub.replay.store``)."""
    log: LogStorage
    """The message log's leaves, messages and checkpoints (``hub.log.store``)."""
    referrals: ReferralStorage
    """Referrals, their statuses and the outbox (``hub.referral.store``)."""
    catalogues: CatalogueStorage
    """The latest service catalogue of each authority (``hub.services.store``)."""
    isps: KeptIsps
    """The signed ISP versions in force (``hub.policy.store``); nothing to close."""
    shared: Closable | None = None
    """What the stores above share, closed after them (PostgreSQL's connection
    pool); ``None`` when each store owns its own file (SQLite)."""
    shared_by_processes: bool = False
    """Whether several hub processes may use these stores at once, so each must
    reload what the others write (the service catalogues)."""

    def close(self) -> None:
        """Close every store, then what they share."""
        self.seen.close()
        self.log.close()
        self.referrals.close()
        self.catalogues.close()
        if self.shared is not None:
            self.shared.close()


OpenStorage = Callable[[StorageSettings, Path], HubStorage]
"""A backend package's ``open_storage(settings, data_dir)``: every store,
created and migrated as needed; raises ``InternalError`` (``LogStoreError``
for the log) if one cannot be opened."""


def open_hub_storage(settings: StorageSettings, data_dir: Path) -> HubStorage:
    """Open (creating and migrating as needed) every store of ``settings.backend``.

    Raises ``InternalError`` (``LogStoreError`` for the log) if one cannot be opened.
    """
    # Imported by name: only the chosen backend (and its driver) is ever loaded.
    backend = importlib.import_module(f"hub.storage.{settings.backend}")
    open_storage: OpenStorage = backend.open_storage
    return open_storage(settings, data_dir)
