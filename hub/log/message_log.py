"""``MessageLog``: the hub's verifiable message log (SPEC §8), with group commit.

Every message the hub receives (after verification) or sends is appended as
a ``LogEntry`` leaf with its exact bytes. ``append`` returns only once the
leaf, the bytes and the tree nodes are durable, so the hub never acknowledges
a message the log could lose. Appends arriving together share one commit
(group commit): the first append of a batch waits ``GroupCommit.max_delay``
for company, or less once ``max_batch`` entries are queued, then one storage
transaction — one fsync — commits the whole batch in a worker thread, and
every waiter learns its leaf index. ``append_many`` is the synchronous
equivalent for tools and benchmarks. ``append_once`` logs a message the hub
may send more than once (a stored receipt, an outbox row) a single time.

The rest reads: roots and RFC 9162 proofs over the stored tree, entries and
message bytes by index (``Pruned`` once a retention rule deleted them),
checkpoints and cosignatures.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Final

from hub.clock import Clock, SystemClock
from hub.log.checkpoint import Checkpoint
from hub.log.cosignature import verify_cosignature
from hub.log.entry import LogEntry
from hub.log.errors import LogEvidenceInvalid, LogRangeError, LogStoreError, NoteSignatureInvalid
from hub.log.merkle import RootHash
from hub.log.note import MAX_SIGNATURE_LINES, NoteVerifier, SignatureType, parse_note
from hub.log.store import LogStorage, Pruned, StoredCheckpoint, StoredCosignature
from hub.log.tree import consistency_proof, inclusion_proof, root

__all__ = ["GroupCommit", "MessageLog"]

_ALL: Final = 2**63 - 1
"""An index beyond any leaf, to read to the end."""


@dataclass(frozen=True, slots=True)
class GroupCommit:
    """How concurrent appends share a commit."""

    max_batch: int = 1000
    """Entries per commit at most: bounds one transaction's size and the time
    the batch's waiters spend behind it."""
    max_delay: float = 0.002
    """Seconds the first append of a batch waits for others before committing;
    a few milliseconds against an fsync of about as much."""

    def __post_init__(self) -> None:
        if self.max_batch < 1 or not 0 <= self.max_delay <= 1:
            raise LogStoreError("group commit needs max_batch >= 1 and 0 <= max_delay <= 1 s")


@dataclass(slots=True)
class _Pending:
    entry: LogEntry
    raw: bytes
    waiter: asyncio.Future[int]


