"""How long before its deadline a fan-out stops, so that its result still arrives in time.

After the fan-out stops waiting, the hub still has to build the
``KnownToResult``, sign it and log it, on a machine that may be busy, and
the timer that stops the fan-out may itself fire late. The configured
``result_reserve_seconds`` is the least kept back; ``ResultReserve`` grows it
to what recent results actually took, from the moment their fan-out stopped
(or was due to) until they were signed and logged, so that a slow disk or a
busy processor costs late targets their answers rather than the requester its
deadline.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Final

__all__ = ["HEADROOM", "WINDOW", "ResultReserve"]

WINDOW: Final = 32
"""Recent results the reserve is judged on: a few seconds of a busy hub."""
HEADROOM: Final = 1.5
"""The reserve is this many times the time nine in ten recent results took."""


@dataclass
class ResultReserve:
    """The reserve in seconds: at least ``least``, else learnt from recent results."""

    least: float
    _recent: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))

    def seconds(self) -> float:
        """How long before the deadline the next fan-out should stop."""
        if not self._recent:
            return self.least
        ordered = sorted(self._recent)
        ninth_decile = ordered[int(0.9 * (len(ordered) - 1))]
        return max(self.least, ninth_decile * HEADROOM)

    def observe(self, seconds: float) -> None:
        """One result took ``seconds`` from its fan-out's stop to signed and logged."""
        self._recent.append(max(seconds, 0.0))
