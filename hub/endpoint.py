"""``POST /v1/messages`` for any party: receive, verify, dispatch, sign the answer.

The hub and the borough nodes share this core and differ only in their
handlers (one per message ``Class``), built beforehand on the party's
``Messenger`` (``hub.messenger``: identity, keys, thread pool, log).
Everything that can go wrong on the way in becomes a signed ``env:Error``
envelope with its SPEC §5 code and HTTP status, in one middleware; bad input
never yields a 5xx, an ``InternalError`` is told to the sender without its
internals, and ``busy`` carries ``Retry-After``. Signing and verification
run in the thread pool so one heavy message does not stall the event loop;
with a ``LanePool`` an answer that is due is signed ahead of all other
work (a fan-out's forwards and answers, arriving messages).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Final

from aiohttp import web
from lxml import etree

from hub.envelope import ENV_NS, Qualifier
from hub.errors import (
    INTERNAL_REASON,
    Busy,
    DuplicateMessage,
    InternalError,
    IrtError,
    MalformedXml,
    SchemaInvalid,
    TooLarge,
    for_peer,
)
from hub.identifiers import HUB, AuthorityCode, MessageId
from hub.messenger import Messenger
from hub.metrics import CONTENT_TYPE_LATEST
from hub.replay.guard import Sighting
from hub.transport.delivery import read_capped
from hub.transport.tls import peer_authority
from hub.verify import VerifiedMessage

__all__ = [
    "ACCEPTED_CONTENT_TYPES",
    "BODY_LATENCY_SECONDS",
    "ENDPOINT_KEY",
    "MIN_BODY_BYTES_PER_SECOND",
    "Handler",
    "MessageEndpoint",
    "Reply",
    "error_middleware",
    "metrics_endpoint",
]

ACCEPTED_CONTENT_TYPES: Final = frozenset({"application/xml", "text/xml"})
BODY_LATENCY_SECONDS: Final = 2.0
"""Allowance for the first body bytes to arrive after the request head."""
MIN_BODY_BYTES_PER_SECOND: Final = 64 * 1024
"""Slowest sender served: a body must arrive within the latency allowance plus
the time the message limit takes at this rate (18 s for 1 MiB), as Apache's
``mod_reqtimeout`` ``body=…,MinRate=…``. A sender that trickles its body
(slow loris) would otherwise hold a connection and its buffers for ever."""
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers: a body, its HTTP status and qualifier."""

    body: etree._Element
    status: int = 200
    qualifier: Qualifier = "response"
    expires: datetime | None = None
    presigned: bytes | None = None
    """An answer the handler signed and logged itself, sent byte for byte
    instead of signing ``body``: a duplicate message gets its original receipt
    (SPEC §6, ``Messenger.record_once``); a known-to result is signed by the
    broker, which times it (``MessageEndpoint.sign_reply``)."""
    answer_by: datetime | None = None
    """The moment this answer was promised by (a known-to query's deadline);
    an answer sent later is counted in ``irt_deadline_misses_total``."""


Handler = Callable[[VerifiedMessage], Awaitable[Reply]]
"""Handles one verified message of one ``Class``."""


