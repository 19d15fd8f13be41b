"""Signing the log's checkpoints: on a schedule and on demand (C2SP tlog-checkpoint).

``Checkpointer.sign_now`` signs the current tree head with the log's Ed25519
note key — origin line = the key's name, e.g. ``london-irt.hub/log`` — unless
the latest checkpoint already covers every leaf, and stores it in the log.
``run`` does that every ``interval`` seconds; ``cleanup_ctx`` starts and stops
``run`` with an aiohttp application and signs a last checkpoint on the way
out, so a clean shutdown leaves no leaf uncovered.

Several hub instances may share one log (PostgreSQL): each runs a
``Checkpointer``, and the log's signing turn (an advisory lock there) lets one
sign at a time, so each size is signed once.

Only durable leaves are ever covered: ``MessageLog.size`` counts committed
leaves, and the log refuses to store a checkpoint whose root is not its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Final

from aiohttp import web

from hub.errors import IrtError
from hub.log.checkpoint import Checkpoint, sign_checkpoint
from hub.log.errors import LogKeyInvalid, LogStoreError
from hub.log.message_log import MessageLog
from hub.log.note import NoteSigner, SignatureType
from hub.log.store import StoredCheckpoint

__all__ = ["DEFAULT_INTERVAL", "TURN_WAIT_SECONDS", "Checkpointer"]

DEFAULT_INTERVAL: Final = 10.0
"""Seconds between scheduled checkpoints: witnesses and auditors see a new
message covered within seconds, at the cost of one tiny row per interval."""

TURN_WAIT_SECONDS: Final = 5.0
"""How long ``sign_now`` waits while another instance holds the signing turn."""

_TURN_POLL_SECONDS: Final = 0.02
"""Pause between attempts to take the turn."""

_LOG = logging.getLogger(__name__)


@dataclass
class Checkpointer:
    """Signs checkpoints of ``log`` with ``signer``."""

    log: MessageLog
    signer: NoteSigner
    """The log's Ed25519 note key; its name is the checkpoint origin."""
    interval: float = DEFAULT_INTERVAL
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.signer.sig_type is not SignatureType.ED25519:
            raise LogKeyInvalid(f"log key {self.signer.name!r} is not an Ed25519 note key")
        if not 0 < self.interval <= 86_400:
            raise LogKeyInvalid(f"checkpoint interval {self.interval} s is not within (0, 1 day]")

    @property
    def origin(self) -> str:
        """The checkpoint origin line: the log key's name."""
        return self.signer.name

    def sign_now(self) -> StoredCheckpoint:
        """Sign and store a checkpoint of the current size; return the latest checkpoint.

        Nothing new is signed when the latest checkpoint already has the
        current size. With several hub instances on one log, only the holder
        of the log's signing turn signs; this waits for the turn (the holder
        needs milliseconds) so the result still covers every leaf durable at
        the call. Raises ``LogStoreError`` if the log cannot be read or
        written, or the turn is not free within ``TURN_WAIT_SECONDS``.
        """
        deadline = time.monotonic() + TURN_WAIT_SECONDS
        with self._lock:
            while True:
                with self.log.signing_turn() as ours:
                    if ours:
                        latest = self.log.latest_checkpoint()
                        size = self.log.size()
                        if latest is not None and latest.size >= size:
                            return latest
                        checkpoint = Checkpoint(self.origin, size, self.log.root(size))
                        return self.log.add_checkpoint(sign_checkpoint(checkpoint, self.signer))
                if time.monotonic() >= deadline:
                    raise LogStoreError(
                        f"another hub instance held the checkpoint signing turn for "
                        f"{TURN_WAIT_SECONDS} s"
                    )
                time.sleep(_TURN_POLL_SECONDS)

    async def run(self) -> None:
        """Sign every ``interval`` seconds while the log grows, until cancelled.

        A failure is logged and retried at the next tick: a missed checkpoint
        only delays coverage, while a dead task would stop it for good.
        """
        while True:
            await asyncio.sleep(self.interval)
            try:
                await asyncio.to_thread(self.sign_now)
            except IrtError as error:
                _LOG.error("checkpoint not signed: %s", error)

    def cleanup_ctx(self) -> Callable[[web.Application], AsyncIterator[None]]:
        """An aiohttp ``cleanup_ctx`` entry: sign at start-up, run, sign once more at shutdown."""

        async def context(_app: web.Application) -> AsyncIterator[None]:
            await asyncio.to_thread(self.sign_now)
            task = asyncio.create_task(self.run(), name="irt-log-checkpointer")
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await asyncio.to_thread(self.sign_now)

        return context
