"""The hub's handlers, one per message ``Class``, and the endpoint over their fixed registry.

``build_handlers`` builds every handler on the hub's ``Messenger`` (the
known-to fan-out, the catalogue and referral handlers, the courier the
referral handlers wake); ``HubHandlers.registry`` maps each message
``Class`` to its handler, read-only; ``build_endpoint`` hands that finished
registry to the ``MessageEndpoint``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from hub.app.catalogues import build_catalogues
from hub.app.directory import node_urls
from hub.app.knownto import build_knownto
from hub.app.referrals import build_courier, build_referrals
from hub.config import HubConfig
from hub.directory.model import Directory
from hub.endpoint import Handler, MessageEndpoint
from hub.knownto.fanout import KnownToFanout
from hub.messenger import Messenger
from hub.policy.engine import PolicyEngine
from hub.referral.courier import Courier
from hub.referral.handlers import ReferralHandlers
from hub.services.handlers import CatalogueHandlers
from hub.storage.backends import HubStorage
from hub.transport.delivery import Delivery

__all__ = ["HUB_RETRYABLE", "HubHandlers", "build_endpoint", "build_handlers"]

HUB_RETRYABLE: Final = frozenset(
    {"ServiceCatalogue", "Referral", "ReferralStatus", "ServiceSearch", "ReferralStatusQuery"}
)
"""``MessageEndpoint.retryable`` of the hub: classes whose handlers answer a
repeat of the same bytes with the original receipt (AS4 duplicate
elimination), or, for the two read-only requests, simply answer again."""


@dataclass(frozen=True)
class HubHandlers:
    """Every handler of the hub, and the courier the referral handlers wake."""

    knownto: KnownToFanout
    catalogues: CatalogueHandlers
    referrals: ReferralHandlers
    courier: Courier

    def registry(self) -> Mapping[str, Handler]:
        """The handler of each message ``Class`` the hub accepts, read-only."""
        return MappingProxyType(
            {
                "KnownToQuery": self.knownto.handle,
                "ServiceCatalogue": self.catalogues.handle_catalogue,
                "ServiceSearch": self.catalogues.handle_search,
                "Referral": self.referrals.handle_referral,
                "ReferralStatus": self.referrals.handle_status,
                "ReferralStatusQuery": self.referrals.handle_status_query,
            }
        )


def build_handlers(
    config: HubConfig,
    *,
    messenger: Messenger,
    storage: HubStorage,
    directory: Directory,
    policy: PolicyEngine,
    delivery: Delivery,
) -> HubHandlers:
    """Every handler of the hub, over ``storage``, sending through ``delivery``.

    Raises ``InternalError`` if the stored catalogues cannot be read.
    """
    nodes = node_urls(directory, config)
    catalogues = build_catalogues(config, messenger=messenger, store=storage.catalogues)
    courier = build_courier(
        config, messenger=messenger, store=storage.referrals, delivery=delivery, node_urls=nodes
    )
    return HubHandlers(
        knownto=build_knownto(
            config,
            messenger=messenger,
            directory=directory,
            policy=policy,
            delivery=delivery,
            node_urls=nodes,
        ),
        catalogues=catalogues,
        referrals=build_referrals(
            config,
            messenger=messenger,
            catalogues=catalogues,
            policy=policy,
            store=storage.referrals,
            courier=courier,
        ),
        courier=courier,
    )


def build_endpoint(
    config: HubConfig, *, messenger: Messenger, handlers: Mapping[str, Handler]
) -> MessageEndpoint:
    """The hub's ``POST /v1/messages``, dispatching to the finished registry ``handlers``."""
    return MessageEndpoint(
        messenger=messenger,
        handlers=handlers,
        max_message_bytes=config.limits.max_message_bytes,
        retryable=HUB_RETRYABLE,
    )
