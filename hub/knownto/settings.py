"""``[fanout]`` of the hub configuration: admission control for known-to fan-outs.

A London-wide query costs the hub 32 signed forwards and 32 verified answers.
Run more of them than the machine can carry and every one misses its
deadline; so the hub admits a bounded number, shares them fairly between
requesting authorities, and refuses the rest at once with ``busy`` and
``Retry-After`` (SPEC §5, §6.3). Every field has a safe default;
``FanoutSettings.from_table`` refuses unknown keys and impossible values with
``ValueError``, which ``hub.config`` reports as a ``ConfigError`` naming the
file.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["FanoutSettings"]


@dataclass(frozen=True, slots=True)
class FanoutSettings:
    """How many known-to fan-outs run at once, and how the deadline is kept."""

    max_in_flight: int = 8
    """Fan-outs this hub instance runs at once. Each London-wide one keeps 32
    forwards and answers in signing and verification, so this bounds the
    hub's CPU work; beyond it a query waits (``max_wait_seconds``) or is
    refused ``busy`` (503)."""
    max_in_flight_per_authority: int = 4
    """Of those, how many one requesting authority may run or wait for at
    once; beyond it its queries are refused ``busy`` (429), so one busy
    borough cannot take the slots the others need. (Above ``max_in_flight``
    it changes nothing.)"""
    max_waiting: int = 8
    """Queries that may wait for a slot to free; beyond, ``busy`` at once."""
    max_wait_seconds: float = 0.25
    """Longest a query waits for a slot before it is refused ``busy``; a
    freed slot goes to the waiting authority that runs the fewest."""
    forwards_per_node: int = 8
    """Forwards in flight to any one node. A slow node holds only these: a
    forward that finds them all taken until the deadline is reported
    ``timeout`` for that authority without being sent."""
    result_reserve_seconds: float = 0.25
    """Kept back before the deadline, at least, to build, sign, log and send
    the ``KnownToResult``: authorities that have not answered by the deadline
    minus the reserve are ``timeout``. The hub keeps back more while recent
    results took longer (``hub.knownto.reserve``)."""
    min_fanout_seconds: float = 1.0
    """A query whose deadline leaves less than this when it would start is
    refused at once: ``stale-message`` when its own ``Expires`` is that close,
    ``busy`` when the wait for a slot used the time up. Must exceed
    ``result_reserve_seconds``."""

    def __post_init__(self) -> None:
        counts = (
            self.max_in_flight,
            self.max_in_flight_per_authority,
            self.forwards_per_node,
        )
        if min(counts) < 1 or self.max_waiting < 0:
            raise ValueError(
                "max_in_flight, max_in_flight_per_authority and forwards_per_node must be at "
                "least 1, max_waiting at least 0"
            )
        if not 0 <= self.max_wait_seconds <= 5:
            raise ValueError("max_wait_seconds must be between 0 and 5")
        if not 0 < self.result_reserve_seconds < self.min_fanout_seconds:
            raise ValueError("result_reserve_seconds must be above 0 and below min_fanout_seconds")

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> FanoutSettings:
        """Settings from a ``[fanout]`` TOML table; raise ``ValueError`` on any fault."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ValueError(f"unknown option(s): {', '.join(unknown)}")
        for key, value in table.items():
            integral = known[key].type == "int"
            kinds: tuple[type, ...] = (int,) if integral else (int, float)
            if isinstance(value, bool) or not isinstance(value, kinds):
                raise ValueError(f"option {key!r} must be {'an int' if integral else 'a number'}")
        return cls(**table)
