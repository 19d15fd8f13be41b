"""Store-and-forward under failure: nodes down, failing, slow, cut off; a failing database.

Each test runs its own small world (hub, Lambeth, Southwark). Failures are
injected in front of the hub's real HTTPS delivery (``ScriptedFaults``) or
through the storage interface; the nodes, signatures and SQLite are real.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from adapters.client.exchange import Signed
from hub.clock import FixedClock
from hub.errors import InternalError, IrtError
from hub.identifiers import MessageId
from hub.log.entry import LogEntry
from hub.log.errors import LogStoreError
from hub.pki.layout import PkiLayout
from hub.referral.settings import ReferralSettings
from hub.referral.store import Outgoing, ReferralRecord
from hub.transport.delivery import Delivery
from tests.support.parties import CROYDON, LAMBETH, SOCIAL_WORKER, SOUTHWARK
from tests.support.referral_world import ReferralWorld, ScriptedFaults, camhs_referral, wait_until

PURPOSE = "child-in-need-s17"
FAST = ReferralSettings(
    retry_base_seconds=0.05,
    retry_max_seconds=0.2,
    poll_seconds=0.05,
    attempt_timeout_seconds=0.3,
    lease_seconds=5,
)

WorldFactory = Callable[..., ReferralWorld]


@pytest_asyncio.fixture
async def make_world(
    dev_pki: PkiLayout, signed_protocols: Path, tmp_path: Path
) -> AsyncIterator[Callable[..., ReferralWorld]]:
    started: list[ReferralWorld] = []

    def make(**options: object) -> ReferralWorld:
        options.setdefault("authorities", (LAMBETH, SOUTHWARK))
        options.setdefault("settings", FAST)
        world = ReferralWorld(dev_pki, signed_protocols, tmp_path, **options)  # type: ignore[arg-type]
        started.append(world)
        return world

    yield make
    for world in started:
        await world.stop()


async def _started(world: ReferralWorld) -> ReferralWorld:
    await world.start()
    await world.publish_catalogues([SOUTHWARK])
    return world


async def _refer(world: ReferralWorld) -> Signed:
    client = world.referrals(LAMBETH)
    prepared = client.prepare(camhs_referral(), practitioner=SOCIAL_WORKER, purpose=PURPOSE)
    await client.submit(prepared)
    return prepared


def _state(world: ReferralWorld, referral_id: MessageId) -> str | None:
    stored = world.hub.store.get(referral_id)
    return stored.state if stored else None


def _injecting(made: list[ScriptedFaults]) -> Callable[[Delivery], Delivery]:
    def wrap(inner: Delivery) -> Delivery:
        made.append(ScriptedFaults(inner))
        return made[-1]

    return wrap


@pytest.mark.parametrize("fault", ["refuse", "500", "cut", "slow"])
async def test_failed_attempts_are_retried_until_delivered_exactly_once(
    make_world: WorldFactory, fault: str
) -> None:
    made: list[ScriptedFaults] = []
    world = await _started(make_world(wrap_delivery=_injecting(made)))
    southwark_url = world.node_urls[SOUTHWARK]
    made[0].scripts[southwark_url] = [fault, fault, fault]
    prepared = await _refer(world)
    await wait_until(lambda: _state(world, prepared.message_id) == "delivered")
    southwark = world.node_store(SOUTHWARK)
    assert [r.referral_id for r in southwark.received()] == [prepared.message_id]
    assert made[0].posts[southwark_url] == 4
    assert world.hub.store.counts() == {"done": 1}


async def test_node_down_for_the_whole_window_fails_and_tells_the_referrer(
    make_world: WorldFactory,
) -> None:
    # A one-day window keeps the fake clock inside the dev CRL's validity.
    settings = replace(
        FAST, delivery_window_hours=24, retry_base_seconds=600, retry_max_seconds=3600
    )
    clock = FixedClock(datetime.now(UTC))
    world = await _started(make_world(clock=clock, settings=settings, down=(SOUTHWARK,)))
    prepared = await _refer(world)
    await wait_until(lambda: world.hub.store.counts().get("pending") == 1)
    for _ in range(4):  # attempts through the day, each refused
        clock.advance(timedelta(hours=7))
        world.hub.courier.wake()
        await wait_until(lambda: world.hub.store.counts().get("pending", 0) >= 1)
    await wait_until(lambda: _state(world, prepared.message_id) == "failed")
    lambeth = world.node_store(LAMBETH)
    await wait_until(lambda: bool(lambeth.events(prepared.message_id)))
    (event,) = lambeth.events(prepared.message_id)
    assert event.kind == "failure"
    assert event.status == "failed"
    assert "did not accept the referral within the delivery window of 24 hours" in (
        event.detail or ""
    )
    history = await world.referrals(LAMBETH).history(prepared.message_id)
    assert history.delivery_state == "failed"


async def test_node_back_within_the_window_gets_the_referral(make_world: WorldFactory) -> None:
    world = await _started(make_world(down=(SOUTHWARK,)))
    prepared = await _refer(world)
    await wait_until(lambda: world.hub.store.counts().get("pending") == 1)
    await world.start_node(SOUTHWARK)
    await wait_until(lambda: _state(world, prepared.message_id) == "delivered")
    assert world.node_store(SOUTHWARK).get(prepared.message_id) is not None


@dataclass
class _FullDisk:
    """``ReferralStore.accept`` on a full disk: fails until space is freed (failure injection)."""

    stored: Callable[[ReferralRecord, Outgoing], ReferralRecord]
    """The real ``accept``, once the disk has room."""
    full: bool = True

    def accept(self, record: ReferralRecord, forward: Outgoing) -> ReferralRecord:
        if self.full:
            raise InternalError("referral store failed: database or disk is full")
        return self.stored(record, forward)


async def test_database_failure_is_a_clear_error_and_no_receipt(
    make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world = await _started(make_world())
    disk = _FullDisk(world.hub.store.accept)
    # The handlers are fixed when the hub is built: the failure goes in under them.
    monkeypatch.setattr(world.hub.store, "accept", disk.accept)
    client = world.referrals(LAMBETH)
    prepared = client.prepare(camhs_referral(), practitioner=SOCIAL_WORKER, purpose=PURPOSE)
    with pytest.raises(IrtError, match="the receiver failed; nothing was acknowledged") as refused:
        await client.submit(prepared)
    assert refused.value.code == "internal-error"
    # The cause is the operator's to read, in the hub's log; the borough is told no internals.
    assert "database or disk is full" not in refused.value.reason
    assert "referral store failed: database or disk is full" in caplog.text
    assert world.hub.store.get(prepared.message_id) is None
    assert world.hub.store.counts() == {}
    disk.full = False  # the operator frees space; the borough retries the same bytes
    receipt = await client.submit(prepared)
    assert receipt.referral_id == prepared.message_id
    await wait_until(lambda: _state(world, prepared.message_id) == "delivered")


async def test_what_was_stored_but_not_logged_is_logged_once_before_it_is_sent(
    make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between the commit and the log (here: the log failing once) leaves
    the referral stored and its forward and receipt unlogged and unsent. The
    courier logs the forward before sending it, the repeat logs the receipt
    before answering it: one entry each, the bytes that were sent."""
    world = await _started(make_world())
    log = world.hub_log
    append_once = log.append_once
    failures = [LogStoreError("the disk was pulled")]

    async def failing_once(entry: LogEntry, raw: bytes) -> int:
        if entry.message_class == "ReferralForward" and failures:
            raise failures.pop()
        return await append_once(entry, raw)

    monkeypatch.setattr(log, "append_once", failing_once)
    client = world.referrals(LAMBETH)
    prepared = client.prepare(camhs_referral(), practitioner=SOCIAL_WORKER, purpose=PURPOSE)
    with pytest.raises(IrtError, match="nothing was acknowledged; try again"):
        await client.submit(prepared)
    receipt = await client.submit(prepared)  # the same bytes, as a borough retries
    await wait_until(_reaches(world, prepared.message_id, "delivered"))
    (delivered,) = world.node_store(SOUTHWARK).received()
    out = [log.entry(i) for i in range(log.size()) if log.entry(i).direction == "out"]
    forwards = [e for e in out if e.message_class == "ReferralForward"]
    receipts = [e for e in out if e.message_class == "ReferralReceipt"]
    assert [e.message_sha256 for e in receipts] == [hashlib.sha256(receipt.signed).hexdigest()]
    assert len(forwards) == 1
    assert forwards[0].decision_digest is not None
    assert delivered.referral_id == prepared.message_id


