"""The message log's storage, behind three small Protocols, and the records it returns.

A log keeps, side by side (SPEC §8):

- the leaves (the exact leaf bytes, in index order) and the Merkle tree over
  them (a ``NodeStore``), appended together, durably, in one transaction;
- the exact bytes of each logged message, by leaf index, which a retention
  rule may delete: the deletion is recorded as ``Pruned`` (index, rule id,
  time), so an auditor sees "pruned by retention rule X" and never a gap;
- the signed checkpoints and the witnesses' cosignature lines.

``LeafStore``, ``MessageStore`` and ``CheckpointStore`` are the three
interfaces ``MessageLog`` needs; ``LogStorage`` is all three. The SQLite
implementation is ``hub.storage.sqlite.log``; the PostgreSQL one,
``hub.storage.postgresql.log``, keeps the same tables and is shared by several hub
instances.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from hub.log.entry import LogEntry
from hub.log.errors import LogRangeError
from hub.log.tree import NodeStore

__all__ = [
    "CheckpointStore",
    "LeafRecord",
    "LeafStore",
    "LogStorage",
    "MessageStore",
    "Pruned",
    "StoredCheckpoint",
    "StoredCosignature",
    "check_rule_id",
]

_RULE_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")


def check_rule_id(rule_id: str) -> str:
    """Return ``rule_id`` if it is 1–64 of ``A-Za-z0-9._:-``; raise ``LogRangeError`` if not."""
    if not _RULE_ID.match(rule_id):
        raise LogRangeError(f"retention rule id {rule_id!r} is not 1-64 of A-Z a-z 0-9 . _ : -")
    return rule_id


@dataclass(frozen=True, slots=True)
class Pruned:
    """A message deleted by a retention rule; its leaf stays in the tree."""

    index: int
    rule_id: str
    pruned_at: datetime

    def __str__(self) -> str:
        return f"pruned by retention rule {self.rule_id} at {self.pruned_at.isoformat()}"


@dataclass(frozen=True, slots=True)
class LeafRecord:
    """One stored leaf and what is stored beside it."""

    index: int
    leaf: bytes
    """The exact leaf bytes the tree's leaf hash covers."""
    message: bytes | Pruned | None
    """The message bytes; ``Pruned``; or ``None`` when they are gone without a
    pruning record, which an auditor reports as a deletion."""


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A checkpoint the log signed: the note with the log's signature only."""

    size: int
    note: bytes
    signed_at: datetime


@dataclass(frozen=True, slots=True)
class StoredCosignature:
    """A witness's verified cosignature line for the checkpoint of ``size``."""

    size: int
    witness: str
    """The witness key name, as in the line."""
    line: bytes
    """The whole signature line, newline included."""
    received_at: datetime


class LeafStore(Protocol):
    """Leaves, their message bytes and the tree over them, appended together."""

    @property
    def nodes(self) -> NodeStore:
        """The Merkle tree's perfect-subtree hashes, for roots and proofs."""
        ...

    def append(self, items: Sequence[tuple[LogEntry, bytes]]) -> int:
        """Append entries with their message bytes in one durable transaction.

        Returns the index of the first; when it returns, every item is on
        disk. Raises ``LogStoreError`` and stores nothing on failure.
        """
        ...

    def records(self, start: int, end: int) -> Iterator[LeafRecord]:
        """The stored leaves with indices in ``[start, end)``, in index order.

        Leaves that are missing are skipped, not invented: the caller checks
        the indices.
        """
        ...

    def find(self, message_id: str) -> list[int]:
        """Indices of the leaves logged for ``message_id``, ascending."""
        ...


class MessageStore(Protocol):
    """Deleting message bytes by retention rule, recording each deletion."""

    def prune(self, indices: Iterable[int], rule_id: str, at: datetime) -> int:
        """Delete the bytes of the messages at ``indices`` and record why; return how many.

        Indices already pruned are skipped. Raises ``LogStoreError``.
        """
        ...


class CheckpointStore(Protocol):
    """Signed checkpoints and the cosignatures witnesses returned."""

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a signed checkpoint; one per tree size. Raises ``LogStoreError``."""
        ...

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, by ascending size."""
        ...

    def add_cosignature(self, cosignature: StoredCosignature) -> bool:
        """Store a cosignature; ``False`` if that witness already cosigned that size."""
        ...

    def cosignatures(self, size: int) -> list[StoredCosignature]:
        """The cosignatures of the checkpoint of ``size``, in the order received."""
        ...

    def signing_turn(self) -> AbstractContextManager[bool]:
        """Whether this process may sign a checkpoint now; the turn lasts for the block.

        Several hub instances may share one log: one signs at a time, the
        others get ``False`` and skip. Raises ``LogStoreError``.
        """
        ...


class LogStorage(LeafStore, MessageStore, CheckpointStore, Protocol):
    """Everything a ``MessageLog`` stores."""

    def close(self) -> None:
        """Release the storage; closing it again does nothing."""
        ...
