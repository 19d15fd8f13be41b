"""The hub's CRL while it runs: reloaded without a restart, and served to the nodes.

A ``CrlWatcher`` (``hub.pki.crl_watch``) watches ``[tls] crl`` for the
verifier's trust store and, once ``hub.serve`` has built it, the server TLS
context; a refused CRL shows as ``crl`` in ``/healthz``. ``GET /v1/pki/crl``
(mutual TLS, like every ``/v1`` path) answers the CRL in force, DER-encoded
as RFC 5280 §4.2.1.13 distribution points are: the nodes fetch it from there.
"""

from __future__ import annotations

from aiohttp import web
from cryptography.hazmat.primitives import serialization

from hub.app.health import HEALTH_KEY
from hub.config import HubConfig
from hub.metrics import Metrics
from hub.pki.crl_watch import CRL_PATH, CRL_WATCH_KEY, CrlWatcher
from hub.pki.trust import TrustStore

__all__ = ["watch_revocation"]


def watch_revocation(
    app: web.Application, trust: TrustStore, *, config: HubConfig, metrics: Metrics
) -> CrlWatcher:
    """Watch the hub's CRL file for ``trust`` while ``app`` runs, and serve the CRL in force."""

    def report(alarm: str | None) -> None:
        health = app.get(HEALTH_KEY)
        if health is None:
            return
        if alarm is None:
            health.failures.pop("crl", None)
        else:
            health.failures["crl"] = f"a new CRL was refused, the previous one is in force: {alarm}"

    watcher = CrlWatcher(
        trust,
        path=config.tls.crl,
        interval=config.tls.crl_reload_seconds,
        metrics=metrics,
        report=report,
    )
    app[CRL_WATCH_KEY] = watcher

    app.cleanup_ctx.append(watcher.cleanup_ctx)

    async def crl_endpoint(request: web.Request) -> web.Response:
        crl = trust.crl
        if crl is None:
            raise web.HTTPNotFound(text="this hub checks no CRL")
        return web.Response(
            body=crl.public_bytes(serialization.Encoding.DER), content_type="application/pkix-crl"
        )

    app.router.add_get(CRL_PATH, crl_endpoint)
    return watcher
