"""The hub's referrals (SPEC §6): their handlers, the courier delivering the outbox, its gauges.

``build_courier`` and ``build_referrals`` build the parts over the
referral storage; ``attach_referrals`` holds them in the application
(``REFERRALS_KEY``), exports the outbox gauges and runs the courier for the
application's lifetime (started and stopped in ``cleanup_ctx``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from typing import Final

from aiohttp import web
from prometheus_client import Gauge

from hub.config import HubConfig
from hub.identifiers import AuthorityCode
from hub.messenger import Messenger
from hub.policy.engine import PolicyEngine
from hub.referral.courier import Courier
from hub.referral.handlers import ReferralHandlers
from hub.referral.store import ReferralStorage
from hub.services.handlers import CatalogueHandlers
from hub.transport.delivery import Delivery

__all__ = [
    "OUTBOX_STATES",
    "REFERRALS_KEY",
    "ReferralParts",
    "attach_referrals",
    "build_courier",
    "build_referrals",
]

OUTBOX_STATES: Final = ("pending", "done", "dead")
"""The outbox row states the ``irt_outbox_rows`` gauge reports."""


@dataclass(frozen=True)
class ReferralParts:
    """The hub's referral and catalogue parts, for tests and operators."""

    store: ReferralStorage
    """Referrals, statuses and the outbox."""
    catalogues: CatalogueHandlers
    """The service catalogues held, searched and looked up by referrals."""
    referrals: ReferralHandlers
    courier: Courier


REFERRALS_KEY: Final = web.AppKey("irt.referrals", ReferralParts)


def build_courier(
    config: HubConfig,
    *,
    messenger: Messenger,
    store: ReferralStorage,
    delivery: Delivery,
    node_urls: Mapping[AuthorityCode, str],
) -> Courier:
    """The courier delivering ``store``'s outbox through ``delivery``."""
    return Courier(
        outbox=store,
        referrals=store,
        delivery=delivery,
        answers=replace(messenger.verifier, replay=None),
        messenger=messenger,
        node_urls=node_urls,
        clock=messenger.clock,
        settings=config.referrals,
    )


def build_referrals(
    config: HubConfig,
    *,
    messenger: Messenger,
    catalogues: CatalogueHandlers,
    policy: PolicyEngine,
    store: ReferralStorage,
    courier: Courier,
) -> ReferralHandlers:
    """The ``Referral``, ``ReferralStatus`` and ``ReferralStatusQuery`` handlers."""
    return ReferralHandlers(
        messenger=messenger,
        catalogues=catalogues,
        policy=policy,
        referrals=store,
        statuses=store,
        courier=courier,
        clock=messenger.clock,
        settings=config.referrals,
    )


def attach_referrals(app: web.Application, parts: ReferralParts, *, messenger: Messenger) -> None:
    """Hold ``parts`` in ``app``, export the outbox gauges, run the courier while ``app`` runs."""
    app[REFERRALS_KEY] = parts
    gauge = Gauge(
        "irt_outbox_rows",
        "Hub outbox rows (forwards, relayed statuses, failure notices) by state.",
        ["state"],
        registry=messenger.metrics.registry,
    )
    for state in OUTBOX_STATES:
        gauge.labels(state).set_function(functools.partial(_count, parts.store, state))

    async def courier(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(parts.courier.run(), name="irt-outbox-courier")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(courier)


def _count(store: ReferralStorage, state: str) -> float:
    return float(store.counts().get(state, 0))
