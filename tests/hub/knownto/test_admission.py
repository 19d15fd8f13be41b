"""Admission control of known-to fan-outs: bounded, fair, and refusals at once with Retry-After."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from hub.errors import Busy, RequesterBusy
from hub.identifiers import AuthorityCode
from hub.knownto.admission import Admission, NodeSlots
from hub.knownto.settings import FanoutSettings
from hub.metrics import Metrics

A = AuthorityCode("E09000022")
B = AuthorityCode("E09000028")
C = AuthorityCode("E09000008")


def _admission(**settings: object) -> Admission:
    return Admission(FanoutSettings(**settings), Metrics())  # type: ignore[arg-type]


def _times(seconds: float = 5.0) -> dict[str, float]:
    now = asyncio.get_running_loop().time()
    return {"ends_at": now + seconds, "latest_start": now + seconds - 1.0}


def _sample(admission: Admission, name: str, **labels: str) -> float:
    return admission.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_beyond_max_in_flight_is_busy_at_once_with_retry_after() -> None:
    admission = _admission(max_in_flight=2, max_waiting=0)
    async with AsyncExitStack() as held:
        await held.enter_async_context(admission.admit(A, **_times(4.2)))
        await held.enter_async_context(admission.admit(B, **_times(9.0)))
        with pytest.raises(Busy, match=r"running all the known-to queries it admits \(2\)") as busy:
            await held.enter_async_context(admission.admit(C, **_times()))
        assert type(busy.value) is Busy
        assert busy.value.http_status == 503
        assert busy.value.retry_after == 5  # the earliest running fan-out ends in 4.2 s
        assert admission.running == 2
    assert admission.running == 0
    assert _sample(admission, "irt_fanout_rejections_total", reason="hub-busy") == 1
    assert _sample(admission, "irt_fanout_in_flight") == 0


async def test_an_authority_beyond_its_share_is_429_counting_its_waiting_queries() -> None:
    admission = _admission(max_in_flight=2, max_in_flight_per_authority=2, max_waiting=2)
    async with AsyncExitStack() as held:
        await held.enter_async_context(admission.admit(A, **_times(3.0)))
        await held.enter_async_context(admission.admit(B, **_times(8.0)))
        waiting = asyncio.create_task(held.enter_async_context(admission.admit(A, **_times())))
        await asyncio.sleep(0)
        assert admission.waiting == 1
        with pytest.raises(RequesterBusy, match="E09000022 already has 2 known-to queries") as busy:
            await held.enter_async_context(admission.admit(A, **_times()))
        assert busy.value.http_status == 429
        assert busy.value.code == "busy"
        assert busy.value.retry_after == 3  # A's own earliest fan-out, not B's
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    assert (admission.running, admission.waiting) == (0, 0)
    assert _sample(admission, "irt_fanout_rejections_total", reason="requester-busy") == 1


async def test_a_freed_slot_goes_to_the_waiting_authority_running_fewest() -> None:
    admission = _admission(
        max_in_flight=2, max_in_flight_per_authority=2, max_waiting=2, max_wait_seconds=2.0
    )
    order: list[str] = []
    leave = {name: asyncio.Event() for name in ("a1", "b1", "a2", "c1")}

    async def run(name: str, authority: AuthorityCode) -> None:
        async with admission.admit(authority, **_times()):
            order.append(name)
            await leave[name].wait()

    tasks = [asyncio.create_task(run("a1", A)), asyncio.create_task(run("b1", B))]
    await asyncio.sleep(0.01)
    tasks.append(asyncio.create_task(run("a2", A)))  # waits first
    await asyncio.sleep(0.01)
    tasks.append(asyncio.create_task(run("c1", C)))  # waits second
    await asyncio.sleep(0.01)
    assert (order, admission.waiting) == (["a1", "b1"], 2)
    assert _sample(admission, "irt_fanout_waiting") == 2
    leave["b1"].set()  # A still runs one, C none: C goes first
    await asyncio.sleep(0.01)
    assert order == ["a1", "b1", "c1"]
    leave["a1"].set()
    await asyncio.sleep(0.01)
    assert order == ["a1", "b1", "c1", "a2"]
    for event in leave.values():
        event.set()
    await asyncio.gather(*tasks)
    assert (admission.running, admission.waiting) == (0, 0)


async def test_a_wait_ends_in_busy_and_never_outlasts_the_latest_start() -> None:
    admission = _admission(max_in_flight=1, max_waiting=4, max_wait_seconds=5.0)
    async with admission.admit(A, **_times()):
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(Busy, match="ask again, as a new query, after Retry-After"):
            async with admission.admit(B, ends_at=started + 1.2, latest_start=started + 0.2):
                pass
        assert 0.15 < loop.time() - started < 1.0  # waited until the latest start, no more
        with pytest.raises(Busy):  # no time left to wait at all: refused at once
            async with admission.admit(C, ends_at=started, latest_start=started - 1):
                pass
        assert admission.waiting == 0


async def test_node_slots_hold_a_slow_node_to_its_own_slots() -> None:
    slots = NodeSlots(per_node=1)
    loop = asyncio.get_running_loop()
    assert await slots.acquire(A, until=loop.time() + 1)
    assert not await slots.acquire(A, until=loop.time() + 0.05)  # A's one slot is taken
    assert await slots.acquire(B, until=loop.time() + 0.05)  # B is not held up by A
    slots.release(A)
    assert await slots.acquire(A, until=loop.time() + 0.05)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"max_in_flight": 0}, "must be at least 1"),
        ({"max_wait_seconds": 9}, "max_wait_seconds must be between 0 and 5"),
        ({"result_reserve_seconds": 1.0}, "below min_fanout_seconds"),
        ({"max_in_flight": 2.5}, "option 'max_in_flight' must be an int"),
        ({"max_wait_seconds": True}, "option 'max_wait_seconds' must be a number"),
        ({"queue": 3}, "unknown option"),
    ],
)
def test_impossible_settings_are_refused(table: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FanoutSettings.from_table(table)


def test_settings_from_a_table() -> None:
    settings = FanoutSettings.from_table({"max_in_flight": 32, "max_wait_seconds": 1})
    assert (settings.max_in_flight, settings.max_wait_seconds) == (32, 1)
    assert settings.max_in_flight_per_authority == FanoutSettings().max_in_flight_per_authority
