"""A node's CRL while it runs: its own file, and the CRL the hub serves at its distribution point.

The node watches ``[tls] crl`` and, every ``[tls] crl_reload_seconds``,
fetches ``GET /v1/pki/crl`` from the hub over mutual TLS (the distribution
point the hub serves, ``hub.pki.crl_watch.CRL_PATH``): a revocation written
at the hub is in force at every node within one interval, without copying
files around. What is fetched is trusted no more than a file: it must verify
against the pinned root and not be older than the CRL in force.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

import aiohttp
from aiohttp import web

from adapters.config import NodeConfig
from hub.errors import RecipientUnavailable
from hub.metrics import Metrics
from hub.pki.crl_watch import CRL_PATH, CRL_WATCH_KEY, MAX_CRL_BYTES, CrlWatcher
from hub.pki.trust import TrustStore
from hub.transport.tls import client_context

__all__ = ["FETCH_TIMEOUT_SECONDS", "watch_revocation"]

FETCH_TIMEOUT_SECONDS: Final = 10.0
"""A hub that takes longer to hand over a few kilobytes is treated as unreachable."""


def watch_revocation(
    app: web.Application, trust: TrustStore, *, config: NodeConfig, metrics: Metrics
) -> CrlWatcher:
    """Watch the CRL file and the hub's distribution point for ``trust`` while ``app`` runs."""
    url = config.hub_url.removesuffix("/v1/messages") + CRL_PATH
    session: aiohttp.ClientSession | None = None

    async def fetch() -> bytes:
        if session is None:
            raise RecipientUnavailable("the node is not running")
        try:
            async with session.get(
                url, timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
            ) as answer:
                if answer.status != 200:
                    raise RecipientUnavailable(f"{url} answered HTTP {answer.status}")
                return await answer.content.read(MAX_CRL_BYTES + 1)
        except aiohttp.ClientError as exc:
            raise RecipientUnavailable(f"cannot fetch {url}: {exc}") from exc

    watcher = CrlWatcher(
        trust,
        path=config.tls.crl,
        interval=config.tls.crl_reload_seconds,
        metrics=metrics,
        fetch=fetch,
    )
    app[CRL_WATCH_KEY] = watcher

    async def running(app: web.Application) -> AsyncIterator[None]:
        nonlocal session
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=client_context(config.tls))
        )
        try:
            async for _ in watcher.cleanup_ctx(app):
                yield
        finally:
            await session.close()
            session = None

    app.cleanup_ctx.append(running)
    return watcher
