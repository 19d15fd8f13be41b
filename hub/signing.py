"""Signing per SPEC §3: one enveloped XML-DSig signature, last child of the root.

A ``Signer`` loads its key and certificate chain once and signs any root
element — an envelope, an ISP document, a catalogue — with exactly one
``ds:Reference URI=""``, the enveloped-signature and exclusive c14n
transforms, SHA-256 digests, and ``ecdsa-sha256`` or ``rsa-sha256`` chosen by
the key type. The signer certificate and any intermediates travel in
``ds:KeyInfo/ds:X509Data``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

from hub.errors import InternalError

__all__ = ["MIN_RSA_BITS", "Signer"]

MIN_RSA_BITS: Final = 2048
"""SPEC §3: RSA keys shorter than 2048 bits are refused."""

_EXC_C14N: Final = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0


@dataclass(frozen=True, slots=True)
class Signer:
    """A private key and its certificate chain, loaded once, that signs documents."""

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    chain: tuple[x509.Certificate, ...]
    """The signer certificate first, then any intermediates."""

    def __post_init__(self) -> None:
        if not self.chain:
            raise InternalError("a signer needs its certificate")
        if isinstance(self.key, rsa.RSAPrivateKey) and self.key.key_size < MIN_RSA_BITS:
            raise InternalError(
                f"RSA key of {self.key.key_size} bits; at least {MIN_RSA_BITS} are required"
            )
        if _spki(self.key.public_key()) != _spki(self.chain[0].public_key()):
            raise InternalError("the private key does not match the signer certificate")

    @classmethod
    def from_files(cls, key_path: Path, cert_path: Path) -> Signer:
        """Load a PEM private key and a PEM certificate (chain) from disk.

        Raises ``InternalError`` naming the file when either cannot be read.
        """
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise InternalError(f"cannot load private key {key_path}: {exc}") from exc
        try:
            chain = tuple(x509.load_pem_x509_certificates(cert_path.read_bytes()))
        except (OSError, ValueError) as exc:
            raise InternalError(f"cannot load certificate {cert_path}: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise InternalError(f"{key_path}: only ECDSA and RSA keys can sign messages")
        return cls(key=key, chain=chain)

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's own certificate."""
        return self.chain[0]

    @property
    def method(self) -> SignatureMethod:
        """``ecdsa-sha256`` for EC keys (the default for new keys), else ``rsa-sha256``."""
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return SignatureMethod.ECDSA_SHA256
        return SignatureMethod.RSA_SHA256

    def sign(self, root: etree._Element) -> bytes:
        """The UTF-8 bytes of ``root`` with an enveloped signature appended.

        ``root`` itself is left unchanged. Raises ``InternalError`` if the root
        already carries a signature, since a second one would be rejected.
        """
        if root.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None:
            raise InternalError("document is already signed")
        signer = XMLSigner(
            signature_algorithm=self.method,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=_EXC_C14N,
        )
        # signxml serialises and re-parses the element it is given, so
        # ``root`` is never changed and needs no copy of ours.
        signed = signer.sign(root, key=self.key, cert=list(self.chain))
        return etree.tostring(signed, encoding="UTF-8", xml_declaration=True)


def _spki(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
