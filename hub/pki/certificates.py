"""Building certificates and CRLs to the London profile: keys in, ``cryptography`` objects out.

Nothing here touches the disk or the clock: every time is an argument. The
directory-level operations (``irthub pki``) are in ``hub.pki.issuing``.
Extensions follow RFC 5280 §4.2 and docs/pki.md:

- root: basicConstraints CA pathLen 1 (critical), keyUsage keyCertSign and
  cRLSign (critical), subjectKeyIdentifier;
- party: basicConstraints CA:false (critical), keyUsage (critical),
  extendedKeyUsage, subjectAltName with the authority URN, subject and
  authority key identifiers;
- CRL (RFC 5280 §5): v2, cRLNumber and authorityKeyIdentifier, one entry per
  revoked serial with its date and, unless unspecified, its reasonCode.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from ipaddress import IPv4Address
from types import MappingProxyType
from typing import Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID

from hub.authorities import AUTHORITY_NAMES
from hub.identifiers import AuthorityCode, authority_urn
from hub.pki.errors import PkiError
from hub.pki.profile import (
    DEFAULT_TLS_HOST,
    DOCUMENT_SIGNING,
    MIN_RSA_BITS,
    ROOT_NAME,
    ROOT_PATH_LENGTH,
    Purpose,
    key_problem,
    party_name,
)

__all__ = [
    "DEFAULT_RSA_BITS",
    "REVOCATION_REASONS",
    "KeyType",
    "PrivateKey",
    "PublicKey",
    "Revocation",
    "build_crl",
    "issue_certificate",
    "issue_root",
    "new_key",
]

KeyType = Literal["ec", "rsa"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

DEFAULT_RSA_BITS: Final = 3072
"""``--key-type rsa`` without ``--rsa-bits``: NIST SP 800-57's 128-bit level."""

REVOCATION_REASONS: Final[Mapping[str, x509.ReasonFlags]] = MappingProxyType(
    {
        reason.value: reason
        for reason in x509.ReasonFlags
        # removeFromCRL belongs to delta CRLs only (RFC 5280 §5.3.1).
        if reason is not x509.ReasonFlags.remove_from_crl
    }
)
"""RFC 5280 §5.3.1 reason names (``keyCompromise``, ``superseded``, …) → flags."""

_LOOPBACK: Final = IPv4Address("127.0.0.1")
# A DNS name as a certificate may carry it: ASCII labels, an optional leading
# wildcard label (RFC 6125 §6.4.3). Anything else is refused before signing.
_DNS_NAME: Final = re.compile(
    r"(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\Z"
)


@dataclass(frozen=True, slots=True)
class Revocation:
    """One revoked serial as the CRL lists it."""

    serial: int
    revoked_at: datetime
    """When the certificate stopped being trusted (UTC)."""
    reason: x509.ReasonFlags = x509.ReasonFlags.unspecified
    """RFC 5280 §5.3.1; ``unspecified`` is written as no reasonCode at all."""


def new_key(key_type: KeyType = "ec", *, rsa_bits: int = DEFAULT_RSA_BITS) -> PrivateKey:
    """A fresh ECDSA P-256 key, or an RSA key of ``rsa_bits``.

    Raises ``PkiError`` for RSA shorter than 2048 bits.
    """
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if rsa_bits < MIN_RSA_BITS:
        raise PkiError(
            f"RSA keys of {rsa_bits} bits are refused; the London profile needs at least "
            f"{MIN_RSA_BITS} (default {DEFAULT_RSA_BITS})"
        )
    return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)


def issue_root(key: PrivateKey, *, not_before: datetime, not_after: datetime) -> x509.Certificate:
    """The self-signed London root CA certificate for ``key``.

    Raises ``PkiError`` for a key or validity the profile does not allow.
    """
    _check_issuable(key.public_key(), not_before, not_after)
    return (
        x509.CertificateBuilder()
        .subject_name(ROOT_NAME)
        .issuer_name(ROOT_NAME)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=ROOT_PATH_LENGTH), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def issue_certificate(
    issuer_cert: x509.Certificate,
    issuer_key: PrivateKey,
    *,
    party: AuthorityCode,
    kind: Purpose,
    public_key: PublicKey,
    not_before: datetime,
    not_after: datetime,
    host: str = DEFAULT_TLS_HOST,
    dns_names: Sequence[str] = (),
) -> x509.Certificate:
    """A ``kind`` certificate for ``party``'s ``public_key``, signed by the issuer.

    TLS certificates name ``host`` as their CN and carry DNS ``localhost``,
    ``host``, each of ``dns_names`` and IP 127.0.0.1. Raises ``PkiError`` for
    an unknown party, a weak key, an empty or naive validity window, or a
    malformed DNS name.
    """
    if party not in AUTHORITY_NAMES:
        raise PkiError(f"{party!r} is not a London authority code (E09000001-E09000033) or HUB")
    _check_issuable(public_key, not_before, not_after)
    alt_names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(authority_urn(party))]
    usages = [DOCUMENT_SIGNING]
    if kind == "tls":
        names = list(dict.fromkeys((DEFAULT_TLS_HOST, host, *dns_names)))
        for name in names:
            if not _DNS_NAME.match(name):
                raise PkiError(f"{name!r} is not a DNS name a certificate can carry")
        alt_names += [*map(x509.DNSName, names), x509.IPAddress(_LOOPBACK)]
        usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    return (
        x509.CertificateBuilder()
        .subject_name(party_name(party, kind, host))
        .issuer_name(issuer_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_party_key_usage(kind, public_key), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_authority_key_id(issuer_cert), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )


def build_crl(
    issuer_cert: x509.Certificate,
    issuer_key: PrivateKey,
    revocations: Iterable[Revocation],
    *,
    number: int,
    this_update: datetime,
    next_update: datetime,
) -> x509.CertificateRevocationList:
    """The issuer's CRL number ``number`` listing ``revocations``.

    Raises ``PkiError`` when ``next_update`` is not after ``this_update``.
    """
    if next_update <= this_update:
        raise PkiError(f"a CRL's nextUpdate ({next_update}) must be after thisUpdate")
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(_authority_key_id(issuer_cert), critical=False)
    )
    for revocation in revocations:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(revocation.serial)
            .revocation_date(revocation.revoked_at)
        )
        # RFC 5280 §5.3.1: "the reason code unspecified SHOULD be absent".
        if revocation.reason is not x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(revocation.reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(issuer_key, hashes.SHA256())


def _check_issuable(
    key: CertificatePublicKeyTypes, not_before: datetime, not_after: datetime
) -> None:
    problem = key_problem(key)
    if problem is not None:
        raise PkiError(f"cannot certify {problem}")
    if not_before.tzinfo is None or not_after.tzinfo is None:
        raise PkiError("certificate validity times must carry a time zone (use UTC)")
    if not_after <= not_before:
        raise PkiError(
            f"certificate validity is empty: notAfter {not_after.isoformat()} is not after "
            f"notBefore {not_before.isoformat()}"
        )


def _authority_key_id(issuer_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key())  # type: ignore[arg-type]
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _party_key_usage(kind: Purpose, public_key: PublicKey) -> x509.KeyUsage:
    if kind == "signing":
        return _key_usage(digital_signature=True, content_commitment=True)
    return _key_usage(
        digital_signature=True, key_agreement=isinstance(public_key, ec.EllipticCurvePublicKey)
    )


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_agreement: bool = False,
    cert_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=key_agreement,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