async def test_a_restarted_hub_delivers_what_it_acknowledged(make_world: WorldFactory) -> None:
    world = await _started(make_world(down=(SOUTHWARK,)))
    prepared = [await _refer(world) for _ in range(3)]
    await world.stop_hub()
    await world.start_node(SOUTHWARK)
    await world.start_hub()
    for referral in prepared:
        await wait_until(_reaches(world, referral.message_id, "delivered"))
    received = {r.referral_id for r in world.node_store(SOUTHWARK).received()}
    assert received == {r.message_id for r in prepared}


async def test_a_slow_node_holds_only_its_own_referrals(make_world: WorldFactory) -> None:
    made: list[ScriptedFaults] = []
    settings = replace(FAST, attempt_timeout_seconds=2.5, lease_seconds=10, batch_size=4)
    world = make_world(
        authorities=(LAMBETH, SOUTHWARK, CROYDON), settings=settings, wrap_delivery=_injecting(made)
    )
    await world.start()
    await world.publish_catalogues([SOUTHWARK, CROYDON])
    made[0].scripts[world.node_urls[SOUTHWARK]] = ["slow"]
    slow = await _refer(world)
    client = world.referrals(LAMBETH)
    others = [
        client.prepare(
            camhs_referral(to=CROYDON, service_id="croydon-camhs"),
            practitioner=SOCIAL_WORKER,
            purpose=PURPOSE,
        )
        for _ in range(6)
    ]
    for referral in others:
        await client.submit(referral)
    await wait_until(
        lambda: all(_state(world, r.message_id) == "delivered" for r in others), timeout=2
    )
    assert _state(world, slow.message_id) == "queued"  # still waiting on Southwark
    await wait_until(lambda: _state(world, slow.message_id) == "delivered")


def _reaches(world: ReferralWorld, referral_id: MessageId, state: str) -> Callable[[], bool]:
    """A check for ``wait_until``: the hub holds ``referral_id`` in ``state``."""
    return lambda: _state(world, referral_id) == state
