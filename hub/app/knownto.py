"""The hub's known-to fan-out (``hub.knownto.fanout``), configured from ``[limits]``
and ``[fanout]`` (admission control)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from hub.config import MAX_QUERY_DEADLINE_SECONDS, HubConfig
from hub.directory.model import Directory
from hub.identifiers import AuthorityCode
from hub.knownto.fanout import KnownToFanout
from hub.messenger import Messenger
from hub.policy.engine import PolicyEngine
from hub.transport.delivery import Delivery

__all__ = ["build_knownto"]


def build_knownto(
    config: HubConfig,
    *,
    messenger: Messenger,
    directory: Directory,
    policy: PolicyEngine,
    delivery: Delivery,
    node_urls: Mapping[AuthorityCode, str],
) -> KnownToFanout:
    """The ``KnownToQuery`` handler: ask each permitted node, answer by the deadline."""
    return KnownToFanout(
        messenger=messenger,
        directory=directory,
        policy=policy,
        delivery=delivery,
        node_urls=node_urls,
        clock=messenger.clock,
        metrics=messenger.metrics,
        default_deadline=timedelta(seconds=config.limits.query_deadline_seconds),
        max_deadline=timedelta(seconds=MAX_QUERY_DEADLINE_SECONDS),
        settings=config.fanout,
    )
