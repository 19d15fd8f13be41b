"""The parties tests and benchmarks use, and what each holds in a development PKI.

One copy of the few lines every live test repeats: a party's TLS files, its
signing files or loaded signer, and mutual-TLS client sessions as one party
or another.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Final

import aiohttp

from hub.config import SigningFiles
from hub.envelope import Practitioner
from hub.identifiers import AuthorityCode
from hub.pki.layout import PkiLayout
from hub.signing import Signer
from hub.transport.tls import TlsFiles, client_context

__all__ = [
    "CROYDON",
    "LAMBETH",
    "SOCIAL_WORKER",
    "SOUTHWARK",
    "SUTTON",
    "TlsSessions",
    "key_tables",
    "party_signer",
    "signing_files",
    "tls_files",
]

LAMBETH: Final = AuthorityCode("E09000022")
SOUTHWARK: Final = AuthorityCode("E09000028")
CROYDON: Final = AuthorityCode("E09000008")
SUTTON: Final = AuthorityCode("E09000029")
SOCIAL_WORKER: Final = Practitioner("lam-sw-0142", "Social worker", "social-care")
"""The Lambeth practitioner on whose behalf test queries and referrals are made."""


def tls_files(pki: PkiLayout, code: AuthorityCode) -> TlsFiles:
    """``code``'s TLS certificate and key, with the PKI's root and CRL."""
    return TlsFiles(cert=pki.tls_cert(code), key=pki.tls_key(code), root=pki.root_cert, crl=pki.crl)


def signing_files(pki: PkiLayout, code: AuthorityCode) -> SigningFiles:
    """``code``'s message-signing certificate and key."""
    return SigningFiles(cert=pki.signing_cert(code), key=pki.signing_key(code))


def party_signer(pki: PkiLayout, code: AuthorityCode) -> Signer:
    """``code``'s message signer, loaded from the PKI."""
    return Signer.from_files(pki.signing_key(code), pki.signing_cert(code))


def key_tables(pki: PkiLayout, code: AuthorityCode) -> str:
    """The ``[tls]`` and ``[signing]`` tables of ``code``'s hub or node TOML configuration."""
    tls, signing = tls_files(pki, code), signing_files(pki, code)
    return f"""[tls]
cert = "{tls.cert}"
key = "{tls.key}"
root = "{tls.root}"
crl = "{tls.crl}"

[signing]
cert = "{signing.cert}"
key = "{signing.key}"
"""


@dataclass
class TlsSessions:
    """Client sessions over mutual TLS, one per party whose TLS identity is presented."""

    pki: PkiLayout
    _sessions: dict[AuthorityCode, aiohttp.ClientSession] = field(default_factory=dict)

    def session(self, tls_as: AuthorityCode) -> aiohttp.ClientSession:
        """The session presenting ``tls_as``'s TLS certificate, opened on first use."""
        if tls_as not in self._sessions:
            connector = aiohttp.TCPConnector(ssl=client_context(tls_files(self.pki, tls_as)))
            self._sessions[tls_as] = aiohttp.ClientSession(connector=connector)
        return self._sessions[tls_as]

    async def post(
        self, url: str, body: bytes, *, tls_as: AuthorityCode, content_type: str = "application/xml"
    ) -> tuple[int, bytes]:
        """POST ``body`` to ``url`` as ``tls_as``; the status and the answer's bytes."""
        headers = {"Content-Type": content_type}
        # A file-like body: aiohttp warns about large raw bytes.
        data = io.BytesIO(body)
        async with self.session(tls_as).post(url, data=data, headers=headers) as answer:
            return answer.status, await answer.read()

    async def close(self) -> None:
        """Close every session."""
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()
