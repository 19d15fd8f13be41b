"""The hub's service catalogues: loaded from storage at start, reloaded when shared.

When several hub processes share the storage (PostgreSQL), each reloads
the catalogues every ``[storage] catalogue_refresh_seconds`` and so serves,
within that period, a catalogue published to another. A process alone with
its storage (SQLite) holds them current in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from hub.config import HubConfig
from hub.errors import IrtError
from hub.messenger import Messenger
from hub.services.handlers import CatalogueHandlers
from hub.services.store import CatalogueStore
from hub.storage.backends import HubStorage

__all__ = ["build_catalogues", "refresh_catalogues"]

_LOG: Final = logging.getLogger(__name__)


def build_catalogues(
    config: HubConfig, *, messenger: Messenger, store: CatalogueStore
) -> CatalogueHandlers:
    """The ``ServiceCatalogue`` and ``ServiceSearch`` handlers, holding every stored catalogue.

    Raises ``InternalError`` if the store cannot be read.
    """
    catalogues = CatalogueHandlers(
        messenger=messenger,
        store=store,
        clock=messenger.clock,
        stale_after=config.referrals.catalogue_stale_after,
    )
    catalogues.load()
    return catalogues


def refresh_catalogues(
    app: web.Application,
    catalogues: CatalogueHandlers,
    *,
    storage: HubStorage,
    config: HubConfig,
) -> None:
    """Reload ``catalogues`` periodically while ``app`` runs, if processes share ``storage``."""
    if not storage.shared_by_processes:
        return
    period = config.storage.catalogue_refresh_seconds

    async def refresh() -> None:
        while True:
            await asyncio.sleep(period)
            try:
                await catalogues.messenger.run(catalogues.load)
            except IrtError as error:
                _LOG.error("service catalogues not reloaded: %s", error)

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(refresh(), name="irt-catalogue-refresh")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(lifetime)
