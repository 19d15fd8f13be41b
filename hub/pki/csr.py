"""Certificate signing requests: a borough's key certified without the key leaving the borough.

``irthub pki issue --csr FILE`` issues from a PKCS#10 request (RFC 2986). Only
the public key is taken from it, once

(1) it parses (PEM or DER, at most ``MAX_CSR_BYTES``);
(2) its self-signature verifies with the key it carries: the requester holds
    the private key (proof of possession, RFC 4211 §4);
(3) the key is ECDSA or RSA; whether its curve or size suits the profile is
    checked where the certificate is built (``issue_certificate``).

Everything else a CSR may ask for — subject, extensions, validity — is
ignored: the certificate profile decides those, not the requester.
"""

from __future__ import annotations

from typing import Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hub.pki.certificates import PublicKey
from hub.pki.errors import PkiError

__all__ = ["MAX_CSR_BYTES", "public_key_of_csr"]

MAX_CSR_BYTES: Final = 64 * 1024
"""A request for one key with a few names is well under 4 KiB; far larger is not a CSR."""


def public_key_of_csr(data: bytes, *, source: str) -> PublicKey:
    """The public key of the CSR in ``data`` (PEM or DER), after steps (1)–(3).

    Raises ``PkiError`` naming ``source`` and the step that failed.
    """
    if len(data) > MAX_CSR_BYTES:  # (1)
        raise PkiError(f"{source} is larger than {MAX_CSR_BYTES} bytes; it is not a CSR")
    try:
        csr = (
            x509.load_pem_x509_csr(data)
            if data.lstrip().startswith(b"-----")
            else x509.load_der_x509_csr(data)
        )
        key = csr.public_key()
        valid = csr.is_signature_valid  # (2)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise PkiError(f"{source} is not a readable certificate signing request: {exc}") from exc
    if not valid:
        raise PkiError(
            f"the signature of the CSR {source} does not verify with the key it carries: "
            "whoever made it does not hold that private key"
        )
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):  # (3)
        raise PkiError(
            f"the CSR {source} carries a {type(key).__name__}; the London profiles take "
            "ECDSA or RSA keys only"
        )
    return key
