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
from collections.abc import AsyncIterator, Mapping, MutableMapping
from dataclasses import replace
from typing import Final

from aiohttp import web
from prometheus_client import Gauge

from hub.clock import Clock
from hub.config import HubConfig
from hub.identifiers import AuthorityCode
from hub.policy.engine import PolicyEngine
from hub.referral.broker import ReferralBroker
from hub.referral.courier import Courier
from hub.services.broker import ServiceDirectory
from hub.store.catalogues import SqliteCatalogueStore
from hub.store.referrals import SqliteReferralStore
from hub.transport.client import Delivery
from hub.transport.service import Handler, MessageService

__all__ = ["HUB_RETRYABLE", "REFERRALS_KEY", "ReferralParts", "attach_referrals"]

HUB_RETRYABLE: Final = frozenset(
    {"ServiceCatalogue", "Referral", "ReferralStatus", "ServiceSearch", "ReferralStatusQuery"}
)
"""``MessageService.retryable`` of the hub: classes whose handlers answer a
repeat of the same bytes with the original receipt (AS4 duplicate
elimination), or, for the two read-only requests, simply answer again."""

REFERRAL_DATABASE: Final = "referrals.sqlite"
CATALOGUE_DATABASE: Final = "catalogues.sqlite"


class ReferralParts:
    """What ``attach_referrals`` built, for tests and operators."""

    def __init__(
        self,
        *,
        store: SqliteReferralStore,
        catalogues: SqliteCatalogueStore,
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
) -> ReferralParts:
    """Register the referral and directory handlers on ``app`` and run the courier.

    Raises ``InternalError`` if a store cannot be opened or read.
    """
    settings = config.referrals
    store = SqliteReferralStore(config.data_dir / REFERRAL_DATABASE)
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

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(courier.run(), name="irt-outbox-courier")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        store.close()
        catalogues.close()

    app.cleanup_ctx.append(lifetime)
    return parts


def _count(store: SqliteReferralStore, state: str) -> float:
    return float(store.counts().get(state, 0))
