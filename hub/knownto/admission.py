"""Admission control for known-to fan-outs: bounded, fair, and never a silent queue.

``Admission.admit`` lets a fan-out start, or refuses it at once:

(1) an authority that already runs or waits for its share of the slots
    (``max_in_flight_per_authority``) is refused ``RequesterBusy`` (429);
(2) a free slot is taken at once;
(3) otherwise the query waits in a bounded waiting room for at most
    ``max_wait_seconds``, and never past the last moment it could still be
    answered in time; a slot that frees goes to the waiting authority that
    runs the fewest fan-outs (then to the longest waiting), never to a
    newcomer;
(4) with no room to wait, or no slot in time, it is refused ``Busy`` (503).

A refusal's ``retry_after`` is the time until the earliest of the relevant
fan-outs reaches its deadline, when its slot is free at the latest.

``NodeSlots`` bounds the forwards in flight to each node, so a slow node
holds its own slots and nobody else's. All times are event loop times
(``loop.time()``), which do not jump with the wall clock.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from hub.errors import Busy, RequesterBusy
from hub.identifiers import AuthorityCode
from hub.knownto.settings import FanoutSettings
from hub.metrics import Metrics

__all__ = ["Admission", "NodeSlots"]


@dataclass(eq=False, slots=True)
class _Ticket:
    authority: AuthorityCode
    ends_at: float
    """Loop time of the fan-out's deadline: its slot is free by then."""


@dataclass(eq=False, slots=True)
class _Waiter:
    ticket: _Ticket
    order: int
    future: asyncio.Future[None]
    granted: bool = False


@dataclass
class Admission:
    """Slots for known-to fan-outs on one hub instance; see the module docstring."""

    settings: FanoutSettings
    metrics: Metrics
    _running: set[_Ticket] = field(default_factory=set)
    _waiting: list[_Waiter] = field(default_factory=list)
    _held: Counter[AuthorityCode] = field(default_factory=Counter)
    """Per authority: fan-outs running or waiting."""
    _order: itertools.count[int] = field(default_factory=itertools.count)

    @asynccontextmanager
    async def admit(
        self, requester: AuthorityCode, *, ends_at: float, latest_start: float
    ) -> AsyncIterator[None]:
        """Hold a slot for ``requester``'s fan-out while inside the block.

        ``ends_at`` is the loop time of the fan-out's deadline; a query not
        started by ``latest_start`` could not be answered in time. Raises
        ``RequesterBusy`` or ``Busy`` (with ``retry_after``) instead of
        waiting longer than ``max_wait_seconds``.
        """
        ticket = _Ticket(requester, ends_at)
        await self._enter(ticket, latest_start)
        try:
            yield
        finally:
            self._leave(ticket)

    @property
    def running(self) -> int:
        """Fan-outs holding a slot now."""
        return len(self._running)

    @property
    def waiting(self) -> int:
        """Queries waiting for a slot now."""
        return len(self._waiting)

    async def _enter(self, ticket: _Ticket, latest_start: float) -> None:
        settings = self.settings
        authority = ticket.authority
        if self._held[authority] >= settings.max_in_flight_per_authority:  # (1)
            self._refused("requester-busy")
            raise RequesterBusy(
                f"{authority} already has {self._held[authority]} known-to queries running or "
                f"waiting at the hub, its share of {settings.max_in_flight_per_authority}; "
                "ask again, as a new query, after Retry-After",
                retry_after=self._seconds_to_free(authority),
            )
        if len(self._running) < settings.max_in_flight and not self._waiting:  # (2)
            self._start(ticket)
            return
        loop = asyncio.get_running_loop()
        wait = min(settings.max_wait_seconds, latest_start - loop.time())
        if len(self._waiting) >= settings.max_waiting or wait <= 0:  # (4)
            self._refuse_busy()
        waiter = _Waiter(ticket, next(self._order), loop.create_future())  # (3)
        self._waiting.append(waiter)
        self._held[authority] += 1
        self._gauges()
        try:
            async with asyncio.timeout(wait):
                await waiter.future
        except TimeoutError:
            if not waiter.granted:
                self._forget(waiter)
                self._refuse_busy()
        except BaseException:
            if waiter.granted:
                self._leave(ticket)
            else:
                self._forget(waiter)
            raise

    def _start(self, ticket: _Ticket) -> None:
        self._running.add(ticket)
        self._held[ticket.authority] += 1
        self._gauges()

    def _leave(self, ticket: _Ticket) -> None:
        self._running.discard(ticket)
        self._release_hold(ticket.authority)
        self._hand_over()
        self._gauges()

    def _hand_over(self) -> None:
        """Give free slots to waiters: the authority running fewest, then the oldest."""
        while self._waiting and len(self._running) < self.settings.max_in_flight:
            running = Counter(t.authority for t in self._running)
            waiter = min(self._waiting, key=lambda w: (running[w.ticket.authority], w.order))
            self._waiting.remove(waiter)
            if waiter.future.done():  # gave up this very moment; it cleans up itself
                self._release_hold(waiter.ticket.authority)
                continue
            waiter.granted = True
            self._running.add(waiter.ticket)
            waiter.future.set_result(None)

    def _forget(self, waiter: _Waiter) -> None:
        if waiter in self._waiting:
            self._waiting.remove(waiter)
            self._release_hold(waiter.ticket.authority)
        self._gauges()

    def _release_hold(self, authority: AuthorityCode) -> None:
        self._held[authority] -= 1
        if self._held[authority] <= 0:
            del self._held[authority]

    def _refuse_busy(self) -> None:
        self._refused("hub-busy")
        raise Busy(
            f"the hub is running all the known-to queries it admits "
            f"({self.settings.max_in_flight}); ask again, as a new query, after Retry-After",
            retry_after=self._seconds_to_free(None),
        )

    def _refused(self, reason: str) -> None:
        self.metrics.fanout_rejections.labels(reason).inc()

    def _seconds_to_free(self, authority: AuthorityCode | None) -> float:
        ends = [t.ends_at for t in self._running if authority in (None, t.authority)]
        if not ends:
            return 1.0
        return max(min(ends) - asyncio.get_running_loop().time(), 1.0)

    def _gauges(self) -> None:
        self.metrics.fanout_in_flight.set(len(self._running))
        self.metrics.fanout_waiting.set(len(self._waiting))


@dataclass
class NodeSlots:
    """At most ``per_node`` forwards in flight to each node."""

    per_node: int
    _slots: dict[AuthorityCode, asyncio.Semaphore] = field(default_factory=dict)

    async def acquire(self, node: AuthorityCode, *, until: float) -> bool:
        """Take one of ``node``'s slots, waiting until loop time ``until`` at most.

        Returns ``False`` when none freed in time; after ``True`` the caller
        must ``release`` the slot.
        """
        slots = self._slots.get(node)
        if slots is None:
            slots = self._slots[node] = asyncio.Semaphore(self.per_node)
        try:
            async with asyncio.timeout_at(until):
                await slots.acquire()
        except TimeoutError:
            return False
        return True

    def release(self, node: AuthorityCode) -> None:
        """Give back a slot taken with ``acquire``."""
        self._slots[node].release()
