"""Timing helpers the benchmarks share (not a benchmark: `make bench` skips bench/_*.py)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

__all__ = ["median_us"]


def median_us(action: Callable[[], object], runs: int) -> float:
    """The median wall time of ``runs`` calls of ``action``, in microseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6
