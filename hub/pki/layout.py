"""Where a development PKI lives on disk (``irthub pki init --dir DIR``), and how it is written.

    DIR/root-ca.pem   DIR/root-ca.key   DIR/crl.pem   DIR/serials.json
    DIR/crl/<number>.pem   (every CRL ever issued, under its cRLNumber)
    DIR/<CODE>/signing.pem   DIR/<CODE>/signing.key
    DIR/<CODE>/tls.pem       DIR/<CODE>/tls.key

for the 33 GSS codes and ``HUB``. Private keys are PKCS#8 PEM, created with
mode 0600 (never widened and narrowed afterwards) and named ``*.key`` so git
ignores them; certificates, the CRLs and ``serials.json`` are 0644.
``crl.pem`` is the CRL in force; ``crl/`` keeps each one issued, never
overwritten, so an auditor can judge a message against the CRL in force when
it was created (``irthub audit verify --crl DIR/crl``). Every file
is written to a temporary name beside it and renamed into place, so a reader
never sees half a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hub.files import PUBLIC_MODE, SECRET_MODE, write_file
from hub.identifiers import AuthorityCode
from hub.pki.profile import Purpose

__all__ = ["KEY_MODE", "PUBLIC_MODE", "PkiLayout", "write_private_key", "write_public_file"]

KEY_MODE: Final = SECRET_MODE
"""Private keys: readable by their owner only, from the moment they exist."""


@dataclass(frozen=True, slots=True)
class PkiLayout:
    """Path helpers for one PKI directory; nothing is read or written here."""

    root: Path
    """The PKI directory itself (``--dir``)."""

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
    def crl_history(self) -> Path:
        """The folder keeping every CRL issued, one file per CRL number."""
        return self.root / "crl"

    def numbered_crl(self, number: int) -> Path:
        """The CRL numbered ``number``: ``crl/<number>.pem``."""
        return self.crl_history / f"{number}.pem"

    @property
    def registry(self) -> Path:
        """``serials.json``: every certificate issued, every revocation, the CRL number."""
        return self.root / "serials.json"

    def has_ca(self) -> bool:
        """True when a root CA or its registry is already there."""
        return any(p.exists() for p in (self.root_cert, self.root_key, self.registry))

    def party_dir(self, code: AuthorityCode) -> Path:
        """The folder of one authority's (or the hub's) keys and certificates."""
        return self.root / code

    def cert(self, code: AuthorityCode, purpose: Purpose) -> Path:
        """``code``'s certificate for ``purpose``: ``<CODE>/signing.pem`` or ``<CODE>/tls.pem``."""
        return self.party_dir(code) / f"{purpose}.pem"

    def key(self, code: AuthorityCode, purpose: Purpose) -> Path:
        """``code``'s private key for ``purpose``: ``<CODE>/signing.key`` or ``<CODE>/tls.key``."""
        return self.party_dir(code) / f"{purpose}.key"

    def signing_cert(self, code: AuthorityCode) -> Path:
        """Message-signing certificate of ``code``."""
        return self.cert(code, "signing")

    def signing_key(self, code: AuthorityCode) -> Path:
        """Message-signing private key of ``code``."""
        return self.key(code, "signing")

    def tls_cert(self, code: AuthorityCode) -> Path:
        """TLS certificate of ``code`` (serverAuth and clientAuth)."""
        return self.cert(code, "tls")

    def tls_key(self, code: AuthorityCode) -> Path:
        """TLS private key of ``code``; never the signing key."""
        return self.key(code, "tls")


def write_private_key(path: Path, pem: bytes) -> None:
    """Write ``pem`` to ``path`` with mode 0600 from creation, atomically.

    Raises ``OSError`` as the operating system reports it.
    """
    write_file(path, pem, mode=KEY_MODE, overwrite=True)


def write_public_file(path: Path, data: bytes) -> None:
    """Write public material to ``path`` with mode 0644, atomically.

    Raises ``OSError`` as the operating system reports it.
    """
    write_file(path, data, mode=PUBLIC_MODE, overwrite=True)
