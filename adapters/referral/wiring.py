"""Plugging referrals into a borough node application.

``attach_node_referrals`` opens the node's referral store, returns the
handlers for ``ReferralForward``, ``ReferralStatus`` and
``ReferralDeliveryFailure`` (for the node's endpoint, built after them), and,
when the node is configured with a catalogue, publishes it to the hub in the
background from start-up until the hub acknowledges it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from typing import Final

from aiohttp import web
from lxml import etree

from adapters.client.exchange import HubExchange
from adapters.config import NodeConfig
from adapters.referral.publisher import load_catalogue, publish_until_acknowledged
from adapters.referral.receiver import ReferralReceiver
from adapters.referral.sqlite import NODE_REFERRAL_DATABASE, SqliteNodeReferrals
from hub.endpoint import Handler
from hub.messenger import Messenger

__all__ = ["NODE_REFERRALS_KEY", "NODE_RETRYABLE", "attach_node_referrals"]

NODE_RETRYABLE: Final = frozenset({"ReferralForward", "ReferralStatus", "ReferralDeliveryFailure"})
"""Classes the hub delivers store-and-forward, so may repeat with the same
bytes; their handlers answer a repeat with the original receipt."""

NODE_REFERRALS_KEY: Final = web.AppKey("irt.node_referrals", SqliteNodeReferrals)
_LOG = logging.getLogger(__name__)


def attach_node_referrals(
    app: web.Application, *, config: NodeConfig, messenger: Messenger
) -> Mapping[str, Handler]:
    """Open the node's referral store in ``app``, publish its catalogue; return the handlers.

    The store is in ``app[NODE_REFERRALS_KEY]`` and closed with ``app``.
    Raises ``InternalError`` if the store cannot be opened, and the
    catalogue's own error if ``[node] catalogue`` names an invalid file.
    """
    store = SqliteNodeReferrals(config.data_dir / NODE_REFERRAL_DATABASE)
    receiver = ReferralReceiver(
        messenger=messenger,
        originals=replace(messenger.verifier, replay=None),
        inbox=store,
        sent=store,
    )
    catalogue = (
        load_catalogue(config.catalogue, published=messenger.clock.now())
        if config.catalogue is not None
        else None
    )
    app[NODE_REFERRALS_KEY] = store

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        task = None
        if catalogue is not None:
            exchange = HubExchange.from_node_config(config)
            task = asyncio.create_task(
                _publish(exchange, catalogue), name=f"irt-catalogue-{config.authority}"
            )
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        store.close()

    app.cleanup_ctx.append(lifetime)
    return {
        "ReferralForward": receiver.handle_forward,
        "ReferralStatus": receiver.handle_status,
        "ReferralDeliveryFailure": receiver.handle_failure,
    }


async def _publish(exchange: HubExchange, catalogue: etree._Element) -> None:
    try:
        ack = await publish_until_acknowledged(exchange, catalogue)
        if ack is not None:
            _LOG.info("service catalogue published: %d services", ack.services)
    finally:
        await exchange.close()
