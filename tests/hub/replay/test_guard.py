"""Freshness windows and duplicate elimination, on every seen-message store.

The same tests run on the in-memory store, SQLite and PostgreSQL; the last
ones show that several hub instances on one PostgreSQL share replay detection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.clock import FixedClock
from hub.errors import DuplicateMessage, StaleMessage
from hub.identifiers import AuthorityCode, MessageId, new_message_id
from hub.replay.guard import FreshnessPolicy, ReplayGuard, Sighting
from hub.replay.store import SeenStore
from hub.storage.memory.seen import MemorySeenStore
from hub.storage.postgresql.database import PgDatabase
from hub.storage.postgresql.seen import PgSeenStore
from hub.storage.sqlite.seen import SqliteSeenStore

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
LAMBETH = AuthorityCode("E09000022")
SOUTHWARK = AuthorityCode("E09000028")


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SeenStore]:
    if request.param == "memory":
        yield MemorySeenStore()
        return
    if request.param == "postgresql":
        database = PgDatabase(request.getfixturevalue("pg_dsn"), pool_size=2)
        yield PgSeenStore(database)
        database.close()
        return
    sqlite_store = SqliteSeenStore(tmp_path / "seen.sqlite")
    yield sqlite_store
    sqlite_store.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def guard(store: SeenStore, clock: FixedClock) -> ReplayGuard:
    return ReplayGuard(store=store, clock=clock)


def _check(
    guard: ReplayGuard,
    message_id: MessageId,
    digest: bytes = b"d1",
    *,
    sender: AuthorityCode = LAMBETH,
    created: datetime = NOW,
    expires: datetime | None = None,
) -> Sighting:
    return guard.check(
        sender=sender, message_id=message_id, created=created, expires=expires, digest=digest
    )


def test_first_sighting_then_retry_with_same_bytes(guard: ReplayGuard) -> None:
    message_id = new_message_id()
    assert _check(guard, message_id) is Sighting.FIRST
    assert _check(guard, message_id) is Sighting.RETRY


def test_same_id_with_other_bytes_is_a_duplicate(guard: ReplayGuard) -> None:
    message_id = new_message_id()
    _check(guard, message_id, b"original")
    with pytest.raises(DuplicateMessage, match=f"{message_id} from E09000022 was already received"):
        _check(guard, message_id, b"altered")


def test_message_ids_are_per_sender(guard: ReplayGuard) -> None:
    message_id = new_message_id()
    assert _check(guard, message_id) is Sighting.FIRST
    assert _check(guard, message_id, sender=SOUTHWARK) is Sighting.FIRST


@pytest.mark.parametrize(
    ("created_offset", "message"),
    [
        (timedelta(minutes=-6), "more than 0:05:00 before the receiver's clock"),
        (timedelta(minutes=6), "more than 0:05:00 ahead of the receiver's clock"),
    ],
)
def test_created_outside_window_is_stale(
    guard: ReplayGuard, created_offset: timedelta, message: str
) -> None:
    with pytest.raises(StaleMessage, match=message):
        _check(guard, new_message_id(), created=NOW + created_offset)


def test_created_at_window_edge_is_fresh(guard: ReplayGuard) -> None:
    assert _check(guard, new_message_id(), created=NOW - timedelta(minutes=5)) is Sighting.FIRST


def test_expired_message_is_stale(guard: ReplayGuard) -> None:
    with pytest.raises(StaleMessage, match="message expired at 2026-11-24T09:59:59Z"):
        _check(
            guard,
            new_message_id(),
            created=NOW - timedelta(minutes=1),
            expires=NOW - timedelta(seconds=1),
        )


def test_store_and_forward_retry_a_day_later_is_recognised(
    guard: ReplayGuard, clock: FixedClock
) -> None:
    # SPEC §2: a retry reuses the same bytes, so its Created ages; Expires governs.
    message_id = new_message_id()
    expires = NOW + timedelta(days=5)
    assert _check(guard, message_id, expires=expires) is Sighting.FIRST
    clock.advance(timedelta(days=1))
    assert _check(guard, message_id, expires=expires) is Sighting.RETRY
    with pytest.raises(DuplicateMessage, match="different content"):
        _check(guard, message_id, b"changed", expires=expires)


def test_lifetime_longer_than_policy_is_refused(guard: ReplayGuard) -> None:
    with pytest.raises(StaleMessage, match=r"at most 6 days, 0:00:00 is accepted"):
        _check(guard, new_message_id(), expires=NOW + timedelta(days=7))


def test_skew_is_configurable(store: SeenStore, clock: FixedClock) -> None:
    guard = ReplayGuard(
        store=store, clock=clock, policy=FreshnessPolicy(max_clock_skew=timedelta(seconds=30))
    )
    with pytest.raises(StaleMessage, match="more than 0:00:30 before"):
        _check(guard, new_message_id(), created=NOW - timedelta(seconds=31))


def test_forgetting_old_sightings(store: SeenStore) -> None:
    old, recent = new_message_id(), new_message_id()
    store.remember(LAMBETH, old, b"a", NOW - timedelta(hours=1))
    store.remember(LAMBETH, recent, b"b", NOW + timedelta(hours=1))
    assert store.forget_before(NOW) == 1
    assert store.remember(LAMBETH, old, b"a2", NOW) is None
    assert store.remember(LAMBETH, recent, b"b2", NOW) == b"b"


def test_sqlite_store_survives_reopening(tmp_path: Path) -> None:
    message_id = new_message_id()
    first = SqliteSeenStore(tmp_path / "seen.sqlite")
    first.remember(LAMBETH, message_id, b"digest", NOW)
    first.close()
    second = SqliteSeenStore(tmp_path / "seen.sqlite")
    assert second.remember(LAMBETH, message_id, b"other", NOW) == b"digest"
    second.close()


@pytest.mark.postgres
def test_instances_on_one_postgresql_share_replay_detection(pg_dsn: str) -> None:
    # Two hub instances (two pools); the same message reaches both at once,
    # many times over: exactly one first sighting per message, the rest retries.
    instances = [PgDatabase(pg_dsn, pool_size=4) for _ in range(2)]
    guards = [ReplayGuard(store=PgSeenStore(db), clock=FixedClock(NOW)) for db in instances]
    ids = [new_message_id() for _ in range(40)]
    seen: list[Sighting] = []
    lock = threading.Lock()

    def arrive(guard: ReplayGuard) -> None:
        for message_id in ids:
            sighting = _check(guard, message_id)
            with lock:
                seen.append(sighting)

    workers = [threading.Thread(target=arrive, args=(g,)) for g in guards * 2]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert seen.count(Sighting.FIRST) == len(ids)
    assert seen.count(Sighting.RETRY) == 3 * len(ids)
    # A replay with other bytes is refused by the instance that did not see the first.
    with pytest.raises(DuplicateMessage, match="already received with different content"):
        _check(guards[1], ids[0], digest=b"other")
    for database in instances:
        database.close()
