"""The referral store on SQLite and PostgreSQL: idempotent accept, atomic writes,
claims, leases, outcomes; and, on PostgreSQL, couriers of several hub
instances claiming from one outbox without ever sharing a row."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.errors import InternalError
from hub.identifiers import AuthorityCode, MessageId, new_message_id
from hub.referral.store import (
    Delivered,
    GiveUp,
    OutboxItem,
    Outgoing,
    ReferralRecord,
    RetryLater,
    StatusRecord,
)
from hub.storage.postgresql.database import PgDatabase
from hub.storage.postgresql.referrals import PgReferralStore
from hub.storage.sqlite.referrals import SqliteReferralStore

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LAMBETH = AuthorityCode("E09000022")
SOUTHWARK = AuthorityCode("E09000028")
# Every test runs on both backends, through what the two stores have in common.
_Store = SqliteReferralStore | PgReferralStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[_Store]:
    if request.param == "sqlite":
        yield SqliteReferralStore(tmp_path / "referrals.sqlite")
        return
    database = PgDatabase(request.getfixturevalue("pg_dsn"), pool_size=2)
    yield PgReferralStore(database)
    database.close()


def _referral(message_id: MessageId | None = None) -> tuple[ReferralRecord, Outgoing]:
    referral_id = message_id or new_message_id()
    record = ReferralRecord(
        message_id=referral_id,
        referrer=LAMBETH,
        target=SOUTHWARK,
        service_id="southwark-camhs",
        digest=b"d" * 32,
        received_at=NOW,
        deliver_by=NOW + timedelta(days=5),
        granted_level="contacts",
        decision_digest="0" * 64,
        referral=b"<referral/>",
        receipt=b"<receipt/>",
    )
    forward = Outgoing(
        referral_id=referral_id,
        kind="forward",
        recipient=SOUTHWARK,
        message_id=new_message_id(),
        payload=b"<forward/>",
        deadline=record.deliver_by,
    )
    return record, forward


def _claim(store: _Store, now: datetime = NOW, owner: str = "hub") -> list[OutboxItem]:
    return store.claim(owner=owner, now=now, lease_seconds=60, limit=10)


def test_accept_stores_the_referral_and_queues_its_forward(store: _Store) -> None:
    record, forward = _referral()
    assert store.accept(record, forward) == record
    assert store.get(record.message_id) == record
    (item,) = _claim(store)
    assert item.outgoing == forward
    assert item.attempts == 1


def test_accept_twice_keeps_the_first(store: _Store) -> None:
    record, forward = _referral()
    store.accept(record, forward)
    again = replace(record, receipt=b"<other/>")
    _, other_forward = _referral(record.message_id)
    assert store.accept(again, other_forward).receipt == b"<receipt/>"
    assert store.counts() == {"pending": 1}


def test_a_failed_transaction_leaves_nothing_behind(store: _Store) -> None:
    record, forward = _referral()
    store.accept(record, forward)
    second, _ = _referral()
    clash = replace(forward, referral_id=second.message_id)  # same outbox MessageID
    with pytest.raises(InternalError, match=r"(?i)unique constraint"):
        store.accept(second, clash)
    assert store.get(second.message_id) is None
    assert store.counts() == {"pending": 1}


def test_a_claimed_row_is_not_claimed_again_until_its_lease_ends(
    store: _Store,
) -> None:
    store.accept(*_referral())
    assert len(_claim(store)) == 1
    assert _claim(store, owner="other") == []
    (again,) = _claim(store, NOW + timedelta(seconds=61), owner="other")
    assert again.attempts == 2


def test_release_frees_the_leases_of_a_previous_run(store: _Store) -> None:
    store.accept(*_referral())
    _claim(store)
    assert store.release("someone-else") == 0
    assert store.release("hub") == 1
    assert len(_claim(store)) == 1


def test_retry_later_waits_until_the_time_given(store: _Store) -> None:
    store.accept(*_referral())
    (item,) = _claim(store)
    store.settle(item, RetryLater(NOW + timedelta(seconds=30), "refused"), now=NOW)
    assert store.next_due() == NOW + timedelta(seconds=30)
    assert _claim(store, NOW + timedelta(seconds=29)) == []
    assert len(_claim(store, NOW + timedelta(seconds=30))) == 1


def test_delivered_marks_the_referral_and_keeps_the_node_receipt(
    store: _Store,
) -> None:
    record, forward = _referral()
    store.accept(record, forward)
    (item,) = _claim(store)
    store.settle(item, Delivered(b"<node-receipt/>"), now=NOW)
    stored = store.get(record.message_id)
    assert stored is not None
    assert stored.state == "delivered"
    assert stored.node_receipt == b"<node-receipt/>"
    assert store.counts() == {"done": 1}
    assert store.next_due() is None
    store.settle(item, GiveUp("late"), now=NOW)  # a second outcome for a settled row is ignored
    settled = store.get(record.message_id)
    assert settled is not None
    assert settled.state == "delivered"


def test_give_up_fails_the_referral_and_queues_the_notice_atomically(
    store: _Store,
) -> None:
    record, forward = _referral()
    store.accept(record, forward)
    (item,) = _claim(store)
    notice = replace(forward, kind="failure", recipient=LAMBETH, message_id=new_message_id())
    store.settle(item, GiveUp("window ended", notice), now=NOW)
    failed = store.get(record.message_id)
    assert failed is not None
    assert failed.state == "failed"
    (queued,) = _claim(store)
    assert queued.outgoing.kind == "failure"
    assert store.counts() == {"dead": 1, "pending": 1}


def test_statuses_keep_their_order_and_are_stored_once(store: _Store) -> None:
    record, forward = _referral()
    store.accept(record, forward)
    for status in ("received", "accepted"):
        entry = StatusRecord(
            message_id=new_message_id(),
            referral_id=record.message_id,
            status=status,
            at=NOW,
            received_at=NOW,
            digest=b"s" * 32,
            body=b"<status/>",
            signed=b"<signed/>",
            ack=b"<ack/>",
        )
        relay = replace(forward, kind="status", recipient=LAMBETH, message_id=new_message_id())
        assert store.add(entry, relay) == entry
        assert store.add(replace(entry, ack=b"<other/>"), relay).ack == b"<ack/>"
    assert [s.status for s in store.statuses(record.message_id)] == ["received", "accepted"]
    assert store.counts() == {"pending": 3}


def test_a_closed_store_reports_an_internal_error(store: _Store) -> None:
    store.close()
    with pytest.raises(InternalError, match=r"referral store failed|PostgreSQL .* is closed"):
        store.get(new_message_id())


@pytest.mark.postgres
def test_couriers_of_several_instances_never_claim_the_same_row(pg_dsn: str) -> None:
    databases = [PgDatabase(pg_dsn, pool_size=4) for _ in range(3)]
    stores = [PgReferralStore(db) for db in databases]
    for _ in range(120):
        stores[0].accept(*_referral())
    claimed: dict[str, list[int]] = {}

    def courier(store: PgReferralStore, owner: str) -> None:
        mine: list[int] = []
        while batch := store.claim(owner=owner, now=NOW, lease_seconds=60, limit=7):
            mine.extend(item.id for item in batch)
        claimed[owner] = mine

    workers = [
        threading.Thread(target=courier, args=(store, f"hub-{n}"))
        for n, store in enumerate(stores * 2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    every = [row for rows in claimed.values() for row in rows]
    assert len(every) == len(set(every)) == 120
    assert sum(1 for rows in claimed.values() if rows) > 1
    for database in databases:
        database.close()
