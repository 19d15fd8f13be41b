"""Where replay protection remembers the messages it has seen.

``SeenStore`` is what the replay guard needs; ``SeenStorage`` adds what the
hub's storage wiring needs of it besides (a health check, closing).
Implementations, one per backend: ``hub.storage.sqlite.seen.SqliteSeenStore``
(the embedded default), ``hub.storage.postgresql.seen.PgSeenStore`` (shared by
several hub instances) and ``hub.storage.memory.seen.MemorySeenStore`` (one
process: tests and one-shot tools).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from hub.identifiers import AuthorityCode, MessageId

__all__ = ["SeenStorage", "SeenStore"]


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


class SeenStorage(SeenStore, Protocol):
    """A ``SeenStore`` as the hub holds it: checked by ``/healthz``, closed at shutdown."""

    def check(self) -> None:
        """Raise ``InternalError`` unless the store answers now."""
        ...

    def close(self) -> None:
        """Release the store; closing it again does nothing."""
        ...
