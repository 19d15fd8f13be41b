"""Plugging the service directory and referrals into a hub application.

``attach_referrals`` is called once by ``build_hub_app``: it opens the two
stores in the hub's data folder, loads the catalogues held, registers the
handlers for every referral and directory message class, exports the
outbox gauges, and runs the courier for the application's lifetime (started
and stopped in ``cleanup_ctx``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Mapping, MutableMapping
from dataclasses import replace
from typing import TYPE_CHECKING, Final

from aiohttp import web
from prometheus_client import Gauge

from hub.clock import Clock
from hub.config import HubConfig
from hub.endpoint import Handler, MessageService
from hub.errors import IrtError
from hub.identifiers import AuthorityCode
from hub.policy.engine import PolicyEngine
from hub.referral.courier import Courier
from hub.referral.handlers import ReferralBroker
from hub.services.handlers import ServiceDirectory
from hub.storage.sqlite.catalogues import SqliteCatalogueStore
from hub.storage.sqlite.referrals import SqliteReferralStore
from hub.transport.delivery import Delivery

if TYPE_CHECKING:
    from hub.storage.postgresql.catalogues import PgCatalogueStore
    from hub.storage.postgresql.referrals import PgReferralStore

__all__ = ["HUB_RETRYABLE", "REFERRALS_KEY", "ReferralParts", "attach_referrals"]

HUB_RETRYABLE: Final = frozenset(
    {"ServiceCatalogue", "Referral", "ReferralStatus", "ServiceSearch", "ReferralStatusQuery"}
)
"""``MessageService.retryable`` of the hub: classes whose handlers answer a
repeat of the same bytes with the original receipt (AS4 duplicate
elimination), or, for the two read-only requests, simply answer again."""

REFERRAL_DATABASE: Final = "referrals.sqlite"
CATALOGUE_DATABASE: Final = "catalogues.sqlite"

_LOG = logging.getLogger(__name__)


class ReferralParts:
    """What ``attach_referrals`` built, for tests and operators."""

    def __init__(
        self,
        *,
        store: SqliteReferralStore | PgReferralStore,
        catalogues: SqliteCatalogueStore | PgCatalogueStore,
        directory: ServiceDirectory,
        broker: ReferralBroker,
        courier: Courier,
    ) -> None:
        self.store = store
        self.catalogues = catalogues
        self.directory = directory
        self.broker = broker
        self.courier = courier


REFERRALS_KEY: Final = web.AppKey("irt.referrals", ReferralParts)


def attach_referrals(
    app: web.Application,
    handlers: MutableMapping[str, Handler],
    *,
    config: HubConfig,
    service: MessageService,
    policy: PolicyEngine,
    delivery: Delivery,
    node_urls: Mapping[AuthorityCode, str],
    clock: Clock,
    store: SqliteReferralStore | PgReferralStore | None = None,
    catalogues: SqliteCatalogueStore | PgCatalogueStore | None = None,
    catalogue_refresh_seconds: float | None = None,
) -> ReferralParts:
    """Register the referral and directory handlers on ``app`` and run the courier.

    ``store`` and ``catalogues`` default to SQLite files in the data folder.
    ``catalogue_refresh_seconds`` reloads the catalogues from ``catalogues``
    that often (several hubs sharing one database); default never.
    Raises ``InternalError`` if a store cannot be opened or read.
    """
    settings = config.referrals
    if store is None:
        store = SqliteReferralStore(config.data_dir / REFERRAL_DATABASE)
    if catalogues is None:
        catalogues = SqliteCatalogueStore(config.data_dir / CATALOGUE_DATABASE)
    directory = ServiceDirectory(
        service=service,
        store=catalogues,
        clock=clock,
        stale_after=settings.catalogue_stale_after,
    )
    directory.load()
    courier = Courier(
        outbox=store,
        referrals=store,
        delivery=delivery,
        answers=replace(service.verifier, replay=None),
        service=service,
        node_urls=node_urls,
        clock=clock,
        settings=settings,
    )
    broker = ReferralBroker(
        service=service,
        services=directory,
        policy=policy,
        referrals=store,
        statuses=store,
        courier=courier,
        clock=clock,
        settings=settings,
    )
    handlers.update(
        {
            "ServiceCatalogue": directory.handle_catalogue,
            "ServiceSearch": directory.handle_search,
            "Referral": broker.handle_referral,
            "ReferralStatus": broker.handle_status,
            "ReferralStatusQuery": broker.handle_status_query,
        }
    )
    gauge = Gauge(
        "irt_outbox_rows",
        "Hub outbox rows (forwards, relayed statuses, failure notices) by state.",
        ["state"],
        registry=service.metrics.registry,
    )
    for state in ("pending", "done", "dead"):
        gauge.labels(state).set_function(functools.partial(_count, store, state))
    parts = ReferralParts(
        store=store, catalogues=catalogues, directory=directory, broker=broker, courier=courier
    )
    app[REFERRALS_KEY] = parts

    async def refresh(period: float) -> None:
        while True:
            await asyncio.sleep(period)
            try:
                await service.run(directory.load)
            except IrtError as error:
                _LOG.error("service catalogues not reloaded: %s", error)

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(courier.run(), name="irt-outbox-courier")]
        if catalogue_refresh_seconds is not None:
            tasks.append(asyncio.create_task(refresh(catalogue_refresh_seconds)))
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        store.close()
        catalogues.close()

    app.cleanup_ctx.append(lifetime)
    return parts


def _count(store: SqliteReferralStore | PgReferralStore, state: str) -> float:
    return float(store.counts().get(state, 0))
