"""One party's means of exchanging messages, shared by its endpoint and its handlers.

A ``Messenger`` is who a party is (authority, node), its signing key, the
verifier it trusts, the thread pool its CPU-bound work runs in, its metrics
and, at the hub, its message log. The message endpoint
(``hub.endpoint.MessageEndpoint``) and every handler behind it hold the same
one, so the handlers can be built, and their registry fixed, before the
endpoint that dispatches to them exists.

The log is reached through ``LogWriter``, the one method the messenger
needs: the concrete ``hub.log.message_log.MessageLog`` is chosen by the
composition root, never imported here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, Protocol, TypeVar

from lxml import etree

from hub.clock import Clock
from hub.envelope import Header, Party, Qualifier, Recipient, build_envelope
from hub.identifiers import AuthorityCode, MessageId
from hub.log.entry import Direction, LogEntry
from hub.metrics import Metrics
from hub.signing import Signer
from hub.verify import EnvelopeVerifier

__all__ = ["LogWriter", "Messenger"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class LogWriter(Protocol):
    """Where a party appends every message it receives or sends (SPEC §8)."""

    async def append(self, entry: LogEntry, raw: bytes) -> int:
        """Append ``entry`` with the message bytes ``raw``; return its leaf index once durable.

        Raises ``InternalError`` (``LogStoreError``) if the entry cannot be
        stored; then the message must be neither answered nor sent.
        """
        ...


@dataclass(frozen=True)
class Messenger:
    """One party's identity, keys, verifier, thread pool, metrics and log."""

    authority: AuthorityCode
    signer: Signer
    verifier: EnvelopeVerifier
    clock: Clock
    executor: Executor
    metrics: Metrics
    node_id: str | None = None
    log: LogWriter | None = None
    """The hub's message log (SPEC §8): every message received or sent is
    appended, durably, before it is answered or sent. Nodes keep none."""

    async def run(self, function: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run CPU-bound or blocking ``function`` (signing, verification, storage) in the pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: function(*args, **kwargs))

    def header(
        self,
        *,
        message_class: str,
        qualifier: Qualifier,
        to: AuthorityCode,
        correlation_id: MessageId | None = None,
        expires: datetime | None = None,
        **extra: object,
    ) -> Header:
        """A header from this party to ``to``, created now."""
        return Header(
            message_class=message_class,
            qualifier=qualifier,
            sender=Party(self.authority, self.node_id),
            recipients=(Recipient(authority=to),),
            created=self.clock.now(),
            correlation_id=correlation_id,
            expires=expires,
            **extra,  # type: ignore[arg-type]
        )

    async def sign(self, header: Header, body: etree._Element) -> bytes:
        """Sign ``body`` under ``header`` off the event loop, without logging it.

        For an error envelope only, whose sending must not depend on the log
        (see ``MessageEndpoint.error_envelope``); everything else is sent
        through ``sign_and_record``.
        """
        return await self.run(self.signer.sign, build_envelope(header, body))

    async def sign_and_record(
        self, header: Header, body: etree._Element, *, decision_digest: str | None = None
    ) -> bytes:
        """Sign ``body`` under ``header`` off the event loop and log it as sent.

        Returns only once the log holds the leaf durably; raises
        ``InternalError`` if it cannot, and then the message must not be sent.
        """
        raw = await self.sign(header, body)
        await self.record(raw, header, "out", decision_digest=decision_digest)
        return raw

    async def record(
        self,
        raw: bytes,
        header: Header,
        direction: Direction,
        *,
        decision_digest: str | None = None,
    ) -> None:
        """Append one message to the log (a no-op for a party without one).

        Raises ``InternalError`` if the log cannot store it.
        """
        if self.log is None:
            return
        entry = LogEntry.for_message(
            raw, header, direction=direction, decision_digest=decision_digest, at=self.clock.now()
        )
        await self.log.append(entry, raw)
