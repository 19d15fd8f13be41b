"""TLS contexts for mutual TLS on every hop (SPEC §4).

Servers require a client certificate issued by the London root CA
(``CERT_REQUIRED``) and check it against the CRL; clients verify the server
against the same root. TLS keys are separate from signing keys: a TLS
certificate never signs a message, and a signing certificate cannot be used
for TLS (OpenSSL checks the serverAuth/clientAuth purposes).
"""

from __future__ import annotations

import functools
import ssl
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

__all__ = ["TlsFiles", "client_context", "peer_authority", "server_context"]


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


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """A server context that demands a London client certificate.

    Raises ``InternalError`` naming the file that cannot be loaded.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.verify_mode = ssl.CERT_REQUIRED
    _common(context, files)
    return context


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
        if files.crl is not None:
            context.load_verify_locations(cafile=str(files.crl))
            context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    except (OSError, ssl.SSLError) as exc:
        raise InternalError(
            f"cannot load TLS material ({files.cert}, {files.root}): {exc}"
        ) from exc
