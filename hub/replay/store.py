"""Where replay protection remembers the messages it has seen: the ``SeenStore`` interface.

Implementations, one per backend: ``hub.storage.sqlite.seen.SqliteSeenStore``
(the embedded default), ``hub.storage.postgresql.seen.PgSeenStore`` (shared by
several hub instances) and ``hub.storage.memory.seen.MemorySeenStore`` (one
process: tests and one-shot tools).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from hub.identifiers import AuthorityCode, MessageId

__all__ = ["SeenStore"]


class SeenStore(Protocol):
    """Durable memory of (sender, MessageID) → digest of the bytes first seen."""

    def remember(
        self, sender: AuthorityCode, message_id: MessageId, digest: bytes, keep_until: datetime
    ) -> bytes | None:
        """Record the sighting atomically; return the digest stored earlier, if any."""
        ...

    def forget_before(self, moment: datetime) -> int:
        """Drop sightings whose retention ended before ``moment``; return how many."""
        ...
