"""Where a development PKI lives on disk (``irthub pki init --dir DIR``).

    DIR/root-ca.pem  DIR/root-ca.key  DIR/crl.pem  DIR/serials.json
    DIR/<CODE>/signing.pem  DIR/<CODE>/signing.key
    DIR/<CODE>/tls.pem      DIR/<CODE>/tls.key

for the 33 GSS codes and ``HUB``. Keys are written 0600 and are ignored by
git (``*.key``); certificates are 0644.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hub.identifiers import AuthorityCode

__all__ = ["PkiLayout"]


@dataclass(frozen=True, slots=True)
class PkiLayout:
    """Path helpers for one PKI directory."""

    root: Path

    @property
    def root_cert(self) -> Path:
        """The London root CA certificate: the trust anchor every party pins."""
        return self.root / "root-ca.pem"

    @property
    def root_key(self) -> Path:
        """The root CA's private key (development only)."""
        return self.root / "root-ca.key"

    @property
    def crl(self) -> Path:
        """The root's current CRL."""
        return self.root / "crl.pem"

    @property
    def registry(self) -> Path:
        """``serials.json``: every certificate issued and every revocation."""
        return self.root / "serials.json"

    def party_dir(self, code: AuthorityCode) -> Path:
        """The folder of one authority's (or the hub's) keys and certificates."""
        return self.root / code

    def signing_cert(self, code: AuthorityCode) -> Path:
        """Message-signing certificate of ``code``."""
        return self.party_dir(code) / "signing.pem"

    def signing_key(self, code: AuthorityCode) -> Path:
        """Message-signing private key of ``code``."""
        return self.party_dir(code) / "signing.key"

    def tls_cert(self, code: AuthorityCode) -> Path:
        """TLS certificate of ``code`` (serverAuth and clientAuth)."""
        return self.party_dir(code) / "tls.pem"

    def tls_key(self, code: AuthorityCode) -> Path:
        """TLS private key of ``code``; never the signing key."""
        return self.party_dir(code) / "tls.key"
