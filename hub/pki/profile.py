"""The certificate profile of the London PKI (see docs/pki.md).

An authority certificate names its authority twice, and both must agree: the
subject ``OU`` is the GSS code and a SAN URI is ``urn:lcpc:authority:<code>``.
Message-signing certificates carry the RFC 9336 ``id-kp-documentSigning``
extended key usage; TLS certificates carry serverAuth and clientAuth. Keys
are ECDSA P-256 (default) or P-384, or RSA of 2048 bits or more.
"""

from __future__ import annotations

from typing import Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.errors import SchemaInvalid, SenderMismatch, UntrustedCertificate
from hub.identifiers import AUTHORITY_URN_PREFIX, AuthorityCode, parse_authority

__all__ = [
    "DOCUMENT_SIGNING",
    "MIN_RSA_BITS",
    "Purpose",
    "authority_of",
    "check_key",
    "has_purpose",
]

DOCUMENT_SIGNING: Final = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""RFC 9336 id-kp-documentSigning: marks a certificate as a message signer."""

MIN_RSA_BITS: Final = 2048
"""SPEC §3: RSA keys must be at least 2048 bits."""

_CURVES: Final = (ec.SECP256R1, ec.SECP384R1)

Purpose = Literal["signing", "tls"]


def authority_of(cert: x509.Certificate) -> AuthorityCode:
    """The authority a certificate names, by subject ``OU`` and SAN URI together.

    Raises ``SenderMismatch`` when it names none, several, or two different
    ones: such a certificate cannot speak for any authority.
    """
    subject_codes = {
        str(attribute.value)
        for attribute in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    }
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    uri_codes = {
        uri.removeprefix(AUTHORITY_URN_PREFIX)
        for uri in uris
        if uri.startswith(AUTHORITY_URN_PREFIX)
    }
    if len(uri_codes) != 1:
        raise SenderMismatch(
            f"certificate {_serial(cert)} names {len(uri_codes)} authorities by SAN URI; "
            "exactly one is required"
        )
    (code,) = uri_codes
    if subject_codes != {code}:
        raise SenderMismatch(
            f"certificate {_serial(cert)} has SAN URI {AUTHORITY_URN_PREFIX}{code} but subject "
            f"OU {', '.join(sorted(subject_codes)) or 'missing'}; both must name the same authority"
        )
    try:
        return parse_authority(code)
    except SchemaInvalid as exc:
        raise SenderMismatch(f"certificate {_serial(cert)}: {exc.reason}") from exc


def has_purpose(cert: x509.Certificate, purpose: Purpose) -> bool:
    """True when the certificate's extended key usage allows ``purpose``."""
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    if purpose == "signing":
        return DOCUMENT_SIGNING in usages
    return ExtendedKeyUsageOID.CLIENT_AUTH in usages and ExtendedKeyUsageOID.SERVER_AUTH in usages


def check_key(cert: x509.Certificate) -> None:
    """Raise ``UntrustedCertificate`` unless the key is EC P-256/P-384 or RSA ≥ 2048."""
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, _CURVES):
        return
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS:
        return
    raise UntrustedCertificate(
        f"certificate {_serial(cert)} has a key that is not allowed "
        f"({type(key).__name__}); use ECDSA P-256 or RSA of at least {MIN_RSA_BITS} bits"
    )


def _serial(cert: x509.Certificate) -> str:
    return f"{cert.serial_number:x}"
