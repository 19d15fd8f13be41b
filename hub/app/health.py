"""``GET /healthz``: whether the hub can serve, and why not.

The storage is checked on each request (the replay store answers, so a
message could be verified now); ``HealthState`` holds the maintenance
switch and any failure another part of the hub reports.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Final

from aiohttp import web

from hub.app.storage import STORAGE_KEY
from hub.errors import IrtError

__all__ = ["HEALTH_KEY", "HealthState", "health_endpoint"]


@dataclass
class HealthState:
    """What ``/healthz`` reports; ``maintenance`` may be switched at run time."""

    maintenance: bool = False
    failures: dict[str, str] = field(default_factory=dict)


HEALTH_KEY: Final = web.AppKey("irt.health", HealthState)


async def health_endpoint(request: web.Request) -> web.Response:
    """``GET /healthz``: ``ok`` (200), or ``failing`` or ``maintenance`` (503), with each check."""
    state = request.app[HEALTH_KEY]
    checks = {"storage": "ok", "keys": "ok"}
    try:
        await asyncio.to_thread(request.app[STORAGE_KEY].seen.check)
    except IrtError as error:
        checks["storage"] = error.reason
    checks.update(state.failures)
    healthy = all(value == "ok" for value in checks.values())
    status = "maintenance" if state.maintenance else ("ok" if healthy else "failing")
    return web.json_response(
        {"status": status, "checks": checks}, status=200 if status == "ok" else 503
    )