@dataclass(frozen=True)
class MessageEndpoint:
    """One party's ``POST /v1/messages``: verify, log, dispatch to a handler, sign the answer.

    ``handlers`` is fixed when the endpoint is built: the handlers are built
    first, on the same ``Messenger``, and the endpoint keeps a read-only copy
    of their registry.
    """

    messenger: Messenger
    handlers: Mapping[str, Handler]
    """The handler of each message ``Class`` this party accepts."""
    max_message_bytes: int
    retryable: frozenset[str] = frozenset()
    """Classes whose handlers answer a retry (same MessageID, same bytes) with
    the original answer, as AS4 duplicate elimination does; a retry of any
    other class is refused as ``duplicate-message``."""
    _loop_time: Callable[[], float] = field(default=time.perf_counter)

    def __post_init__(self) -> None:
        # A copy, read-only: a caller's dict changed later cannot add a route.
        object.__setattr__(self, "handlers", MappingProxyType(dict(self.handlers)))

    async def handle(self, request: web.Request) -> web.Response:
        """The ``POST /v1/messages`` route."""
        messenger = self.messenger
        started = self._loop_time()
        ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
        tls_authority = peer_authority(ssl_object)
        request[_PEER] = tls_authority
        raw = await self._read_body(request)
        message = await messenger.run(
            messenger.verifier.verify_envelope, raw, tls_authority=tls_authority
        )
        request[_MESSAGE_CLASS] = message.header.message_class
        request[_CORRELATION] = message.header.message_id
        await messenger.record(message.raw, message.header, "in")
        if (
            message.sighting is Sighting.RETRY
            and message.header.message_class not in self.retryable
        ):
            raise DuplicateMessage(
                f"{message.header.message_class} {message.header.message_id} was already "
                "received and answered; ask again with a new MessageID"
            )
        handler = self.handlers.get(message.header.message_class)
        if handler is None:
            raise SchemaInvalid(
                f"this endpoint does not accept {message.header.message_class} messages"
            )
        reply = await handler(message)
        answer = reply.presigned or await self.sign_reply(message, reply)
        if reply.answer_by is not None and messenger.clock.now() > reply.answer_by:
            messenger.metrics.deadline_misses.labels(message.header.message_class).inc()
            _LOG.warning(
                "answer to %s %s sent %.3f s after its deadline",
                message.header.message_class,
                message.header.message_id,
                (messenger.clock.now() - reply.answer_by).total_seconds(),
            )
        messenger.metrics.messages.labels(message.header.message_class, "ok").inc()
        messenger.metrics.latency.labels(message.header.message_class).observe(
            self._loop_time() - started
        )
        return web.Response(body=answer, status=reply.status, content_type="application/xml")

    async def sign_reply(self, message: VerifiedMessage, reply: Reply) -> bytes:
        """Sign ``reply`` as the answer to ``message``, first in the pool's queue
        (``Lane.ANSWER``), logged before it is sent."""
        header = self.messenger.header(
            message_class=etree.QName(reply.body).localname,
            qualifier=reply.qualifier,
            to=message.header.sender.authority,
            correlation_id=message.header.message_id,
            expires=reply.expires,
        )
        raw = await self.messenger.sign_answer(header, reply.body)
        await self.messenger.record(raw, header, "out")
        return raw

    async def error_envelope(self, error: IrtError, request: web.Request) -> bytes:
        """The signed ``env:Error`` answer for ``error``."""
        body = etree.Element(f"{{{ENV_NS}}}Error", code=error.code)
        body.text = error.reason[:2000]
        header = self.messenger.header(
            message_class="Error",
            qualifier="error",
            to=AuthorityCode(request.get(_PEER) or HUB),
            correlation_id=MessageId(correlation)
            if (correlation := request.get(_CORRELATION))
            else None,
        )
        raw = await self.messenger.sign_answer(header, body)
        try:
            await self.messenger.record(raw, header, "out")
        except IrtError:
            # The error must still reach the sender: an error acknowledges
            # nothing, so sending it unlogged loses nothing; the log failure
            # itself is reported here and by /healthz.
            _LOG.exception("cannot log the error envelope %s", header.message_id)
        return raw

    async def _read_body(self, request: web.Request) -> bytes:
        content_type = request.content_type
        if content_type not in ACCEPTED_CONTENT_TYPES:
            raise MalformedXml(f"Content-Type must be application/xml, not {content_type!r}")
        limit = self.max_message_bytes
        if request.content_length is not None and request.content_length > limit:
            raise TooLarge(f"message is {request.content_length} bytes; the limit is {limit}")
        seconds = BODY_LATENCY_SECONDS + limit / MIN_BODY_BYTES_PER_SECOND
        # Every failure here is the sender's: too slow, hung up mid-body, or a
        # Content-Encoding that does not decode (aiohttp inflates gzip itself).
        try:
            async with asyncio.timeout(seconds):
                raw = await read_capped(request.content, limit)
        except TimeoutError as exc:
            raise MalformedXml(f"the body was not received within {seconds:.1f} s") from exc
        except ConnectionError as exc:
            raise MalformedXml("the connection closed before the whole body arrived") from exc
        except web.RequestPayloadError as exc:
            # aiohttp wraps its parser's error, whose message says what failed.
            detail = getattr(exc.__cause__, "message", None) or str(exc)
            raise MalformedXml(f"the body cannot be read: {detail}") from exc
        if raw is None:
            raise TooLarge(f"message is larger than the limit of {limit} bytes")
        return raw


_PEER: Final = web.RequestKey("irt.peer", str)
_MESSAGE_CLASS: Final = web.RequestKey("irt.class", str)
_CORRELATION: Final = web.RequestKey("irt.correlation", str)
ENDPOINT_KEY: Final = web.AppKey("irt.message_endpoint", MessageEndpoint)


async def metrics_endpoint(request: web.Request) -> web.Response:
    """``GET /metrics``: this party's counters in the Prometheus text format."""
    body = request.app[ENDPOINT_KEY].messenger.metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn the ``IrtError`` tree into signed error envelopes and HTTP statuses.

    Anything else that escapes is our own fault: logged with its traceback and
    answered as ``internal-error`` (500), never with the traceback itself.
    """
    try:
        return await handler(request)
    except IrtError as error:
        return await _error_response(request, error)
    except web.HTTPException:
        raise
    except Exception:
        _LOG.exception("unhandled error while handling %s %s", request.method, request.path)
        return await _error_response(request, InternalError(INTERNAL_REASON))


async def _error_response(request: web.Request, error: IrtError) -> web.Response:
    endpoint = request.app[ENDPOINT_KEY]
    endpoint.messenger.metrics.messages.labels(
        request.get(_MESSAGE_CLASS, "unknown"), error.code
    ).inc()
    told = for_peer(error)
    if told is not error:
        _LOG.error("answered internal-error to %s: %s", request.get(_PEER) or "?", error.reason)
    try:
        body = await endpoint.error_envelope(told, request)
    except IrtError:
        _LOG.exception("cannot sign an error envelope")
        return web.Response(status=500, text="internal-error: cannot sign the error envelope")
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Busy) else None
    return web.Response(
        body=body, status=error.http_status, content_type="application/xml", headers=headers
    )
