"""How the hub posts to the nodes: HTTPS with mutual TLS, one pool for the application."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from hub.config import HubConfig
from hub.transport.delivery import Delivery, HttpsDelivery
from hub.transport.tls import client_context

__all__ = ["close_delivery", "https_delivery"]


def https_delivery(config: HubConfig) -> HttpsDelivery:
    """Delivery over mutual TLS with the hub's client certificate (``[tls]``, ``[limits]``).

    Raises ``InternalError`` if the certificate or key cannot be loaded.
    """
    return HttpsDelivery(
        client_context(config.tls), connections_per_host=config.limits.connections_per_node
    )


def close_delivery(app: web.Application, delivery: Delivery) -> None:
    """Close ``delivery``'s connections when ``app`` shuts down."""

    async def connections(_app: web.Application) -> AsyncIterator[None]:
        yield
        await delivery.close()

    app.cleanup_ctx.append(connections)
