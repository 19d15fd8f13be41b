"""``MemorySeenStore``: replay protection's memory in one process (tests, one-shot tools)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from hub.identifiers import AuthorityCode, MessageId

__all__ = ["MemorySeenStore"]


@dataclass
class MemorySeenStore:
    """An in-process ``SeenStore`` for tests and one-shot tools."""

    _seen: dict[tuple[str, str], tuple[bytes, datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def remember(
        self, sender: AuthorityCode, message_id: MessageId, digest: bytes, keep_until: datetime
    ) -> bytes | None:
        """See ``SeenStore.remember``."""
        with self._lock:
            earlier = self._seen.get((sender, message_id))
            if earlier is None:
                self._seen[(sender, message_id)] = (digest, keep_until)
                return None
        return earlier[0]

    def forget_before(self, moment: datetime) -> int:
        """See ``SeenStore.forget_before``."""
        with self._lock:
            old = [key for key, (_, until) in self._seen.items() if until < moment]
            for key in old:
                del self._seen[key]
        return len(old)
