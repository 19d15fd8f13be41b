"""One party's means of exchanging messages, shared by its endpoint and its handlers.

A ``Messenger`` is who a party is (authority, node), its signing key, the
verifier it trusts, the thread pool its CPU-bound work runs in, its metrics
and, at the hub, its message log. The message endpoint
(``hub.endpoint.MessageEndpoint``) and every handler behind it hold the same
one, so the handlers can be built, and their registry fixed, before the
endpoint that dispatches to them exists.

The log is reached through ``LogWriter``, the two methods the messenger
needs: the concrete ``hub.log.message_log.MessageLog`` is chosen by the
composition root, never imported here.

With a ``hub.lanes.LanePool`` as its executor, an answer that is due is
signed ahead of all other work (``run_in``, ``sign_answer``).
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
from hub.envelope import Header, Party, Qualifier, Recipient, build_envelope, read_header
from hub.identifiers import AuthorityCode, MessageId
from hub.lanes import Lane, in_lane
from hub.log.entry import Direction, LogEntry
from hub.metrics import Metrics
from hub.signing import Signer
from hub.verify import EnvelopeVerifier
from hub.xmlparse import XmlLimits, parse_untrusted

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

    async def append_once(self, entry: LogEntry, raw: bytes) -> int:
        """``append``, unless the log already holds this message; its leaf index.

        Raises ``InternalError`` (``LogStoreError``) as ``append`` does.
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
        return await self.run_in(Lane.WORK, function, *args, **kwargs)

    async def run_in(
        self, lane: Lane, function: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs
    ) -> _R:
        """``run`` in ``lane`` of a ``LanePool`` (in a plain executor, just ``run``)."""
        future = in_lane(self.executor, lane, lambda: function(*args, **kwargs))
        result: _R = await asyncio.wrap_future(future)
        return result

    def header(
        self,
        *,
        message_class: str,
        qualifier: Qualifier,
        to: AuthorityCode,
        correlation_id: MessageId | None = None,
        expires: datetime | None = None,
        created: datetime | None = None,
        **extra: object,
    ) -> Header:
        """A header from this party to ``to``, created now unless ``created`` is given."""
        return Header(
            message_class=message_class,
            qualifier=qualifier,
            sender=Party(self.authority, self.node_id),
            recipients=(Recipient(authority=to),),
            created=created or self.clock.now(),
            correlation_id=correlation_id,
            expires=expires,
            **extra,  # type: ignore[arg-type]
        )

    async def sign(self, header: Header, body: etree._Element) -> bytes:
        """Sign ``body`` under ``header`` off the event loop, without logging it.

        For a message stored before it is sent (a referral's forward and
        receipt, a relay): log it with ``record_once`` once the transaction
        that keeps it commits. Everything sent at once goes through
        ``sign_and_record`` or, for answers, ``sign_answer``.
        """
        return await self.run(self.signer.sign, build_envelope(header, body))

    async def sign_answer(self, header: Header, body: etree._Element) -> bytes:
        """``sign`` for an answer a party is waiting for: first in the pool's
        queue (``Lane.ANSWER``), not logged (the caller logs it, or, for an
        error envelope, tries to)."""
        return await self.run_in(Lane.ANSWER, self.signer.sign, build_envelope(header, body))

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

    async def record_once(
        self, raw: bytes, header: Header | None = None, *, decision_digest: str | None = None
    ) -> None:
        """Log ``raw``, signed by this party, as sent, unless the log holds it already.

        For messages stored before they are sent and sent whenever asked (a
        receipt, an outbox row): logged after the store commits and before the
        first sending, once (``LogWriter.append_once``). ``header`` is read
        from ``raw`` when not given. Raises ``InternalError`` when the log
        cannot take it; then the message must not be sent.
        """
        if self.log is None:
            return
        if header is None:
            header = await self.run(_own_header, raw)
        entry = LogEntry.for_message(
            raw, header, direction="out", decision_digest=decision_digest, at=self.clock.now()
        )
        await self.log.append_once(entry, raw)


def _own_header(raw: bytes) -> Header:
    """The header of an envelope this party signed (and so may be larger than
    what it accepts: a forward carries the message it forwards)."""
    limits = XmlLimits(max_bytes=max(len(raw), XmlLimits().max_bytes))
    return read_header(parse_untrusted(raw, limits=limits))
