"""A node's ``/healthz``: its index, certificates, CRL and the hub, checked on every request.

The answer (SPEC §4) is JSON:

    {"status": "ok", "authority": "E09000022",
     "checks": {"index": "ok", "signing_certificate": "ok", "tls_certificate": "ok",
                "crl": "ok", "hub": "ok"},
     "index": {"children": 100000, "imported_at": "…", "age_hours": 7.5, "max_age_hours": 48},
     "signing_certificate": {"not_after": "…", "days_left": 340.1}, …}

``status`` is ``failing`` (HTTP 503) when a check of
``adapters.node.readiness`` fails, ``alarm`` (503) when the witness saw an
inconsistent hub log, ``degraded`` (200) for warnings: a certificate or the
CRL near expiry, no CRL, or the hub unreachable. An unreachable hub leaves
answers right (the node only answers the hub's requests), so it does not
take the node out of service; it is reported so that an operator looks.

The hub is probed in the background every ``HUB_PROBE_SECONDS`` (``GET
/healthz`` over mutual TLS, any HTTP answer counting as reachable), so a
load balancer polling ``/healthz`` never waits on the network.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import aiohttp
from aiohttp import web
from cryptography import x509

from adapters.config import NodeConfig
from adapters.index.base import ChildIndex
from adapters.node.readiness import (
    Check,
    certificate_check,
    crl_check,
    index_check,
)
from adapters.witness.wiring import WITNESS_KEY
from hub.clock import Clock
from hub.errors import InternalError
from hub.pki.crl_watch import CRL_WATCH_KEY, CrlWatcher
from hub.transport.tls import client_context
from hub.verify import EnvelopeVerifier

__all__ = [
    "HEALTH_KEY",
    "HUB_PROBE_SECONDS",
    "HUB_PROBE_TIMEOUT_SECONDS",
    "HubProbe",
    "NodeHealth",
    "attach_health",
]

HUB_PROBE_SECONDS: Final = 30.0
"""How often the hub is probed: often enough that an outage shows within a
minute, rarely enough to cost the hub nothing."""
HUB_PROBE_TIMEOUT_SECONDS: Final = 5.0
"""A hub that takes longer to answer its own health check is as good as down."""


@dataclass
class HubProbe:
    """The outcome of the latest probe of the hub; ``None`` until the first ends."""

    url: str
    reachable: bool | None = None
    checked_at: datetime | None = None
    error: str | None = None

    def check(self) -> Check:
        """The hub's reachability as a ``Check``: a warning at worst."""
        facts: dict[str, object] = {"url": self.url, "reachable": self.reachable}
        if self.checked_at is not None:
            facts["checked_at"] = self.checked_at.isoformat()
        if self.reachable is None:
            return Check("ok", "ok", {**facts, "note": "not probed yet"})
        if not self.reachable:
            return Check("warning", f"the hub is unreachable: {self.error}", facts)
        return Check("ok", "ok", facts)

    async def probe(self, session: aiohttp.ClientSession, now: datetime) -> None:
        """Ask the hub's ``/healthz`` once and record whether it answered."""
        try:
            async with asyncio.timeout(HUB_PROBE_TIMEOUT_SECONDS):
                async with session.get(self.url) as response:
                    await response.read()
            self.reachable, self.error = True, None
        except TimeoutError:
            self.reachable = False
            self.error = f"no answer within {HUB_PROBE_TIMEOUT_SECONDS:g} s"
        except (aiohttp.ClientError, OSError) as exc:
            self.reachable, self.error = False, str(exc) or type(exc).__name__
        self.checked_at = now


@dataclass
class NodeHealth:
    """What ``/healthz`` checks; the certificates are those the node loaded at start."""

    authority: str
    index: ChildIndex
    index_max_age: timedelta
    verifier: EnvelopeVerifier
    """Its trust store holds the CRL in force."""
    signing_certificate: x509.Certificate
    tls_certificate: x509.Certificate
    clock: Clock
    hub: HubProbe
    crl_watch: CrlWatcher | None = None
    """Its alarm, when a new CRL was refused, fails the ``crl`` check."""

    def evaluate(self) -> dict[str, Check]:
        """Every check, at the clock's now."""
        now = self.clock.now()
        return {
            "index": index_check(self.index, max_age=self.index_max_age, now=now),
            "signing_certificate": certificate_check(self.signing_certificate, now=now),
            "tls_certificate": certificate_check(self.tls_certificate, now=now),
            "crl": self._crl(now),
            "hub": self.hub.check(),
        }

    def _crl(self, now: datetime) -> Check:
        check = crl_check(self.verifier.trust.crl, now=now)
        watcher = self.crl_watch
        if watcher is not None and watcher.alarm is not None:
            return Check(
                "failing",
                f"a new CRL was refused, the previous one is in force: {watcher.alarm}",
                check.facts,
            )
        return check


HEALTH_KEY: Final = web.AppKey("irt.node_health", NodeHealth)


def attach_health(
    app: web.Application,
    *,
    config: NodeConfig,
    index: ChildIndex,
    verifier: EnvelopeVerifier,
    signing_certificate: x509.Certificate,
    clock: Clock,
) -> None:
    """Serve ``/healthz`` on ``app`` and probe the hub while it runs.

    Raises ``InternalError`` when the TLS certificate cannot be read.
    """
    health = NodeHealth(
        authority=config.authority,
        index=index,
        index_max_age=config.index_max_age,
        verifier=verifier,
        signing_certificate=signing_certificate,
        tls_certificate=_certificate(config.tls.cert),
        clock=clock,
        hub=HubProbe(config.hub_url.removesuffix("/v1/messages") + "/healthz"),
        crl_watch=app.get(CRL_WATCH_KEY),
    )
    app[HEALTH_KEY] = health

    async def probing(app: web.Application) -> AsyncIterator[None]:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=client_context(config.tls))
        )
        task = asyncio.create_task(_probe_forever(health, session))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await session.close()

    app.cleanup_ctx.append(probing)
    app.router.add_get("/healthz", _health)


async def _probe_forever(health: NodeHealth, session: aiohttp.ClientSession) -> None:
    while True:
        await health.hub.probe(session, health.clock.now())
        await asyncio.sleep(HUB_PROBE_SECONDS)


async def _health(request: web.Request) -> web.Response:
    health = request.app[HEALTH_KEY]
    # The index's status may touch the disk: off the event loop.
    checks = await asyncio.to_thread(health.evaluate)
    levels = {check.level for check in checks.values()}
    body: dict[str, object] = {"authority": health.authority}
    witness = request.app.get(WITNESS_KEY)
    if witness is not None and witness.alarm:
        # An inconsistent hub checkpoint: the log may have forked or been rewritten.
        status = "alarm"
        body["alarm"] = witness.alarm_reason
    elif "failing" in levels:
        status = "failing"
    elif "warning" in levels:
        status = "degraded"
    else:
        status = "ok"
    body = {"status": status, **body}
    body["checks"] = {
        name: check.summary if check.level == "ok" else f"{check.level}: {check.summary}"
        for name, check in checks.items()
    }
    body.update({name: check.facts for name, check in checks.items() if check.facts})
    return web.json_response(body, status=503 if status in ("alarm", "failing") else 200)


def _certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise InternalError(f"cannot read the TLS certificate {path}: {exc}") from exc
