"""``[referrals]`` of the hub configuration: delivery window, retries, leases, staleness.

Every field has a safe default; ``ReferralSettings.from_table`` reads the
TOML table and refuses unknown keys and impossible values with
``ValueError``, which ``hub.config`` reports as a ``ConfigError`` naming the
file.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any, Final

from hub.replay.guard import FreshnessPolicy

__all__ = ["MAX_DELIVERY_WINDOW", "ReferralSettings"]

MAX_DELIVERY_WINDOW: Final = FreshnessPolicy().max_lifetime
"""A forward carries ``Expires`` at the end of the window so that retries of
the same bytes stay fresh (hub/replay/guard.py); receivers accept at most this
``Expires - Created``, so no window may be longer."""


@dataclass(frozen=True, slots=True)
class ReferralSettings:
    """How the hub stores and forwards referrals and judges catalogues."""

    delivery_window_hours: float = 120.0
    """SPEC §6: how long the hub keeps trying to deliver a referral (or relay
    a status) before it gives up and tells the referrer; default 5 days."""
    retry_base_seconds: float = 5.0
    """Wait before the second attempt; each later wait doubles."""
    retry_max_seconds: float = 3600.0
    """Longest wait between two attempts, however many have failed."""
    retry_jitter: float = 0.5
    """Each wait is shortened by a random fraction up to this, so that many
    referrals queued for one node do not all retry in the same second."""
    attempt_timeout_seconds: float = 30.0
    """How long one delivery attempt waits for the node's answer."""
    lease_seconds: float = 120.0
    """How long a claimed outbox row stays reserved for the worker that
    claimed it; after a crash another worker may take it once this passes.
    Must exceed ``attempt_timeout_seconds``."""
    batch_size: int = 64
    """Outbox rows claimed at once, and so delivered concurrently."""
    poll_seconds: float = 1.0
    """Longest sleep of the delivery worker when it has not been woken."""
    worker_name: str = "hub"
    """Names this hub's leases. A restarted hub frees the leases its previous
    run held; two hubs sharing one database need different names."""
    catalogue_stale_hours: float = 168.0
    """A service catalogue published longer ago than this (default 7 days)
    is flagged stale in search results."""

    def __post_init__(self) -> None:
        if not timedelta(0) < self.delivery_window <= MAX_DELIVERY_WINDOW:
            raise ValueError(
                f"delivery_window_hours must be above 0 and at most "
                f"{MAX_DELIVERY_WINDOW.total_seconds() / 3600:g}"
            )
        if not 0 < self.retry_base_seconds <= self.retry_max_seconds:
            raise ValueError("retry_base_seconds must be above 0 and at most retry_max_seconds")
        if not 0 <= self.retry_jitter < 1:
            raise ValueError("retry_jitter must be at least 0 and below 1")
        if not 0 < self.attempt_timeout_seconds < self.lease_seconds:
            raise ValueError("lease_seconds must exceed attempt_timeout_seconds (> 0)")
        if self.batch_size < 1 or self.poll_seconds <= 0 or self.catalogue_stale_hours <= 0:
            raise ValueError("batch_size, poll_seconds and catalogue_stale_hours must be positive")
        if not self.worker_name:
            raise ValueError("worker_name must not be empty")

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> ReferralSettings:
        """Settings from a ``[referrals]`` TOML table; raise ``ValueError`` on any fault."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ValueError(f"unknown option(s): {', '.join(unknown)}")
        for key, value in table.items():
            kind = str if known[key].type == "str" else (int if known[key].type == "int" else float)
            if isinstance(value, bool) or not isinstance(
                value, (kind, int) if kind is float else kind
            ):
                raise ValueError(f"option {key!r} must be a {kind.__name__}")
        return cls(**table)

    @property
    def delivery_window(self) -> timedelta:
        """``delivery_window_hours`` as a duration."""
        return timedelta(hours=self.delivery_window_hours)

    @property
    def catalogue_stale_after(self) -> timedelta:
        """``catalogue_stale_hours`` as a duration."""
        return timedelta(hours=self.catalogue_stale_hours)

    def retry_delay(self, attempts: int, rng: random.Random) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: doubling, capped, jittered."""
        exponent = min(max(attempts - 1, 0), 62)
        delay = min(self.retry_base_seconds * 2.0**exponent, self.retry_max_seconds)
        return timedelta(seconds=delay * (1 - self.retry_jitter * rng.random()))
