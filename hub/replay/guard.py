"""Freshness and replay protection: the ``Created`` window, ``Expires``, seen MessageIDs.

One reusable component, ``ReplayGuard``, answers for a verified header:
is it fresh, and is it new, a retry of the same bytes, or a replay with
other bytes? Steps:

(1) ``Created`` may not lie in the future beyond the allowed clock skew;
(2) without ``Expires``, ``Created`` must lie within the skew of now (SPEC §2);
    with ``Expires``, it must not have passed and ``Expires - Created`` may
    not exceed ``max_lifetime``;
(3) the (sender, MessageID) pair is recorded durably with the SHA-256 of the
    exact bytes until the message could no longer pass step (2); a second
    arrival with the same digest is a retry, with another digest it is
    ``duplicate-message``.

Why ``Expires`` widens the window: SPEC §2 says a retry reuses the same bytes,
so a store-and-forward referral retried after a day carries a day-old
``Created``. The ±5 minute window alone would refuse every such retry. As in
WS-Security timestamps and AS4 duplicate elimination, a message that states
its own ``Expires`` is fresh until then, and replay protection comes from the
seen-ID store, which keeps the MessageID at least that long. Messages without
``Expires`` keep the strict SPEC window.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from hub.clock import Clock, SystemClock
from hub.errors import DuplicateMessage, StaleMessage
from hub.identifiers import AuthorityCode, MessageId
from hub.replay.store import SeenStore

__all__ = ["FreshnessPolicy", "ReplayGuard", "Sighting"]

_PURGE_EVERY: Final = 1000
"""Expired seen-IDs are purged once per this many new sightings: often enough
to bound the table, rarely enough to cost nothing per message."""


@dataclass(frozen=True, slots=True)
class FreshnessPolicy:
    """How old, how new and how long-lived a message may be."""

    max_clock_skew: timedelta = timedelta(minutes=5)
    """SPEC §2: ``Created`` within ±5 minutes of the receiver's clock."""

    max_lifetime: timedelta = timedelta(days=6)
    """Longest ``Expires - Created`` accepted: the default referral delivery
    window of 5 days plus a day of margin."""


class Sighting(enum.Enum):
    """What the guard concluded about a fresh message."""

    FIRST = "first"
    """Never seen from this sender: process it."""
    RETRY = "retry"
    """Seen before with the same bytes: answer as before, do nothing twice."""


@dataclass
class ReplayGuard:
    """Decides whether a message is fresh and new; see the module docstring."""

    store: SeenStore
    clock: Clock = field(default_factory=SystemClock)
    policy: FreshnessPolicy = field(default_factory=FreshnessPolicy)
    _sightings: int = 0

    def check_fresh(self, *, created: datetime, expires: datetime | None) -> None:
        """Steps (1) and (2); raise ``StaleMessage`` naming the bound broken."""
        now = self.clock.now()
        skew = self.policy.max_clock_skew
        # (1) not from the future
        if created > now + skew:
            raise StaleMessage(
                f"Created {_iso(created)} is more than {skew} ahead of the receiver's clock"
            )
        # (2) within the window, or within its own stated lifetime
        if expires is None:
            if created < now - skew:
                raise StaleMessage(
                    f"Created {_iso(created)} is more than {skew} before the receiver's clock "
                    f"({_iso(now)})"
                )
            return
        if expires <= now:
            raise StaleMessage(f"message expired at {_iso(expires)}")
        if expires - created > self.policy.max_lifetime:
            raise StaleMessage(
                f"Expires is {expires - created} after Created; "
                f"at most {self.policy.max_lifetime} is accepted"
            )

    def check(
        self,
        *,
        sender: AuthorityCode,
        message_id: MessageId,
        created: datetime,
        expires: datetime | None,
        digest: bytes,
    ) -> Sighting:
        """All three steps. Raises ``StaleMessage`` or ``DuplicateMessage``."""
        self.check_fresh(created=created, expires=expires)
        # (3) remember until the message could no longer pass step (2)
        skew = self.policy.max_clock_skew
        keep_until = (expires if expires is not None else created) + skew
        earlier = self.store.remember(sender, message_id, digest, keep_until)
        self._sightings += 1
        if self._sightings % _PURGE_EVERY == 0:
            self.store.forget_before(self.clock.now() - skew)
        if earlier is None:
            return Sighting.FIRST
        if earlier == digest:
            return Sighting.RETRY
        raise DuplicateMessage(
            f"MessageID {message_id} from {sender} was already received with different content"
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
