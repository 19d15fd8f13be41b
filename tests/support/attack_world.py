"""A live hub for the transport attack tests, and the attacker's tools. Imported by name.

Everything is real: a copy of the session's development PKI (so that the
certificate revoked here stays out of every other test's CRL), the shipped
ISPs signed with it, Southwark's node built by ``build_node_app`` over a
one-child index, and the hub built by ``build_hub_app``, both served over
mutual TLS with the contexts of ``hub.transport.tls``. The attacker speaks
raw TLS and raw HTTP/1.1, so that it can send what no polite client would.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from aiohttp import web
from cryptography.hazmat.primitives import serialization

from hub.app.build import build_hub_app
from hub.config import HubConfig, Limits
from hub.directory.model import default_directory
from hub.endpoint import ENDPOINT_KEY
from hub.identifiers import HUB, AuthorityCode
from hub.knownto.settings import FanoutSettings
from hub.pki.issuing import reissue, revoke
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.policy.sign import SHIPPED_PROTOCOLS, sign_folder
from hub.signing import Signer
from hub.transport.tls import server_context
from hub.verify import EnvelopeVerifier, VerifiedMessage
from tests.support.loopback import HOST, message_url, serve_tls
from tests.support.node_world import error_of, known_to_query, southwark_node
from tests.support.parties import (
    LAMBETH,
    SOUTHWARK,
    TlsSessions,
    party_signer,
    signing_files,
    tls_files,
)
from tests.support.pki_builders import look_alike_party

MAX_MESSAGE_BYTES: Final = 32 * 1024
"""The hub's body limit here: small, so that oversized attacks stay cheap."""
_KT: Final = "{urn:lcpc:irt:knownto:1}"


