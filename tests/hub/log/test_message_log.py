"""The message log: group commit, durability, proofs, pruning, checkpoints.

Tests taking ``backend`` run on SQLite and on PostgreSQL; the rest are about
the SQLite file itself (read-only opening, a killed writer, secure delete).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from hub.log.checkpoint import Checkpoint, sign_checkpoint
from hub.log.cosignature import cosign
from hub.log.entry import LogEntry
from hub.log.errors import (
    LogEvidenceInvalid,
    LogRangeError,
    LogStoreError,
    NoteSignatureInvalid,
)
from hub.log.merkle import (
    LeafHash,
    leaf_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)
from hub.log.message_log import GroupCommit, MessageLog
from hub.log.note import (
    MAX_SIGNATURE_LINES,
    NoteSigner,
    NoteVerifier,
    generate_cosigner_key,
    parse_note,
)
from hub.log.store import LogStorage, Pruned
from hub.storage.log_folder import open_sqlite_log
from hub.storage.sqlite.log import LOG_DB_NAME, SqliteLogStorage
from tests.support.log_backends import Backend
from tests.support.paths import REPO
from tests.support.signed_messages import SignerFor, sample_messages

CREATED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture(scope="module")
def messages(signer_for: SignerFor) -> list[tuple[LogEntry, bytes]]:
    return sample_messages(signer_for, CREATED)


@pytest.fixture
def log(backend: Backend) -> MessageLog:
    return MessageLog(backend.storage)


@pytest.fixture
def sqlite_log(tmp_path: Path) -> Iterator[MessageLog]:
    opened = open_sqlite_log(tmp_path / "log")
    yield opened
    opened.close()


class _CountingStorage:
    """The real SQLite storage, counting commits and optionally holding them back.

    The rest of ``LogStorage`` is forwarded by ``__getattr__``, which mypy cannot
    see, so tests hand it to ``MessageLog`` through ``cast(LogStorage, ...)``.
    """

    def __init__(self, inner: LogStorage) -> None:
        self.inner = inner
        self.batches: list[int] = []
        self.release = threading.Event()
        self.release.set()
        self.fail_next = False

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def append(self, items: Sequence[tuple[LogEntry, bytes]]) -> int:
        self.release.wait(timeout=10)
        if self.fail_next:
            self.fail_next = False
            raise LogStoreError("disk full")
        self.batches.append(len(items))
        return self.inner.append(items)


def _leaf_hashes(log: MessageLog) -> list[LeafHash]:
    return [leaf_hash(r.leaf) for r in log.storage.records(0, log.size())]


def test_appends_read_back_and_the_root_is_rfc9162(
    log: MessageLog, messages: list[tuple[LogEntry, bytes]]
) -> None:
    indices = log.append_many(messages[:7])
    assert indices == range(0, 7)
    assert log.append_many(messages[7:]) == range(7, len(messages))
    for index, (entry, raw) in enumerate(messages):
        assert log.entry(index) == entry
        assert log.message(index) == raw
        assert log.find(entry.message_id) == [index]
    size = log.size()
    assert log.root(size) == root_from_leaves([leaf_hash(e.leaf_bytes()) for e, _ in messages])
    for index in (0, 5, size - 1):
        proof = log.inclusion_proof(index, size)
        verify_inclusion(leaf_hash(log.leaf(index)), index, size, proof, log.root(size))
    verify_consistency(5, size, log.consistency_proof(5, size), log.root(5), log.root(size))
    with pytest.raises(LogRangeError, match=f"leaf {size} is not in the log"):
        log.entry(size)


def test_bytes_that_do_not_match_the_entry_are_refused(
    log: MessageLog, messages: list[tuple[LogEntry, bytes]]
) -> None:
    entry, raw = messages[0]
    with pytest.raises(LogStoreError, match="do not match the entry's message_sha256"):
        log.append_many([(entry, raw + b" ")])
    assert log.size() == 0


async def test_concurrent_appends_share_commits(
    backend: Backend, messages: list[tuple[LogEntry, bytes]]
) -> None:
    storage = _CountingStorage(backend.storage)
    log = MessageLog(
        cast(LogStorage, storage), group_commit=GroupCommit(max_batch=64, max_delay=0.005)
    )
    items = [messages[n % len(messages)] for n in range(300)]
    indices = await asyncio.gather(*(log.append(entry, raw) for entry, raw in items))
    assert sorted(indices) == list(range(300))
    assert sum(storage.batches) == 300
    assert len(storage.batches) < 300 / 4, storage.batches
    assert max(storage.batches) <= 64
    # Each index holds the message appended for it.
    for index, (entry, _) in zip(indices, items, strict=True):
        assert log.entry(index) == entry
    await log.aclose()


async def test_append_is_acknowledged_only_after_its_commit(
    tmp_path: Path, messages: list[tuple[LogEntry, bytes]]
) -> None:
    path = tmp_path / LOG_DB_NAME
    storage = _CountingStorage(SqliteLogStorage(path))
    log = MessageLog(cast(LogStorage, storage))
    storage.release.clear()
    task = asyncio.create_task(log.append(*messages[0]))
    await asyncio.sleep(0.1)
    assert not task.done()
    assert SqliteLogStorage(path, read_only=True).nodes.size() == 0
    storage.release.set()
    index = await task
    # A separate connection, as after a restart, sees the acknowledged leaf.
    reopened = MessageLog(SqliteLogStorage(path, read_only=True))
    assert reopened.entry(index) == messages[0][0]
    assert reopened.message(index) == messages[0][1]
    await log.aclose()


async def test_a_failed_commit_fails_every_waiter_of_its_batch_and_stores_nothing(
    backend: Backend, messages: list[tuple[LogEntry, bytes]]
) -> None:
    storage = _CountingStorage(backend.storage)
    log = MessageLog(cast(LogStorage, storage), group_commit=GroupCommit(max_delay=0.02))
    storage.fail_next = True
    results = await asyncio.gather(
        *(log.append(e, r) for e, r in messages[:5]), return_exceptions=True
    )
    assert all(isinstance(r, LogStoreError) and "disk full" in r.reason for r in results)
    assert log.size() == 0
    assert await log.append(*messages[5]) == 0
    await log.aclose()
    with pytest.raises(LogStoreError, match="closed"):
        await log.append(*messages[6])


def test_a_failing_append_leaves_neither_leaves_nor_nodes(
    log: MessageLog, backend: Backend, messages: list[tuple[LogEntry, bytes]]
) -> None:
    log.append_many(messages[:3])
    root = log.root(3)
    # Another writer squats the next message slot: the batch must roll back whole.
    backend.tamper(
        "INSERT INTO log_message (idx, raw) SELECT 4, raw FROM log_message WHERE idx = 0"
    )
    with pytest.raises(LogStoreError, match="already holds"):
        log.append_many(messages[3:6])
    assert log.size() == 3
    assert log.root(3) == root
    assert [r.index for r in log.storage.records(0, 100)] == [0, 1, 2]


_CHILD = """
import asyncio, pickle, sys
from hub.storage.log_folder import open_sqlite_log
items = pickle.loads(sys.stdin.buffer.read())
async def main():
    log = open_sqlite_log(__import__("pathlib").Path(sys.argv[1]))
    async def one(n):
        entry, raw = items[n % len(items)]
        index = await log.append(entry, raw)
        print(index, flush=True)
    while True:
        await asyncio.gather(*(one(n) for n in range(20)))
