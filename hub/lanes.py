"""One pool of worker threads whose queue serves the most urgent work first.

Signing and verification run off the event loop in a thread pool. In a plain
``ThreadPoolExecutor`` every job waits its turn in one FIFO queue, so the
hundreds of forwards and answers of London-wide fan-outs would queue ahead
of a result that is due. Here each job has a ``Lane``, and a free thread
takes the oldest job of the most urgent lane; a job already running is never
interrupted, so an urgent one waits at most for a thread to finish its
current job (milliseconds).

Arriving messages are verified in ``Lane.WORK``, in turn with the fan-outs'
work, not ahead of it: a flood of queries the hub will only refuse must not
starve the fan-outs it admitted, and admitted work is bounded (``[fanout]
max_in_flight``), so an arriving query waits behind a bounded queue.
"""

from __future__ import annotations

import enum
import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

__all__ = ["Lane", "LanePool", "in_lane"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class Lane(enum.IntEnum):
    """How urgent a job is; lower runs first."""

    ANSWER = 0
    """Signing an answer or an error that a party is waiting for now."""
    WORK = 1
    """Everything else: verifying arriving messages, a fan-out's forwards and
    answers, storage."""


@dataclass(order=True)
class _Job:
    lane: int
    order: int
    run: Callable[[], None] = field(compare=False)


class LanePool(Executor):
    """A fixed pool of threads serving jobs by ``Lane``, then in arrival order.

    ``submit`` queues in ``Lane.WORK``, so the pool can stand wherever an
    ``Executor`` is expected (``loop.run_in_executor``); ``submit_in`` names
    the lane.
    """

    def __init__(self, max_workers: int, *, thread_name_prefix: str = "irt-lane") -> None:
        if max_workers < 1:
            raise ValueError("a lane pool needs at least one thread")
        self._jobs: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._serve, name=f"{thread_name_prefix}-{n}", daemon=True)
            for n in range(max_workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_R]:
        """Queue ``fn(*args, **kwargs)`` in ``Lane.WORK``."""
        return self.submit_in(Lane.WORK, fn, *args, **kwargs)

    def submit_in(
        self, lane: Lane, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> Future[_R]:
        """Queue ``fn(*args, **kwargs)`` in ``lane``; raise ``RuntimeError`` once shut down."""
        future: Future[_R] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to whoever awaits the future
                future.set_exception(exc)
            else:
                future.set_result(result)

        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a lane pool that was shut down")
            self._jobs.put(_Job(int(lane), next(self._order), run))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking jobs; the threads finish what is queued, then end.

        ``cancel_futures`` is accepted for the ``Executor`` interface; queued
        jobs whose futures were cancelled are skipped in any case."""
        with self._lock:
            if not self._closed:
                self._closed = True
                for _ in self._threads:
                    # After every job: a stop sentinel in the least urgent lane.
                    self._jobs.put(_Job(len(Lane), next(self._order), _stop))
        if wait:
            for thread in self._threads:
                thread.join()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job.run is _stop:
                return
            job.run()


def _stop() -> None:
    """The sentinel that ends a worker thread."""


def in_lane(executor: Executor, lane: Lane, fn: Callable[[], Any]) -> Future[Any]:
    """Submit ``fn`` in ``lane`` when ``executor`` is a ``LanePool``, else plainly."""
    if isinstance(executor, LanePool):
        return executor.submit_in(lane, fn)
    return executor.submit(fn)
