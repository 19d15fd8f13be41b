"""Attacks on the hub's transport, each refused exactly: TLS, HTTP framing, slow and many senders.

A real hub on loopback (``attack_world``): real certificates and CRL, signed
ISPs, Southwark's node behind it. Every attack below carries a valid signed
query from Lambeth where it can, so that only the defence under test stands
between it and a 200. A refusal is asserted exactly: the fatal TLS alert the
hub wrote, or the HTTP status with the signed error's SPEC §5 code and reason.

Requests whose framing aiohttp's HTTP parser refuses never reach the hub's
handler, so they get aiohttp's own plain-text 4xx rather than a signed error;
those are pinned too, since the rule that matters is that bad input never
gets a 5xx.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import ssl
import time
from collections.abc import Callable

import pytest

from hub.endpoint import BODY_LATENCY_SECONDS, MIN_BODY_BYTES_PER_SECOND
from tests.support.attack_world import (
    MAX_MESSAGE_BYTES,
    CertPair,
    LiveHub,
    close_quietly,
    read_answer,
    request_head,
)
from tests.support.loopback import HOST
from tests.support.parties import CROYDON, LAMBETH

pytestmark = pytest.mark.asyncio(loop_scope="module")

XML = "application/xml"
BODY_SECONDS = BODY_LATENCY_SECONDS + MAX_MESSAGE_BYTES / MIN_BODY_BYTES_PER_SECOND
Build = Callable[[bytes], bytes]
"""Builds the raw request of an attack around a fresh, valid signed query."""


def _post(query: bytes, **headers: str) -> bytes:
    return request_head("POST", length=len(query), **headers) + query


def _chunked(data: bytes, **headers: str) -> bytes:
    size = 4096
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size])
        for i in range(0, len(data), size)
    )
    return request_head("POST", length=None, Transfer_Encoding="chunked", **headers) + (
        chunks + b"0\r\n\r\n"
    )


# ------------------------------------------------------------------------ TLS


async def test_control_the_same_request_over_lambeths_own_tls_is_answered(hub: LiveHub) -> None:
    answer = await hub.exchange(_post(hub.query(), Content_Type=XML), context=_lambeth(hub))
    assert answer is not None
    assert answer.status == 200
    assert hub.southwark_status(answer.body) == "known"


def _lambeth(hub: LiveHub) -> ssl.SSLContext:
    return hub.context(hub.tls_of(LAMBETH))


_TLS_ATTACKS: dict[str, Callable[[LiveHub], ssl.SSLContext]] = {
    "no-client-certificate": lambda hub: hub.context(None),
    "look-alike-root-ca": lambda hub: hub.context(hub.certs.foreign),
    "revoked-certificate": lambda hub: hub.context(hub.certs.revoked),
    "expired-certificate": lambda hub: hub.context(hub.certs.expired),
    "signing-certificate-for-tls": lambda hub: hub.context(
        CertPair(hub.pki.signing_cert(LAMBETH), hub.pki.signing_key(LAMBETH))
    ),
    "tls-1.1": lambda hub: hub.context(hub.tls_of(LAMBETH), maximum=ssl.TLSVersion.TLSv1_1),
    "tls-1.0": lambda hub: hub.context(hub.tls_of(LAMBETH), maximum=ssl.TLSVersion.TLSv1),
}


@pytest.mark.parametrize(
    ("attack", "alert"),
    [
        ("no-client-certificate", "CERTIFICATE_REQUIRED"),
        ("look-alike-root-ca", "UNKNOWN_CA"),
        ("revoked-certificate", "CERTIFICATE_REVOKED"),
        ("expired-certificate", "CERTIFICATE_EXPIRED"),
        # OpenSSL checks the clientAuth purpose: documentSigning is not it.
        ("signing-certificate-for-tls", "UNSUPPORTED_CERTIFICATE"),
        ("tls-1.1", "PROTOCOL_VERSION"),
        ("tls-1.0", "PROTOCOL_VERSION"),
    ],
)
async def test_tls_handshake_is_refused(hub: LiveHub, attack: str, alert: str) -> None:
    context = _TLS_ATTACKS[attack](hub)
    hub.alerts.sent.clear()
    answer = await hub.exchange(_post(hub.query(), Content_Type=XML), context=context)
    assert answer is None, "the hub answered over a refused TLS connection"
    assert hub.alerts.sent == [alert]


async def test_tls_certificate_of_another_authority_is_sender_mismatch(hub: LiveHub) -> None:
    status, body = await hub.post(hub.query(signed_by=LAMBETH), tls_as=CROYDON)
    assert status == 403
    assert hub.error(body) == (
        "sender-mismatch",
        f"TLS client certificate names {CROYDON} but the message is signed by {LAMBETH}",
    )


# ----------------------------------------------------------------------- HTTP


@pytest.mark.parametrize(
    ("build", "status", "code", "reason"),
    [
        (
            lambda q: _post(q, Content_Type="text/plain"),
            400,
            "malformed-xml",
            "Content-Type must be application/xml, not 'text/plain'",
        ),
        (
            _post,
            400,
            "malformed-xml",
            "Content-Type must be application/xml, not 'application/octet-stream'",
        ),
        (
            lambda q: request_head("POST", length=0, Content_Type=XML),
            400,
            "malformed-xml",
            "Document is empty, line 1, column 1",
        ),
        (
            lambda q: _chunked(q + b" " * MAX_MESSAGE_BYTES, Content_Type=XML),
            413,
            "too-large",
            f"message is larger than the limit of {MAX_MESSAGE_BYTES} bytes",
        ),
        (
            lambda q: request_head("POST", length=10**9, Content_Type=XML) + q,
            413,
            "too-large",
            f"message is 1000000000 bytes; the limit is {MAX_MESSAGE_BYTES}",
        ),
        (
            lambda q: _chunked(
                gzip.compress(b" " * 8 * 1024 * 1024), Content_Type=XML, Content_Encoding="gzip"
            ),
            413,
            "too-large",
            f"message is larger than the limit of {MAX_MESSAGE_BYTES} bytes",
        ),
        (
            lambda q: _post(q, Content_Type=XML, Content_Encoding="gzip"),
            400,
            "malformed-xml",
            "the body cannot be read: Can not decode content-encoding: gzip",
        ),
    ],
    ids=[
        "content-type-text-plain",
        "no-content-type",
        "empty-body",
        "chunked-body-over-the-limit",
        "content-length-over-the-limit",
        "gzip-bomb",
        "gzip-that-does-not-inflate",
    ],
)
async def test_bad_http_gets_a_signed_error(
    hub: LiveHub, build: Build, status: int, code: str, reason: str
) -> None:
    answer = await hub.exchange(build(hub.query()), context=_lambeth(hub))
    assert answer is not None
    assert answer.status == status
    assert hub.error(answer.body) == (code, reason)


@pytest.mark.parametrize(
    ("build", "status", "reason"),
    [
        # Request smuggling: the rest of the body must not become a second request.
        (
            lambda q: request_head("POST", length=100, Content_Type=XML) + q,
            400,
            "Data after `Connection: close`",
        ),
        (
            lambda q: (
                request_head("POST", length=10, Content_Type=XML, Transfer_Encoding="chunked")
                + b"5\r\nhello\r\n0\r\n\r\n"
            ),
            400,
            "Transfer-Encoding can't be present with Content-Length",
        ),
        (
            lambda q: request_head("POST", length=None, Content_Type=XML, Content_Length="-5") + q,
            400,
            "Invalid character in Content-Length",
        ),
        (
            lambda q: request_head("POST", length=None, Content_Type=XML, Padding="x" * 9000) + q,
            400,
            "Got more than 8190 bytes when reading",
        ),
        (lambda q: request_head("GET", length=None), 405, "405: Method Not Allowed"),
    ],
    ids=[
        "content-length-shorter-than-the-body",
        "content-length-and-chunked",
        "negative-content-length",
        "header-over-8-kib",
        "get-messages",
    ],
)
async def test_bad_framing_is_refused_by_the_http_parser_never_with_a_5xx(
    hub: LiveHub, build: Build, status: int, reason: str
) -> None:
    handled = hub.outcomes("malformed-xml")
    answer = await hub.exchange(build(hub.query()), context=_lambeth(hub))
    assert answer is not None
    assert answer.status == status
    assert answer.body.decode().startswith(reason)
    assert hub.outcomes("malformed-xml") == handled, "the request reached the hub's handler"


async def test_slow_loris_bodies_are_cut_off_while_others_are_served(hub: LiveHub) -> None:
    started = time.monotonic()
    chunked = request_head("POST", length=None, Content_Type=XML, Transfer_Encoding="chunked")
    stalled = [
        # a declared length never sent in full
        (request_head("POST", length=1000, Content_Type=XML) + b"<env:Envelope", b""),
        # a chunked body that stops after its first chunk
        (chunked + b"5\r\n<env:\r\n", b""),
        # a first chunk, later a chunk size that is not hex: aiohttp queues its
        # own 400 but never fails the body being read, so only the deadline ends it
        (chunked + b"5\r\n<env:\r\n", b"zz\r\n"),
    ]
    connections = [await _open_and_send(hub, first) for first, _ in stalled]
    try:
        for _ in range(3):
            status, body = await hub.post(hub.query())
            assert status == 200
            assert hub.southwark_status(body) == "known"
        for (_, writer), (_, later) in zip(connections, stalled, strict=True):
            writer.write(later)
        served = time.monotonic() - started
        assert served < BODY_SECONDS, "valid queries waited for the stalled senders"
        async with asyncio.timeout(BODY_SECONDS + 5):
            answers = [await read_answer(reader) for reader, _ in connections]
        elapsed = time.monotonic() - started
    finally:
        for _, writer in connections:
            await close_quietly(writer)
    for answer in answers:
        assert answer is not None
        assert answer.status == 400
        assert hub.error(answer.body) == (
            "malformed-xml",
            f"the body was not received within {BODY_SECONDS:.1f} s",
        )
    assert BODY_SECONDS <= elapsed < BODY_SECONDS + 3


async def test_sender_hanging_up_mid_body_is_not_an_internal_error(
    hub: LiveHub, caplog: pytest.LogCaptureFixture
) -> None:
    malformed, internal = hub.outcomes("malformed-xml"), hub.outcomes("internal-error")
    _, writer = await _open_and_send(
        hub, request_head("POST", length=1000, Content_Type=XML) + b"<env:Envelope"
    )
    await close_quietly(writer)
    async with asyncio.timeout(BODY_SECONDS):
        while hub.outcomes("malformed-xml") == malformed:
            await asyncio.sleep(0.02)
    assert hub.outcomes("internal-error") == internal
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def _open_and_send(
    hub: LiveHub, raw: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(
        HOST, hub.port, ssl=_lambeth(hub), server_hostname="localhost"
    )
    writer.write(raw)
    await writer.drain()
    return reader, writer


# ---------------------------------------------------------------- many at once


async def test_fifty_bad_requests_at_once_do_not_stop_valid_ones(hub: LiveHub) -> None:
    def tampered(query: bytes) -> bytes:
        return query.replace(b"Okafor", b"Okafur")

    def unsigned(query: bytes) -> bytes:
        return query.split(b"<ds:Signature")[0] + b"</env:Envelope>"

    bad: list[tuple[Callable[[bytes], bytes], str, int, str]] = [
        (lambda q: b"\x00\xff" + q[:500], XML, 400, "malformed-xml"),
        (tampered, XML, 403, "signature-invalid"),
        (unsigned, XML, 403, "signature-invalid"),
        (lambda q: q, "text/plain", 400, "malformed-xml"),
        (lambda q: q + b" " * MAX_MESSAGE_BYTES, XML, 413, "too-large"),
    ]

    async def attack(index: int) -> None:
        mutate, content_type, status, code = bad[index % len(bad)]
        answer_status, body = await hub.post(mutate(hub.query()), content_type=content_type)
        assert (answer_status, hub.error(body)[0]) == (status, code)

    async def refused_handshake() -> None:
        context = hub.context(hub.certs.foreign)
        assert await hub.exchange(_post(hub.query(), Content_Type=XML), context=context) is None

    async def valid() -> str:
        status, body = await hub.post(hub.query())
        assert status == 200
        return hub.southwark_status(body)

    outcomes = await asyncio.gather(
        *(attack(i) for i in range(50)),
        *(refused_handshake() for _ in range(10)),
        *(valid() for _ in range(10)),
    )
    assert outcomes[60:] == ["known"] * 10
