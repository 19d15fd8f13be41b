"""TLS contexts for mutual TLS on every hop (SPEC §4).

Servers require a client certificate issued by the London root CA
(``CERT_REQUIRED``) and check it against the CRL; clients verify the server
against the same root. TLS keys are separate from signing keys: a TLS
certificate never signs a message, and a signing certificate cannot be used
for TLS (OpenSSL checks the serverAuth/clientAuth purposes).

A running server takes a new CRL without a restart (``ServerTls.reload``):
OpenSSL keeps the contexts it has, so each new handshake is moved, from the
server-name callback that runs for every ClientHello, onto the context built
for the CRL in force. Connections already open keep the context they began
with; new ones are checked against the new CRL.
"""

from __future__ import annotations

import functools
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509

from hub.errors import InternalError, SenderMismatch
from hub.identifiers import AuthorityCode
from hub.pki.profile import authority_of

_CACHED_PEERS: Final = 1024
"""Peer certificates remembered: every party's TLS certificate through several
rotations; bounded so a stream of new certificates cannot grow memory."""

__all__ = [
    "DEFAULT_CRL_RELOAD_SECONDS",
    "ServerTls",
    "TlsFiles",
    "client_context",
    "peer_authority",
    "server_context",
]

DEFAULT_CRL_RELOAD_SECONDS: Final = 10.0
"""How often a running party looks for a new CRL file (``[tls] crl_reload_seconds``):
a revocation is in force within this interval, and a stat every few seconds costs nothing."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """The PEM files one party needs for mutual TLS."""

    cert: Path
    """This party's TLS certificate (serverAuth + clientAuth)."""
    key: Path
    """Its private key (never the signing key)."""
    root: Path
    """The London root CA: the only trust anchor."""
    crl: Path | None = None
    """The root's CRL; when given, revoked peers are refused in the handshake."""
    crl_reload_seconds: float = DEFAULT_CRL_RELOAD_SECONDS
    """How often a running party checks ``crl`` for a new CRL (and fetches one)."""


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """A server context that demands a London client certificate.

    Raises ``InternalError`` naming the file that cannot be loaded.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.verify_mode = ssl.CERT_REQUIRED
    _common(context, files)
    return context


class ServerTls:
    """A server context whose CRL can be replaced while the server runs.

    Give ``context`` to the server once; ``reload`` puts a new CRL in force
    for every handshake that starts afterwards.
    """

    def __init__(self, files: TlsFiles) -> None:
        """Build the context from ``files``; raise ``InternalError`` as ``server_context``."""
        self._files = files
        self._current = server_context(files)
        self.context = server_context(files)
        self.context.sni_callback = self._select

    def reload(self, crl_pem: bytes) -> None:
        """Check new handshakes against ``crl_pem`` (a PEM CRL already verified by the caller).

        Raises ``InternalError`` when OpenSSL cannot load it; the CRL in force
        is then unchanged.
        """
        # OpenSSL reads CRLs only from files; the context has read it on return.
        handle, name = tempfile.mkstemp(prefix="irt-crl-", suffix=".pem")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(crl_pem)
            fresh = server_context(TlsFiles(self._files.cert, self._files.key, self._files.root))
            _load_crl(fresh, Path(name))
        finally:
            os.unlink(name)
        self._current = fresh

    def _select(self, ssl_object: ssl.SSLObject, _name: str | None, _ctx: ssl.SSLContext) -> None:
        # Called for every ClientHello, with or without a server name.
        ssl_object.context = self._current


def client_context(files: TlsFiles) -> ssl.SSLContext:
    """A client context that presents our certificate and verifies the server's."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    _common(context, files)
    return context


def peer_authority(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> AuthorityCode:
    """The authority named by the peer's TLS certificate.

    Raises ``SenderMismatch`` when there is no certificate or it names no
    London authority.
    """
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        raise SenderMismatch("no TLS client certificate was presented")
    return _authority_of_der(der)


@functools.lru_cache(maxsize=_CACHED_PEERS)
def _authority_of_der(der: bytes) -> AuthorityCode:
    # Every request asks again; a certificate's DER names the same authority
    # every time, and parsing it costs far more than the dictionary lookup.
    return authority_of(x509.load_der_x509_certificate(der))


def _common(context: ssl.SSLContext, files: TlsFiles) -> None:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_verify_locations(cafile=str(files.root))
        context.load_cert_chain(certfile=str(files.cert), keyfile=str(files.key))
    except (OSError, ssl.SSLError) as exc:
        raise InternalError(
            f"cannot load TLS material ({files.cert}, {files.root}): {exc}"
        ) from exc
    if files.crl is not None:
        _load_crl(context, files.crl)


def _load_crl(context: ssl.SSLContext, crl: Path) -> None:
    try:
        context.load_verify_locations(cafile=str(crl))
    except (OSError, ssl.SSLError) as exc:
        raise InternalError(f"cannot load the CRL {crl} for TLS: {exc}") from exc
    context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