asyncio.run(main())
"""


def test_acknowledged_leaves_survive_a_killed_process(
    tmp_path: Path, messages: list[tuple[LogEntry, bytes]]
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path / "log")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert child.stdin is not None
    assert child.stdout is not None
    child.stdin.write(pickle.dumps(messages))
    child.stdin.close()
    acknowledged = [int(child.stdout.readline()) for _ in range(60)]
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    log = open_sqlite_log(tmp_path / "log")
    size = log.size()
    assert size > max(acknowledged)
    assert len(list(log.storage.records(0, size + 100))) == size
    assert log.root(size) == root_from_leaves(_leaf_hashes(log))
    log.close()


def test_pruning_deletes_bytes_keeps_leaves_and_says_why(
    log: MessageLog, messages: list[tuple[LogEntry, bytes]]
) -> None:
    log.append_many(messages)
    size, root = log.size(), log.root(log.size())
    # The signature value is unique to the message (its certificate is not).
    found = re.search(rb"SignatureValue>([^<]+)<", messages[2][1])
    assert found is not None
    marker = found.group(1)
    assert log.prune(range(0, 4), "R-30-DAYS") == 4
    assert log.prune(lambda e: e.message_class == "Referral", "R-REFERRAL") == 1
    assert log.prune(range(0, 4), "R-AGAIN") == 0
    assert (log.size(), log.root(size)) == (size, root)
    pruned = log.message(2)
    assert isinstance(pruned, Pruned)
    assert (pruned.index, pruned.rule_id) == (2, "R-30-DAYS")
    assert "pruned by retention rule R-30-DAYS" in str(pruned)
    referral = next(i for i, (e, _) in enumerate(messages) if e.message_class == "Referral")
    assert isinstance(log.message(referral), Pruned)
    assert log.message(5) == messages[5][1]
    if isinstance(log.storage, SqliteLogStorage):
        # secure_delete and a truncated WAL: the bytes are gone from the files too.
        files = b"".join(p.read_bytes() for p in log.storage.path.parent.iterdir())
        assert marker not in files
    with pytest.raises(LogRangeError, match="retention rule id"):
        log.prune(range(0, 1), "no spaces allowed")


def test_bytes_gone_without_a_pruning_record_are_evidence_of_deletion(
    log: MessageLog, backend: Backend, messages: list[tuple[LogEntry, bytes]]
) -> None:
    log.append_many(messages[:3])
    backend.tamper("DELETE FROM log_message WHERE idx = 1")
    with pytest.raises(LogEvidenceInvalid, match="leaf 1: message bytes are missing"):
        log.message(1)


def test_checkpoints_must_match_the_tree(
    log: MessageLog, messages: list[tuple[LogEntry, bytes]], log_signer: NoteSigner
) -> None:
    log.append_many(messages[:4])
    good = sign_checkpoint(Checkpoint(log_signer.name, 4, log.root(4)), log_signer)
    stored = log.add_checkpoint(good)
    assert (stored.size, stored.note) == (4, good)
    assert log.latest_checkpoint() == stored
    wrong = sign_checkpoint(Checkpoint(log_signer.name, 3, log.root(4)), log_signer)
    with pytest.raises(LogEvidenceInvalid, match="this log's root is"):
        log.add_checkpoint(wrong)
    with pytest.raises(LogRangeError, match="outside the log"):
        log.add_checkpoint(sign_checkpoint(Checkpoint(log_signer.name, 9, log.root(4)), log_signer))
    with pytest.raises(LogStoreError, match="already holds"):
        log.add_checkpoint(good)


def test_cosignatures_are_verified_and_the_served_note_stays_openable(
    log: MessageLog, messages: list[tuple[LogEntry, bytes]], log_signer: NoteSigner
) -> None:
    log.append_many(messages[:2])
    note = log.add_checkpoint(
        sign_checkpoint(Checkpoint(log_signer.name, 2, log.root(2)), log_signer)
    ).note
    text = parse_note(note).text
    witnesses = [
        NoteSigner.from_key_text(generate_cosigner_key(f"w{n}.example")[0]) for n in range(40)
    ]
    keys: list[NoteVerifier] = [w.verifier for w in witnesses]
    for witness in witnesses:
        assert log.add_cosignature(2, cosign(text, witness, timestamp=1), witnesses=keys)
    assert not log.add_cosignature(2, cosign(text, witnesses[0], timestamp=2), witnesses=keys)
    stranger = NoteSigner.from_key_text(generate_cosigner_key("stranger.example")[0])
    with pytest.raises(NoteSignatureInvalid, match="not a configured witness"):
        log.add_cosignature(2, cosign(text, stranger, timestamp=1), witnesses=keys)
    other_text = text.replace(b"\n2\n", b"\n1\n")
    with pytest.raises(NoteSignatureInvalid, match="does not verify"):
        log.add_cosignature(2, cosign(other_text, witnesses[1], timestamp=1), witnesses=keys)
    with pytest.raises(LogRangeError, match="no checkpoint of size 1"):
        log.add_cosignature(1, cosign(text, witnesses[1], timestamp=1), witnesses=keys)
    served = log.checkpoint_note()
    assert served is not None
    assert len(parse_note(served).signatures) == MAX_SIGNATURE_LINES
    assert len(log.cosignatures(2)) == 40


def test_read_only_open_refuses_what_is_not_a_log(tmp_path: Path) -> None:
    with pytest.raises(LogStoreError, match="cannot open message log"):
        open_sqlite_log(tmp_path / "absent", read_only=True)
    other = tmp_path / "other"
    other.mkdir()
    sqlite3.connect(other / LOG_DB_NAME).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(LogStoreError, match="is not a message log"):
        open_sqlite_log(other, read_only=True)


def test_a_read_only_log_refuses_writes(
    sqlite_log: MessageLog, messages: list[tuple[LogEntry, bytes]], tmp_path: Path
) -> None:
    log = sqlite_log
    log.append_many(messages[:1])
    reader = open_sqlite_log(tmp_path / "log", read_only=True)
    with pytest.raises(LogStoreError, match="open read-only"):
        reader.append_many(messages[1:2])
    reader.close()
    assert log.size() == 1


def test_a_malformed_stored_row_is_a_store_error_not_a_crash(
    sqlite_log: MessageLog, messages: list[tuple[LogEntry, bytes]]
) -> None:
    log = sqlite_log
    log.append_many(messages[:3])
    log.prune(range(1, 2), "R-1")
    assert isinstance(log.storage, SqliteLogStorage)
    with sqlite3.connect(log.storage.path) as attacker:
        attacker.execute("UPDATE log_pruned SET pruned_at = 'yesterday'")
        attacker.execute("UPDATE log_message SET raw = raw || 'x' WHERE idx = 2")
    with pytest.raises(LogStoreError, match="a stored row is malformed"):
        log.message(1)
    # A value stored as TEXT is read as its bytes, and then no longer matches its leaf.
    assert isinstance(log.message(2), bytes)
    assert log.message(2) != messages[2][1]