@dataclass(frozen=True, slots=True)
class CertPair:
    """A certificate and its private key, as PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class AttackerCerts:
    """Lambeth TLS client certificates the hub must refuse, each for one reason."""

    revoked: CertPair
    """Issued by the London root, then revoked (keyCompromise) in the CRL the hub loads."""
    expired: CertPair
    """Issued by the London root, valid only in 2020."""
    foreign: CertPair
    """Issued by the attacker's own root, whose subject copies the London root's."""


@dataclass
class TlsAlerts:
    """The fatal TLS alerts the hub's server context wrote, by RFC 8446 §6 name.

    asyncio aborts a connection whose handshake failed without flushing the
    alert OpenSSL wrote, so the client sees only the connection close; the
    alert the hub wrote says exactly why it refused. Read through OpenSSL's
    message callback (``SSLContext._msg_callback``, the ``ssl`` module's
    debugging hook): the only place the reason is visible.
    """

    sent: list[str] = field(default_factory=list)

    def install(self, context: ssl.SSLContext) -> None:
        """Record the alerts of every connection made with ``context``."""
        # Private ssl API (see above), so typeshed does not declare it.
        context._msg_callback = self._record  # type: ignore[attr-defined]

    def _record(
        self,
        _connection: object,
        direction: str,
        _version: object,
        content_type: object,
        _message_type: object,
        data: bytes,
    ) -> None:
        # The ssl module's private enums, undeclared in typeshed like the hook itself.
        alert = ssl._TLSContentType.ALERT  # type: ignore[attr-defined]
        fatal = 2  # RFC 8446 §6 AlertLevel; close_notify is only a warning
        if direction == "write" and content_type == alert and data[0] == fatal:
            self.sent.append(ssl._TLSAlertType(data[1]).name)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class RawAnswer:
    """An HTTP/1.1 answer as it came off the wire."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class LiveHub:
    """The hub (and Southwark's node) running on loopback; see the module docstring."""

    pki: PkiLayout
    certs: AttackerCerts
    port: int
    alerts: TlsAlerts
    verifier: EnvelopeVerifier
    app: web.Application
    sessions: TlsSessions
    _signers: dict[AuthorityCode, Signer] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The hub's ``/v1/messages`` URL."""
        return f"https://{HOST}:{self.port}/v1/messages"

    def tls_of(self, code: AuthorityCode) -> CertPair:
        """``code``'s own TLS certificate and key."""
        return CertPair(self.pki.tls_cert(code), self.pki.tls_key(code))

    def context(
        self, client: CertPair | None, *, maximum: ssl.TLSVersion | None = None
    ) -> ssl.SSLContext:
        """A client context that trusts the London root and presents ``client`` (if any).

        ``maximum`` caps the protocol version; below TLS 1.2 the cipher
        security level is lowered so that OpenSSL offers the old versions at all.
        """
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cafile=str(self.pki.root_cert))
        if client is not None:
            context.load_cert_chain(str(client.cert), str(client.key))
        if maximum is not None:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            with warnings.catch_warnings():
                # Offering a deprecated version is the whole point of the attack.
                warnings.simplefilter("ignore", DeprecationWarning)
                context.maximum_version = maximum
        return context

    def signer(self, code: AuthorityCode) -> Signer:
        """``code``'s message-signing key, loaded once."""
        if code not in self._signers:
            self._signers[code] = party_signer(self.pki, code)
        return self._signers[code]

    def query(self, *, signed_by: AuthorityCode = LAMBETH) -> bytes:
        """A fresh, valid ``KnownToQuery`` from ``signed_by`` to Southwark."""
        return known_to_query(self.signer(signed_by), sender=signed_by)

    async def post(
        self,
        body: bytes,
        *,
        tls_as: AuthorityCode = LAMBETH,
        content_type: str = "application/xml",
    ) -> tuple[int, bytes]:
        """POST ``body`` to ``/v1/messages`` over ``tls_as``'s TLS identity."""
        return await self.sessions.post(self.url, body, tls_as=tls_as, content_type=content_type)

    async def exchange(self, request: bytes, *, context: ssl.SSLContext) -> RawAnswer | None:
        """Send raw ``request`` bytes; the answer, or ``None`` if the hub hung up without one."""
        try:
            reader, writer = await asyncio.open_connection(
                HOST, self.port, ssl=context, server_hostname="localhost"
            )
        except (ssl.SSLError, ConnectionError):
            return None
        try:
            writer.write(request)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            return await read_answer(reader)
        finally:
            await close_quietly(writer)

    def outcomes(self, outcome: str) -> float:
        """How many messages of no known class the hub answered with ``outcome`` so far."""
        registry = self.app[ENDPOINT_KEY].messenger.metrics.registry
        labels = {"message_class": "unknown", "outcome": outcome}
        return registry.get_sample_value("irt_messages_total", labels) or 0.0

    def internal_errors(self) -> float:
        """How many messages of any class the hub answered with ``internal-error`` so far."""
        registry = self.app[ENDPOINT_KEY].messenger.metrics.registry
        return sum(
            sample.value
            for metric in registry.collect()
            for sample in metric.samples
            if sample.name == "irt_messages_total"
            and sample.labels.get("outcome") == "internal-error"
        )

    def verify(self, body: bytes) -> VerifiedMessage:
        """``body`` verified as a hub-signed envelope; raises the verifier's error otherwise."""
        message = self.verifier.verify_envelope(body)
        assert message.document.signer == HUB
        return message

    def error(self, body: bytes) -> tuple[str, str]:
        """The code and reason of a hub-signed ``env:Error``."""
        return error_of(self.verify(body))

    def southwark_status(self, body: bytes) -> str:
        """Southwark's entry of a hub-signed ``KnownToResult``."""
        message = self.verify(body)
        assert message.header.message_class == "KnownToResult"
        (entry,) = message.body.iter(_KT + "Entry")
        assert entry.get("authority") == SOUTHWARK
        return entry.get("status") or ""


