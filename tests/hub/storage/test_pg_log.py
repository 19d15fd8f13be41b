"""Several hub instances sharing one message log on PostgreSQL.

Each "instance" here is what a hub process holds: its own ``PgDatabase``
(pool and connections) and its own ``MessageLog`` with group commit. They
append at the same time; the log must come out as one gap-free order whose
tree is the RFC 9162 tree of the stored leaves, and checkpoints must be signed
by one instance at a time, each size once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from hub.log.checkpoint import open_note
from hub.log.checkpointer import Checkpointer
from hub.log.entry import LogEntry
from hub.log.merkle import leaf_hash, root_from_leaves
from hub.log.message_log import GroupCommit, MessageLog
from hub.log.note import NoteSigner
from hub.storage.postgresql.database import PgDatabase
from hub.storage.postgresql.log import PgLogStorage
from tests.support.signed_messages import SignerFor, sample_messages

pytestmark = pytest.mark.postgres

CREATED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture(scope="module")
def messages(signer_for: SignerFor) -> list[tuple[LogEntry, bytes]]:
    return sample_messages(signer_for, CREATED)


@pytest.fixture
def instances(pg_dsn: str) -> Iterator[list[MessageLog]]:
    databases = [PgDatabase(pg_dsn, pool_size=4) for _ in range(3)]
    yield [
        MessageLog(PgLogStorage(db), group_commit=GroupCommit(max_batch=16, max_delay=0.001))
        for db in databases
    ]
    for database in databases:
        database.close()


async def test_appends_from_several_instances_get_one_gap_free_order(
    instances: list[MessageLog], messages: list[tuple[LogEntry, bytes]]
) -> None:
    per_instance = 60
    work = [
        (log, messages[(n + k) % len(messages)])
        for k, log in enumerate(instances)
        for n in range(per_instance)
    ]
    indices = await asyncio.gather(*(log.append(entry, raw) for log, (entry, raw) in work))
    total = per_instance * len(instances)
    assert sorted(indices) == list(range(total))
    reader = instances[0]
    assert reader.size() == total
    records = list(reader.storage.records(0, total + 10))
    assert [r.index for r in records] == list(range(total))
    # Each instance's leaf is where it was told, and the tree is over exactly these leaves.
    for index, (_, (entry, raw)) in zip(indices, work, strict=True):
        assert reader.entry(index) == entry
        assert reader.message(index) == raw
    hashes = [leaf_hash(r.leaf) for r in records]
    for log in instances:
        assert log.root(total) == root_from_leaves(hashes)


def test_one_instance_signs_at_a_time_and_each_size_once(
    instances: list[MessageLog], messages: list[tuple[LogEntry, bytes]], log_signer: NoteSigner
) -> None:
    checkpointers = [Checkpointer(log=log, signer=log_signer) for log in instances]
    first, second = instances[0], instances[1]
    with first.signing_turn() as mine:
        assert mine
        with second.signing_turn() as theirs:
            assert not theirs
    with second.signing_turn() as theirs:
        assert theirs

    stop = threading.Event()

    def append_meanwhile() -> None:
        n = 0
        while not stop.is_set():
            instances[n % 3].append_many([messages[n % len(messages)]])
            n += 1

    appender = threading.Thread(target=append_meanwhile)
    appender.start()
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            for _ in range(10):
                list(pool.map(lambda c: c.sign_now(), checkpointers))
    finally:
        stop.set()
        appender.join()
    latest = checkpointers[0].sign_now()
    stored = first.checkpoints()
    sizes = [c.size for c in stored]
    assert sizes == sorted(set(sizes))
    assert latest.size == first.size()
    for checkpoint in stored:
        signed = open_note(checkpoint.note, required=log_signer.verifier)
        assert signed.checkpoint.root_hash == first.root(checkpoint.size)
