"""The hub's storage for the application's lifetime: opened first, closed last.

``open_storage`` opens every store of ``[storage]``'s backend under the
data folder; ``hold_storage`` puts them in the application, which closes
them when everything that uses them has stopped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from hub.config import HubConfig
from hub.storage.backends import HubStorage, open_hub_storage

__all__ = ["STORAGE_KEY", "hold_storage", "open_storage"]

STORAGE_KEY: Final = web.AppKey("irt.storage", HubStorage)


def open_storage(config: HubConfig) -> HubStorage:
    """Every store of ``config.storage``, created and migrated as needed.

    Creates the data folder. Raises ``InternalError`` (``LogStoreError`` for
    the log) if a store cannot be opened.
    """
    config.data_dir.mkdir(parents=True, exist_ok=True)
    return open_hub_storage(config.storage, config.data_dir)


def hold_storage(app: web.Application, storage: HubStorage) -> None:
    """Put ``storage`` in ``app`` and close it at shutdown, after everything else.

    Call it before any other ``cleanup_ctx`` is added: cleanup unwinds in
    reverse order, so the stores close after every part that uses them.
    """
    app[STORAGE_KEY] = storage

    async def close_last(app: web.Application) -> AsyncIterator[None]:
        yield
        # The message log has closed its storage already, after its last
        # commit; closing it again does nothing.
        app[STORAGE_KEY].close()

    app.cleanup_ctx.append(close_last)
