"""Outbound delivery: one pooled HTTPS client per party, behind a small interface.

``Delivery`` is the two-method Protocol every sender goes through; the real
``HttpsDelivery`` posts signed envelopes over mutual TLS with per-host
connection limits, and translates every transport failure into
``RecipientUnavailable`` or ``DeliveryTimeout`` so callers never see aiohttp.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Final, Protocol

import aiohttp

from hub.errors import DeliveryTimeout, RecipientUnavailable

__all__ = ["MAX_ANSWER_BYTES", "Answer", "Delivery", "HttpsDelivery", "read_capped"]

MAX_ANSWER_BYTES: Final = 4 * 1024 * 1024
"""Largest answer read from a peer: a KnownToResult for 33 authorities, each
carrying a signed response, stays well below this; more is hostile."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a peer answered: its HTTP status and the exact bytes of its body."""

    status: int
    body: bytes
    retry_after: int | None = None
    """``Retry-After`` in seconds, when the peer sent one (with ``busy``)."""


class Delivery(Protocol):
    """Posts one signed envelope and returns the peer's answer."""

    async def post(self, url: str, envelope: bytes, *, timeout: float) -> Answer:
        """Send ``envelope`` to ``url``; raise ``RecipientUnavailable`` or ``DeliveryTimeout``."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class HttpsDelivery:
    """``Delivery`` over HTTPS with mutual TLS and a connection limit per host."""

    def __init__(self, context: ssl.SSLContext, *, connections_per_host: int = 8) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=context, limit_per_host=connections_per_host),
            headers={"Content-Type": "application/xml"},
            # Certificates, not cookies, identify parties.
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def post(self, url: str, envelope: bytes, *, timeout: float) -> Answer:
        """See ``Delivery.post``."""
        try:
            async with asyncio.timeout(timeout):
                async with self._session.post(url, data=envelope) as response:
                    body = await read_capped(response.content, MAX_ANSWER_BYTES)
                    if body is None:
                        raise RecipientUnavailable(
                            f"{url} answered more than {MAX_ANSWER_BYTES} bytes"
                        )
                    return Answer(
                        status=response.status,
                        body=body,
                        retry_after=_seconds(response.headers.get("Retry-After")),
                    )
        except TimeoutError as exc:
            raise DeliveryTimeout(f"{url} did not answer within {timeout:.1f} s") from exc
        except aiohttp.ClientSSLError as exc:
            raise RecipientUnavailable(f"TLS handshake with {url} failed: {exc}") from exc
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror or str(exc.os_error)
            raise RecipientUnavailable(f"cannot connect to {url}: {reason.lower()}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise RecipientUnavailable(f"cannot reach {url}: {exc}") from exc

    async def close(self) -> None:
        """See ``Delivery.close``."""
        await self._session.close()


def _seconds(header: str | None) -> int | None:
    """A ``Retry-After`` of delta-seconds (RFC 9110 §10.2.3); an HTTP-date is ignored."""
    if header is None or not header.strip().isdigit():
        return None
    return int(header.strip())


async def read_capped(stream: aiohttp.StreamReader, limit: int) -> bytes | None:
    """All of ``stream``, or ``None`` as soon as it exceeds ``limit`` bytes.

    ``StreamReader.read(n)`` returns what has arrived so far, not ``n`` bytes,
    so a body is read chunk by chunk until the end of the stream.
    """
    chunks: list[bytes] = []
    size = 0
    while chunk := await stream.read(min(limit + 1 - size, 65536) or 1):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
