"""The hub's aiohttp application: routes, shared resources, start-up and shutdown.

Everything the hub holds for its lifetime lives in ``web.AppKey`` slots and is
opened and closed in ``cleanup_ctx``; handlers keep no per-call state on
shared objects.

Routes (SPEC §4): ``POST /v1/messages``, ``GET /healthz``, ``GET /metrics``,
``GET /v1/directory`` (signed) and the message log endpoints.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from aiohttp import web

from hub.app.directory import directory_body
from hub.app.policies import load_signed_policy
from hub.app.referrals import HUB_RETRYABLE, attach_referrals
from hub.clock import Clock, SystemClock
from hub.config import MAX_QUERY_DEADLINE_SECONDS, HubConfig
from hub.directory.model import Directory, default_directory, load_directory
from hub.endpoint import SERVICE_KEY, MessageService, error_middleware, metrics_endpoint
from hub.envelope import build_envelope
from hub.errors import IrtError
from hub.identifiers import HUB, AuthorityCode
from hub.knownto.fanout import KnownToBroker
from hub.log.checkpointer import Checkpointer
from hub.log.keyfiles import DEFAULT_LOG_ORIGIN, load_signer, load_witness_keys, write_key_pair
from hub.log.message_log import MessageLog
from hub.log.note import NoteSigner
from hub.log.routes import WitnessKeys, setup_log
from hub.metrics import Metrics
from hub.pki.trust import TrustStore
from hub.replay.guard import FreshnessPolicy, ReplayGuard
from hub.schemas import default_registry
from hub.signing import Signer
from hub.storage.settings import HubStorage, open_hub_storage
from hub.transport.delivery import Delivery, HttpsDelivery
from hub.transport.tls import client_context
from hub.verify import EnvelopeVerifier
from hub.xmlparse import XmlLimits

__all__ = ["HEALTH_KEY", "HealthState", "build_hub_app"]


@dataclass
class HealthState:
    """What ``/healthz`` reports; ``maintenance`` may be switched at run time."""

    maintenance: bool = False
    failures: dict[str, str] = field(default_factory=dict)


HEALTH_KEY: Final = web.AppKey("irt.health", HealthState)
_STORAGE_KEY: Final = web.AppKey("irt.storage", HubStorage)
_DELIVERY_KEY: Final = web.AppKey("irt.delivery", Delivery)
_DIRECTORY_BYTES_KEY: Final = web.AppKey("irt.directory_bytes", bytes)


def build_hub_app(
    config: HubConfig,
    *,
    clock: Clock | None = None,
    delivery: Delivery | None = None,
) -> web.Application:
    """The hub application for ``config``.

    ``delivery`` replaces the HTTPS client, for failure injection in tests.
    Raises ``InternalError`` (or ``ConfigError``) when keys, certificates or
    policy documents cannot be loaded.
    """
    clock = clock or SystemClock()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    signer = Signer.from_files(config.signing.key, config.signing.cert)
    storage = open_hub_storage(config.storage, config.data_dir)
    seen = storage.seen
    limits = config.limits
    verifier = EnvelopeVerifier(
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
    directory = (
        load_directory(config.directory_file) if config.directory_file else default_directory()
    )
    policy = load_signed_policy(
        config, directory=directory, verifier=verifier, clock=clock, kept=storage.isps
    )
    metrics = Metrics()
    executor = ThreadPoolExecutor(
        max_workers=limits.verify_threads, thread_name_prefix="irt-crypto"
    )
    handlers: dict[str, object] = {}
    log = MessageLog(storage.log, clock=clock)
    service = MessageService(
        authority=HUB,
        signer=signer,
        verifier=verifier,
        clock=clock,
        executor=executor,
        metrics=metrics,
        handlers=handlers,  # type: ignore[arg-type]  # filled below, before serving
        max_message_bytes=limits.max_message_bytes,
        retryable=HUB_RETRYABLE,
        log=log,
    )
    outbound = delivery or HttpsDelivery(
        client_context(config.tls), connections_per_host=limits.connections_per_node
    )
    broker = KnownToBroker(
        service=service,
        directory=directory,
        policy=policy,
        delivery=outbound,
        node_urls=_node_urls(directory, config),
        clock=clock,
        metrics=metrics,
        default_deadline=timedelta(seconds=limits.query_deadline_seconds),
        max_deadline=timedelta(seconds=MAX_QUERY_DEADLINE_SECONDS),
    )
    handlers["KnownToQuery"] = broker.handle

    app = web.Application(
        middlewares=[error_middleware], client_max_size=limits.max_message_bytes * 2
    )
    app[_STORAGE_KEY] = storage

    async def database(app: web.Application) -> AsyncIterator[None]:
        yield
        # After every store that uses it (cleanup runs in reverse order).
        shared = app[_STORAGE_KEY].database
        if shared is not None:
            shared.close()

    app.cleanup_ctx.append(database)
    # Next in cleanup_ctx, so closed just before the database: everything else may still log.
    setup_log(
        app,
        log,
        witnesses=WitnessKeys(
            load_witness_keys(config.log.witnesses) if config.log.witnesses else ()
        ),
        checkpointer=Checkpointer(
            log=log, signer=_log_signer(config), interval=config.log.checkpoint_seconds
        ),
    )
    app[SERVICE_KEY] = service
    app[HEALTH_KEY] = HealthState(maintenance=config.maintenance)
    app[_DELIVERY_KEY] = outbound
    app[_DIRECTORY_BYTES_KEY] = signer.sign(
        build_envelope(
            service.header(message_class="Directory", qualifier="response", to=HUB),
            directory_body(
                directory,
                node_urls=_node_urls(directory, config),
                isps=policy.documents,
                published=clock.now(),
            ),
        )
    )

    async def resources(app: web.Application) -> AsyncIterator[None]:
        yield
        await app[_DELIVERY_KEY].close()
        executor.shutdown(wait=True)
        app[_STORAGE_KEY].seen.close()

    app.cleanup_ctx.append(resources)
    attach_referrals(
        app,
        handlers,  # type: ignore[arg-type]  # the same dict the service dispatches on
        config=config,
        service=service,
        policy=policy,
        delivery=outbound,
        node_urls=_node_urls(directory, config),
        clock=clock,
        store=storage.referrals,
        catalogues=storage.catalogues,
        catalogue_refresh_seconds=(
            config.storage.catalogue_refresh_seconds
            if config.storage.backend == "postgresql"
            else None
        ),
    )
    app.router.add_post("/v1/messages", service.handle)
    app.router.add_get("/healthz", _health)
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/v1/directory", _directory)
    return app


def _log_signer(config: HubConfig) -> NoteSigner:
    """The log key: configured, or generated under the data folder on first start."""
    if config.log.key is not None:
        return load_signer(config.log.key)
    folder = config.data_dir / "log"
    key = folder / "log.key"
    if not key.exists():
        write_key_pair(folder, DEFAULT_LOG_ORIGIN)
    return load_signer(key)


def _node_urls(directory: Directory, config: HubConfig) -> dict[AuthorityCode, str]:
    urls = {
        code: authority.nodes[0].url
        for code, authority in directory.authorities.items()
        if authority.nodes
    }
    urls.update(config.node_urls)
    return urls


async def _health(request: web.Request) -> web.Response:
    state = request.app[HEALTH_KEY]
    checks = {"storage": "ok", "keys": "ok"}
    try:
        await asyncio.to_thread(request.app[_STORAGE_KEY].seen.check)
    except IrtError as error:
        checks["storage"] = error.reason
    checks.update(state.failures)
    healthy = all(value == "ok" for value in checks.values())
    status = "maintenance" if state.maintenance else ("ok" if healthy else "failing")
    return web.json_response(
        {"status": status, "checks": checks}, status=200 if status == "ok" else 503
    )


async def _directory(request: web.Request) -> web.Response:
    return web.Response(body=request.app[_DIRECTORY_BYTES_KEY], content_type="application/xml")
