"""The certificate profile of the London PKI (docs/pki.md), and the checks it implies.

One root, "London IRT Root CA", issues every party two end-entity
certificates with separate keys: one for message signing (RFC 9336
``id-kp-documentSigning``) and one for mutual TLS (serverAuth + clientAuth).
A party certificate names its authority twice, and both must agree: the
subject ``OU`` is the GSS code (or ``HUB``) and a SAN URI is
``urn:lcpc:authority:<code>``. Keys are ECDSA P-256 (default) or P-384, or RSA
of 2048 bits or more (SPEC §3).

The constants here are what ``hub.pki.certificates`` writes; the functions are
what ``hub.pki.trust`` and the TLS layer check.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.authorities import AUTHORITY_NAMES
from hub.errors import SchemaInvalid, SenderMismatch, UntrustedCertificate
from hub.identifiers import AUTHORITY_URN_PREFIX, AuthorityCode, parse_authority

__all__ = [
    "BACKDATE",
    "CRL_VALIDITY",
    "DEFAULT_TLS_HOST",
    "DOCUMENT_SIGNING",
    "MIN_RSA_BITS",
    "ORGANISATION",
    "PARTY_VALIDITY",
    "ROOT_NAME",
    "ROOT_PATH_LENGTH",
    "ROOT_VALIDITY",
    "Purpose",
    "authority_of",
    "check_key",
    "check_purpose",
    "describe",
    "key_problem",
    "party_name",
]

Purpose = Literal["signing", "tls"]
"""What a party certificate is for: message signing or mutual TLS, never both."""

DOCUMENT_SIGNING: Final = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""RFC 9336 id-kp-documentSigning: marks a certificate as a message signer."""

MIN_RSA_BITS: Final = 2048
"""SPEC §3: RSA keys must be at least 2048 bits."""

ORGANISATION: Final = "London Councils IRT Interchange"
ROOT_NAME: Final = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        x509.NameAttribute(NameOID.COMMON_NAME, "London IRT Root CA"),
    ]
)
"""Subject (and issuer) of the London root CA."""

ROOT_PATH_LENGTH: Final = 1
"""The root may certify one tier of intermediates; the development CA uses none."""

ROOT_VALIDITY: Final = timedelta(days=7305)
"""Twenty years of 365.25 days."""
PARTY_VALIDITY: Final = timedelta(days=730)
"""Two years: every party certificate is rotated at least this often."""
CRL_VALIDITY: Final = timedelta(days=7)
"""Default gap between a CRL's thisUpdate and nextUpdate."""
BACKDATE: Final = timedelta(minutes=5)
"""Default certificates start this long before issue, the SPEC §2 clock window,
so a peer whose clock is behind still accepts a certificate issued just now."""

DEFAULT_TLS_HOST: Final = "localhost"
"""Common name of a TLS certificate when no host name is given."""

_CURVES: Final = (ec.SECP256R1, ec.SECP384R1)
_TLS_USAGES: Final = frozenset({ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH})


def party_name(code: AuthorityCode, purpose: Purpose, host: str = DEFAULT_TLS_HOST) -> x509.Name:
    """The subject of ``code``'s certificate for ``purpose``.

    ``C=GB, O=<authority name>, OU=<code>, CN=<code> IRT message signing`` for
    signing; the same with ``CN=<host>`` for TLS.
    """
    common_name = f"{code} IRT message signing" if purpose == "signing" else host
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, AUTHORITY_NAMES[code]),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, code),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def authority_of(cert: x509.Certificate) -> AuthorityCode:
    """The authority a certificate names, by subject ``OU`` and SAN URI together.

    Raises ``SenderMismatch`` when it names none, several, two different ones,
    or a code that is not a London authority: such a certificate cannot speak
    for any sender (docs/pki.md, "Which authority a certificate names").
    """
    try:
        subject_codes = {
            str(attribute.value)
            for attribute in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        }
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    except ValueError as exc:
        # cryptography parses names and extensions lazily; a corrupt one names no one.
        raise SenderMismatch(
            f"certificate (serial {cert.serial_number:x}) has an unreadable name: {exc}"
        ) from exc
    uri_codes = {
        uri.removeprefix(AUTHORITY_URN_PREFIX)
        for uri in uris
        if uri.startswith(AUTHORITY_URN_PREFIX)
    }
    if len(uri_codes) != 1:
        raise SenderMismatch(
            f"certificate {describe(cert)} names {len(uri_codes)} authorities by SAN URI "
            f"{AUTHORITY_URN_PREFIX}<code>; exactly one is required"
        )
    (code,) = uri_codes
    if subject_codes != {code}:
        found = ", ".join(sorted(subject_codes)) or "missing"
        raise SenderMismatch(
            f"certificate {describe(cert)} has SAN URI {AUTHORITY_URN_PREFIX}{code} but subject "
            f"OU {found}; both must name the same authority"
        )
    try:
        return parse_authority(code)
    except SchemaInvalid as exc:
        raise SenderMismatch(f"certificate {describe(cert)}: {exc.reason}") from exc


def check_purpose(cert: x509.Certificate, purpose: Purpose) -> None:
    """Raise ``UntrustedCertificate`` unless ``cert`` is a party certificate for ``purpose``.

    A signing certificate carries id-kp-documentSigning and no TLS usage; a TLS
    certificate carries serverAuth and clientAuth and not documentSigning; both
    have keyUsage digitalSignature. Keeping the usages apart is what keeps the
    signing and TLS keys apart.
    """
    try:
        usages = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usages = set()
    what = "a message-signing" if purpose == "signing" else "a TLS"
    if purpose == "signing":
        fits = DOCUMENT_SIGNING in usages and not usages & _TLS_USAGES
        needs = f"extended key usage id-kp-documentSigning ({DOCUMENT_SIGNING.dotted_string}) only"
    else:
        fits = usages >= _TLS_USAGES and DOCUMENT_SIGNING not in usages
        needs = "extended key usages serverAuth and clientAuth, without documentSigning"
    if not fits:
        raise UntrustedCertificate(
            f"certificate {describe(cert)} is not {what} certificate: {needs}"
        )
    try:
        key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        key_usage = None
    if key_usage is None or not key_usage.digital_signature:
        raise UntrustedCertificate(
            f"certificate {describe(cert)} is not {what} certificate: "
            "its key usage lacks digitalSignature"
        )


def key_problem(key: CertificatePublicKeyTypes) -> str | None:
    """Why ``key`` is not allowed by the profile, or ``None`` when it is."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        if isinstance(key.curve, _CURVES):
            return None
        return f"an EC key on curve {key.curve.name}; only P-256 and P-384 are allowed"
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size >= MIN_RSA_BITS:
            return None
        return f"an RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} are required"
    return f"a {type(key).__name__}; only ECDSA P-256/P-384 and RSA of {MIN_RSA_BITS}+ bits"


def check_key(cert: x509.Certificate) -> None:
    """Raise ``UntrustedCertificate`` unless the key is EC P-256/P-384 or RSA ≥ 2048."""
    problem = key_problem(cert.public_key())
    if problem is not None:
        raise UntrustedCertificate(f"certificate {describe(cert)} has {problem}")


def describe(cert: x509.Certificate) -> str:
    """How error messages name a certificate: its subject and hex serial."""
    return f"{cert.subject.rfc4514_string()!r} (serial {cert.serial_number:x})"