class MessageLog:
    """The message log over a ``LogStorage``; one instance per storage and event loop."""

    def __init__(
        self,
        storage: LogStorage,
        *,
        clock: Clock | None = None,
        group_commit: GroupCommit | None = None,
    ) -> None:
        self._storage = storage
        self._clock = clock or SystemClock()
        self._settings = group_commit or GroupCommit()
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self._wakeup = _Wakeup()
        self._closed = False
        self._once: dict[tuple[str, str], asyncio.Lock] = {}

    @property
    def storage(self) -> LogStorage:
        """The storage underneath, for auditors and exports."""
        return self._storage

    async def append(self, entry: LogEntry, raw: bytes) -> int:
        """Append ``entry`` with the message bytes ``raw``; return its leaf index once durable.

        Raises ``LogStoreError`` if the bytes do not match the entry's digest,
        the log is closed, or the batch's commit failed (then nothing of the
        batch is stored).
        """
        _check_digest(entry, raw)
        if self._closed:
            raise LogStoreError("the message log is closed")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[int] = loop.create_future()
        self._pending.append(_Pending(entry, raw, waiter))
        if self._writer is None or self._writer.done():
            self._wakeup = _Wakeup()
            self._writer = loop.create_task(self._commit_batches())
        elif len(self._pending) >= self._settings.max_batch:
            self._wakeup.set()
        return await waiter

    async def append_once(self, entry: LogEntry, raw: bytes) -> int:
        """Append ``entry`` unless the log already holds it; return its leaf index.

        "Holds it" means a durable leaf with the same MessageID, direction and
        message digest. For messages signed once and sent whenever asked (a
        stored receipt answering every repeat, an outbox row retried after a
        restart): each is logged before it is first sent, and only once.
        Concurrent calls for one message in this process wait for each other.
        Raises ``LogStoreError`` as ``append`` does.
        """
        key = (entry.message_id, entry.message_sha256)
        lock = self._once.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                found = await asyncio.to_thread(self._find_entry, entry)
                return found if found is not None else await self.append(entry, raw)
        finally:
            # The next caller, if any, finds the leaf durable: the lock only
            # keeps two callers from both looking before either appended.
            if not lock.locked():
                self._once.pop(key, None)

    def _find_entry(self, entry: LogEntry) -> int | None:
        for index in self._storage.find(entry.message_id):
            held = LogEntry.from_leaf_bytes(self.leaf(index))
            if (held.direction, held.message_sha256) == (entry.direction, entry.message_sha256):
                return index
        return None

    def append_many(self, items: Sequence[tuple[LogEntry, bytes]]) -> range:
        """Append ``items`` in one durable transaction; return their leaf indices.

        Raises ``LogStoreError`` as ``append`` does.
        """
        for entry, raw in items:
            _check_digest(entry, raw)
        if not items:
            return range(self.size(), self.size())
        first = self._storage.append(items)
        return range(first, first + len(items))

    def size(self) -> int:
        """The number of durable leaves."""
        return self._storage.nodes.size()

    def root(self, size: int) -> RootHash:
        """RFC 9162 root of the first ``size`` leaves; ``LogRangeError`` beyond the log."""
        return root(self._storage.nodes, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3 proof that leaf ``index`` is in the tree of ``size``."""
        return inclusion_proof(self._storage.nodes, index, size)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 §2.1.4 proof that the tree of ``second`` extends the tree of ``first``."""
        return consistency_proof(self._storage.nodes, first, second)

    def leaf(self, index: int) -> bytes:
        """The exact leaf bytes at ``index``; ``LogRangeError`` if there is none."""
        for record in self._storage.records(index, index + 1):
            return record.leaf
        raise LogRangeError(f"leaf {index} is not in the log of {self.size()} leaves")

    def entry(self, index: int) -> LogEntry:
        """The parsed entry at ``index``; ``LogRangeError`` if there is none."""
        return LogEntry.from_leaf_bytes(self.leaf(index))

    def message(self, index: int) -> bytes | Pruned:
        """The message bytes logged at ``index``, or why they are gone.

        Raises ``LogRangeError`` for an index outside the log and
        ``LogEvidenceInvalid`` if the bytes are gone without a pruning record.
        """
        for record in self._storage.records(index, index + 1):
            if record.message is None:
                raise LogEvidenceInvalid(
                    f"leaf {index}: message bytes are missing and no retention rule pruned them"
                )
            return record.message
        raise LogRangeError(f"leaf {index} is not in the log of {self.size()} leaves")

    def find(self, message_id: str) -> list[int]:
        """The leaf indices logged for ``message_id``."""
        return self._storage.find(message_id)

    def prune(self, selector: range | Callable[[LogEntry], bool], rule_id: str) -> int:
        """Delete message bytes by retention rule ``rule_id``; return how many.

        ``selector`` is a range of leaf indices, or a predicate over entries
        (tested on every leaf whose bytes are still stored). Leaves stay.
        """
        if isinstance(selector, range):
            indices: Sequence[int] = selector
        else:
            indices = [
                record.index
                for record in self._storage.records(0, _ALL)
                if isinstance(record.message, bytes)
                and selector(LogEntry.from_leaf_bytes(record.leaf))
            ]
        return self._storage.prune(indices, rule_id, self._clock.now())

    def add_checkpoint(self, note: bytes) -> StoredCheckpoint:
        """Store a signed checkpoint note of this log.

        The signature is the signer's business; here the checkpoint's root must
        be this log's root at its size, so a stored checkpoint never disagrees
        with the tree. Raises ``NoteMalformed``, ``LogRangeError`` or
        ``LogEvidenceInvalid``.
        """
        checkpoint = Checkpoint.from_text(parse_note(note).text)
        ours = self.root(checkpoint.size)
        if ours != checkpoint.root_hash:
            raise LogEvidenceInvalid(
                f"checkpoint of size {checkpoint.size} names root "
                f"{bytes(checkpoint.root_hash).hex()}, but this log's root is {ours.hex()}"
            )
        stored = StoredCheckpoint(checkpoint.size, note, self._clock.now())
        self._storage.add_checkpoint(stored)
        return stored

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint of the largest size, or ``None`` before the first."""
        stored = self._storage.checkpoints()
        return stored[-1] if stored else None

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every checkpoint, by ascending size."""
        return self._storage.checkpoints()

    def add_cosignature(self, size: int, line: bytes, *, witnesses: Sequence[NoteVerifier]) -> bool:
        """Verify and store one witness's cosignature line for the checkpoint of ``size``.

        The line must be a tlog-cosignature/v1 by one of ``witnesses`` over
        that checkpoint. Returns ``False`` if that witness had already
        cosigned it. Raises ``LogRangeError`` for a size without a
        checkpoint, ``NoteMalformed`` or ``NoteSignatureInvalid`` for the line.
        """
        stored = next((c for c in self._storage.checkpoints() if c.size == size), None)
        if stored is None:
            raise LogRangeError(f"the log signed no checkpoint of size {size}")
        text = parse_note(stored.note).text
        (signature,) = parse_note(text + b"\n" + line).signatures
        key = next(
            (
                w
                for w in witnesses
                if w.sig_type is SignatureType.COSIGNATURE_V1
                and (w.name, w.key_id) == (signature.name, signature.key_id)
            ),
            None,
        )
        if key is None:
            raise NoteSignatureInvalid(
                f"{signature.name!r} (key {signature.key_id:08x}) is not a configured witness"
            )
        verify_cosignature(text, signature, key)
        return self._storage.add_cosignature(
            StoredCosignature(size, signature.name, line, self._clock.now())
        )

    def cosignatures(self, size: int) -> list[StoredCosignature]:
        """The verified cosignatures stored for the checkpoint of ``size``."""
        return self._storage.cosignatures(size)

    def signing_turn(self) -> AbstractContextManager[bool]:
        """Whether this process may sign a checkpoint now (``CheckpointStore.signing_turn``)."""
        return self._storage.signing_turn()

    def checkpoint_note(self, size: int | None = None) -> bytes | None:
        """The checkpoint of ``size`` (default the latest) with its cosignatures appended.

        Within signed-note's ``MAX_SIGNATURE_LINES``, so every reader can open
        it: the earliest cosignatures received are kept. ``None`` if the log
        has no such checkpoint.
        """
        checkpoints = self._storage.checkpoints()
        if size is None:
            stored = checkpoints[-1] if checkpoints else None
        else:
            stored = next((c for c in checkpoints if c.size == size), None)
        if stored is None:
            return None
        room = MAX_SIGNATURE_LINES - len(parse_note(stored.note).signatures)
        lines = [c.line for c in self._storage.cosignatures(stored.size)][: max(room, 0)]
        return stored.note + b"".join(lines)

    async def aclose(self) -> None:
        """Commit what is queued, then close the storage."""
        self._closed = True
        if self._writer is not None:
            await self._writer
        self._storage.close()

    def close(self) -> None:
        """Close the storage; for synchronous tools that never called ``append``."""
        self._closed = True
        self._storage.close()

    async def _commit_batches(self) -> None:
        while self._pending:
            if len(self._pending) < self._settings.max_batch and self._settings.max_delay > 0:
                await self._wakeup.wait(self._settings.max_delay)
            self._wakeup.clear()
            batch = self._pending[: self._settings.max_batch]
            del self._pending[: len(batch)]
            items = [(pending.entry, pending.raw) for pending in batch]
            try:
                first = await asyncio.to_thread(self._storage.append, items)
            except Exception as exc:  # every waiter must hear of any failure
                error = exc if isinstance(exc, LogStoreError) else LogStoreError(f"{exc!r}")
                for pending in batch:
                    if not pending.waiter.done():
                        pending.waiter.set_exception(error)
                continue
            for offset, pending in enumerate(batch):
                if not pending.waiter.done():
                    pending.waiter.set_result(first + offset)


@dataclass
class _Wakeup:
    """An event the batch's first append waits on for at most a delay."""

    _event: asyncio.Event = field(default_factory=asyncio.Event)

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, delay: float) -> None:
        try:
            async with asyncio.timeout(delay):
                await self._event.wait()
        except TimeoutError:
            return


def _check_digest(entry: LogEntry, raw: bytes) -> None:
    if hashlib.sha256(raw).hexdigest() != entry.message_sha256:
        raise LogStoreError(
            f"message bytes for {entry.message_id} do not match the entry's message_sha256"
        )
