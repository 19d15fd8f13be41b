"""The hub's routes (SPEC §4), besides the message log's (``hub.log.routes``).

``POST /v1/messages`` (the message endpoint), ``GET /healthz``,
``GET /metrics`` and ``GET /v1/directory`` (signed).
"""

from __future__ import annotations

from aiohttp import web

from hub.app.directory import directory_endpoint
from hub.app.health import HEALTH_KEY, HealthState, health_endpoint
from hub.config import HubConfig
from hub.endpoint import ENDPOINT_KEY, MessageEndpoint, metrics_endpoint

__all__ = ["add_routes"]


def add_routes(app: web.Application, endpoint: MessageEndpoint, *, config: HubConfig) -> None:
    """Route the hub's requests on ``app``: messages to ``endpoint``, health, metrics, directory.

    ``/healthz`` starts in maintenance if ``[hub] maintenance`` says so.
    """
    app[ENDPOINT_KEY] = endpoint
    app[HEALTH_KEY] = HealthState(maintenance=config.maintenance)
    app.router.add_post("/v1/messages", endpoint.handle)
    app.router.add_get("/healthz", health_endpoint)
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/v1/directory", directory_endpoint)
