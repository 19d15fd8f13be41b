"""The lane pool: an answer that is due never queues behind fan-out work."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

import pytest

from hub.lanes import Lane, LanePool


def _hold(started: threading.Event, release: threading.Event) -> None:
    """Keep the pool's one thread busy until released."""
    started.set()
    release.wait()


def test_a_free_thread_takes_the_most_urgent_lane_first_then_arrival_order() -> None:
    pool = LanePool(1)
    started, release = threading.Event(), threading.Event()
    order: list[str] = []
    blocker = pool.submit(_hold, started, release)
    assert started.wait(5)
    futures: list[Future[None]] = [
        pool.submit_in(Lane.WORK, order.append, "forward 1"),
        pool.submit_in(Lane.WORK, order.append, "forward 2"),
        pool.submit_in(Lane.ANSWER, order.append, "result"),
        pool.submit_in(Lane.ANSWER, order.append, "refusal"),
        pool.submit(order.append, "forward 3"),
    ]
    release.set()
    for future in [blocker, *futures]:
        future.result(timeout=5)
    assert order == ["result", "refusal", "forward 1", "forward 2", "forward 3"]
    pool.shutdown()


def test_results_errors_and_cancelled_jobs() -> None:
    pool = LanePool(1)
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []
    pool.submit(_hold, started, release)
    assert started.wait(5)
    skipped = pool.submit(ran.append, "cancelled before it ran")
    assert skipped.cancel()

    def fail() -> None:
        raise ValueError("bad job")

    failing = pool.submit_in(Lane.ANSWER, fail)
    answered = pool.submit_in(Lane.ANSWER, lambda: 42)
    release.set()
    with pytest.raises(ValueError, match="bad job"):
        failing.result(timeout=5)
    assert answered.result(timeout=5) == 42
    pool.shutdown()
    assert ran == []
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(ran.append, "too late")


async def test_it_stands_in_for_an_executor_on_the_event_loop() -> None:
    pool = LanePool(2)
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(pool, sum, [1, 2, 3]) == 6
    pool.shutdown()


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        LanePool(0)
