"""A node's CRL while it runs: its own file, and the CRL the hub serves at its distribution point.

The node watches ``[tls] crl`` and, every ``[tls] crl_reload_seconds``,
fetches the CRL from the hub over mutual TLS at the distribution point its
certificate names (``GET /v1/pki/crl``): a revocation written
at the hub is in force at every node within one interval, without copying
files around. What is fetched is trusted no more than a file: it must verify
against the pinned root and not be older than the CRL in force.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

import aiohttp
from aiohttp import web
from cryptography import x509

from adapters.config import NodeConfig
from hub.errors import RecipientUnavailable
from hub.metrics import Metrics
from hub.pki.crl_watch import CRL_WATCH_KEY, MAX_CRL_BYTES, CrlWatcher, distribution_path
from hub.pki.trust import TrustStore
from hub.transport.tls import client_context

__all__ = ["FETCH_TIMEOUT_SECONDS", "HubCrl", "watch_revocation"]

FETCH_TIMEOUT_SECONDS: Final = 10.0
"""A hub that takes longer to hand over a few kilobytes is treated as unreachable."""


@dataclass
class HubCrl:
    """Fetches the CRL the hub serves at ``url``, over ``session`` once it is open."""

    url: str
    session: aiohttp.ClientSession | None = None

    async def __call__(self) -> bytes:
        """The CRL's bytes (DER); raise ``RecipientUnavailable`` when the hub cannot give them."""
        if self.session is None:
            raise RecipientUnavailable("the node is not running")
        try:
            async with self.session.get(
                self.url, timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
            ) as answer:
                if answer.status != 200:
                    raise RecipientUnavailable(f"{self.url} answered HTTP {answer.status}")
                return await answer.content.read(MAX_CRL_BYTES + 1)
        except aiohttp.ClientError as exc:
            raise RecipientUnavailable(f"cannot fetch {self.url}: {exc}") from exc


def watch_revocation(
    app: web.Application,
    trust: TrustStore,
    *,
    config: NodeConfig,
    metrics: Metrics,
    certificate: x509.Certificate,
) -> CrlWatcher:
    """Watch the CRL file and the hub's distribution point for ``trust`` while ``app`` runs.

    The distribution point is the path ``certificate`` (the node's own) names,
    fetched from the configured hub.
    """
    fetch = HubCrl(config.hub_url.removesuffix("/v1/messages") + distribution_path(certificate))
    watcher = CrlWatcher(
        trust,
        path=config.tls.crl,
        interval=config.tls.crl_reload_seconds,
        metrics=metrics,
        fetch=fetch,
    )
    app[CRL_WATCH_KEY] = watcher

    async def running(app: web.Application) -> AsyncIterator[None]:
        fetch.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=client_context(config.tls))
        )
        try:
            async for _ in watcher.cleanup_ctx(app):
                yield
        finally:
            await fetch.session.close()
            fetch.session = None

    app.cleanup_ctx.append(running)
    return watcher
