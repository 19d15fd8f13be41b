"""The hub as a party to the exchange: its verifier and its ``Messenger``.

The verifier checks every message the hub receives (trust anchors, CRL,
schemas, limits, replay); the messenger (``hub.messenger``) holds the hub's
signing key, the thread pool signing and verification run in, the metrics
and the message log, and is shared by the endpoint and every handler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from hub.clock import Clock
from hub.config import HubConfig
from hub.identifiers import HUB
from hub.lanes import LanePool
from hub.messenger import LogWriter, Messenger
from hub.metrics import Metrics
from hub.pki.trust import TrustStore
from hub.replay.guard import FreshnessPolicy, ReplayGuard
from hub.replay.store import SeenStore
from hub.schemas import default_registry
from hub.signing import Signer
from hub.verify import EnvelopeVerifier
from hub.xmlparse import XmlLimits

__all__ = ["build_messenger", "build_verifier", "shut_down_pool"]


def build_verifier(config: HubConfig, *, seen: SeenStore, clock: Clock) -> EnvelopeVerifier:
    """The verifier of messages to the hub, remembering sightings in ``seen``.

    Raises ``InternalError`` if the trust anchors or the CRL cannot be read.
    """
    limits = config.limits
    return EnvelopeVerifier(
        trust=TrustStore.from_files(config.tls.root, config.tls.crl),
        registry=default_registry(),
        clock=clock,
        limits=XmlLimits(max_bytes=limits.max_message_bytes),
        replay=ReplayGuard(
            store=seen,
            clock=clock,
            policy=FreshnessPolicy(max_clock_skew=timedelta(seconds=limits.clock_skew_seconds)),
        ),
    )


def build_messenger(
    config: HubConfig, *, verifier: EnvelopeVerifier, log: LogWriter, clock: Clock
) -> Messenger:
    """The hub's messenger: its signing key, a lane pool, fresh metrics and ``log``.

    Raises ``InternalError`` if the signing key or certificate cannot be read.
    """
    return Messenger(
        authority=HUB,
        signer=Signer.from_files(config.signing.key, config.signing.cert),
        verifier=verifier,
        clock=clock,
        # Lanes: an answer that is due is signed ahead of all other work.
        executor=LanePool(config.limits.verify_threads, thread_name_prefix="irt-crypto"),
        metrics=Metrics(),
        log=log,
    )


def shut_down_pool(app: web.Application, messenger: Messenger) -> None:
    """Shut ``messenger``'s thread pool down with ``app``, once its work is done."""

    async def pool(_app: web.Application) -> AsyncIterator[None]:
        yield
        messenger.executor.shutdown(wait=True)

    app.cleanup_ctx.append(pool)