async def read_answer(reader: asyncio.StreamReader) -> RawAnswer | None:
    """One HTTP/1.1 answer (with a ``Content-Length``), or ``None`` at a close without one."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        return None
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines if line)
    }
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RawAnswer(int(status_line.split()[1]), headers, body)


async def close_quietly(writer: asyncio.StreamWriter) -> None:
    """Close a connection the hub may already have dropped."""
    writer.close()
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        await writer.wait_closed()


def request_head(method: str, *, length: int | None, **headers: str) -> bytes:
    """An HTTP/1.1 request head for ``/v1/messages`` (``Connection: close``)."""
    lines = [f"{method} /v1/messages HTTP/1.1", f"Host: {HOST}", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines.extend(f"{name.replace('_', '-')}: {value}" for name, value in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@contextlib.asynccontextmanager
async def running_hub(
    dev_pki: PkiLayout, workdir: Path, *, limits: Limits | None = None
) -> AsyncIterator[LiveHub]:
    """The hub and Southwark's node on loopback until the block ends."""
    pki = PkiLayout(workdir / "pki")
    shutil.copytree(dev_pki.root, pki.root)
    certs = _attacker_certs(pki, workdir)
    protocols = workdir / "protocols"
    list(sign_folder(SHIPPED_PROTOCOLS, protocols, pki=pki, directory=default_directory()))
    runners: list[web.AppRunner] = []
    try:
        node_context = server_context(tls_files(pki, SOUTHWARK))
        node, node_port = await serve_tls(southwark_node(pki, workdir), node_context)
        runners.append(node)
        config = HubConfig(
            listen_host=HOST,
            listen_port=0,
            data_dir=workdir / "hub",
            tls=tls_files(pki, HUB),
            signing=signing_files(pki, HUB),
            limits=limits or Limits(max_message_bytes=MAX_MESSAGE_BYTES, query_deadline_seconds=3),
            node_urls={SOUTHWARK: message_url(node_port)},
            protocols_dir=protocols,
            # Lambeth sends ten valid queries at once amid the attacks: all must be
            # admitted, so the hub admits more here than by default (8, 4 each).
            fanout=FanoutSettings(max_in_flight=16, max_in_flight_per_authority=16),
        )
        alerts = TlsAlerts()
        app = build_hub_app(config)
        hub_context = server_context(config.tls)
        alerts.install(hub_context)
        hub, hub_port = await serve_tls(app, hub_context)
        runners.append(hub)
        live = LiveHub(
            pki=pki,
            certs=certs,
            port=hub_port,
            alerts=alerts,
            verifier=EnvelopeVerifier(trust=TrustStore.from_files(pki.root_cert, pki.crl)),
            app=app,
            sessions=TlsSessions(pki),
        )
        try:
            yield live
        finally:
            await live.sessions.close()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


def _attacker_certs(pki: PkiLayout, workdir: Path) -> AttackerCerts:
    now = datetime.now(UTC)
    revoked_dir, expired_dir, foreign_dir = (
        workdir / name for name in ("revoked", "expired", "foreign")
    )
    record = reissue(pki, party=LAMBETH, kind="tls", now=now, out_dir=revoked_dir)
    revoke(pki, record.serial, now=now, reason="keyCompromise")
    reissue(
        pki,
        party=LAMBETH,
        kind="tls",
        now=now,
        out_dir=expired_dir,
        not_before=datetime(2020, 1, 1, tzinfo=UTC),
        not_after=datetime(2021, 1, 1, tzinfo=UTC),
    )
    # The attacker's root has the London root's very subject; only its key differs.
    key, cert = look_alike_party(kind="tls")
    foreign_dir.mkdir()
    (foreign_dir / "tls.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (foreign_dir / "tls.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return AttackerCerts(
        revoked=CertPair(revoked_dir / "tls.pem", revoked_dir / "tls.key"),
        expired=CertPair(expired_dir / "tls.pem", expired_dir / "tls.key"),
        foreign=CertPair(foreign_dir / "tls.pem", foreign_dir / "tls.key"),
    )
