"""Building certificates and CRLs to the London profiles: keys in, ``cryptography`` objects out.

Nothing here touches the disk or the clock: every time is an argument. The
directory-level operations (``irthub pki``) are in ``hub.pki.issuing``. What a
certificate contains comes from its ``CertificateProfile``
(``certs/profiles/*.toml``): subject, subjectAltName, basicConstraints,
keyUsage, extendedKeyUsage and key identifiers, each with the profile's
criticality, and nothing else (RFC 5280 §4.2). The profiles default to the
packaged ones (``default_profiles``). CRLs follow RFC 5280 §5: v2, cRLNumber
and authorityKeyIdentifier, one entry per revoked serial with its date and,
unless unspecified, its reasonCode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from hub.authorities import AUTHORITY_NAMES
from hub.identifiers import AuthorityCode
from hub.pki.errors import PkiError
from hub.pki.profile_loader import default_profiles
from hub.pki.profile_model import CertificateProfile, KeyRules, ProfileSet, Purpose

__all__ = [
    "DEFAULT_TLS_HOST",
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

DEFAULT_TLS_HOST: Final = "localhost"
"""The ``{host}`` of a TLS certificate when no host name is given."""

REVOCATION_REASONS: Final[Mapping[str, x509.ReasonFlags]] = MappingProxyType(
    {
        reason.value: reason
        for reason in x509.ReasonFlags
        # removeFromCRL belongs to delta CRLs only (RFC 5280 §5.3.1).
        if reason is not x509.ReasonFlags.remove_from_crl
    }
)
"""RFC 5280 §5.3.1 reason names (``keyCompromise``, ``superseded``, …) → flags."""


@dataclass(frozen=True, slots=True)
class Revocation:
    """One revoked serial as the CRL lists it."""

    serial: int
    revoked_at: datetime
    """When the certificate stopped being trusted (UTC)."""
    reason: x509.ReasonFlags = x509.ReasonFlags.unspecified
    """RFC 5280 §5.3.1; ``unspecified`` is written as no reasonCode at all."""


def new_key(
    key_type: KeyType = "ec", *, rsa_bits: int | None = None, rules: KeyRules | None = None
) -> PrivateKey:
    """A fresh ECDSA key on the profile's curve, or an RSA key of ``rsa_bits``.

    ``rules`` are a profile's ``[key]`` (default: the packaged signing
    profile's); ``rsa_bits`` defaults to its ``rsa_bits``. Raises ``PkiError``
    for RSA shorter than the profile accepts.
    """
    rules = rules or default_profiles().signing.key
    if key_type == "ec":
        return ec.generate_private_key(rules.ec_curve())
    bits = rules.rsa_bits if rsa_bits is None else rsa_bits
    if bits < rules.min_rsa_bits:
        raise PkiError(
            f"RSA keys of {bits} bits are refused; the London profile needs at least "
            f"{rules.min_rsa_bits} (default {rules.rsa_bits})"
        )
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def issue_root(
    key: PrivateKey,
    *,
    not_before: datetime,
    not_after: datetime,
    profile: CertificateProfile | None = None,
) -> x509.Certificate:
    """The self-signed London root CA certificate for ``key``, from the root ``profile``.

    Raises ``PkiError`` for a key or validity the profile does not allow.
    """
    profile = profile or default_profiles().root
    _check_issuable(profile, key.public_key(), not_before, not_after)
    name = profile.subject_name({})
    builder = _builder(
        profile,
        subject=name,
        public_key=key.public_key(),
        not_before=not_before,
        not_after=not_after,
        alt_names=(),
    )
    if profile.authority_key_identifier:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key())
        builder = builder.add_extension(aki, critical=False)
    return builder.issuer_name(name).sign(key, hashes.SHA256())


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
    profiles: ProfileSet | None = None,
) -> x509.Certificate:
    """A ``kind`` certificate for ``party``'s ``public_key``, signed by the issuer.

    Built from the ``kind`` profile of ``profiles`` (default: the packaged
    ones) with the template fields ``{code}``, ``{name}`` and ``{host}``;
    ``dns_names`` are added to the subjectAltName where the profile allows
    extra DNS names. Raises ``PkiError`` for an unknown party, a key the
    profile does not accept, an empty or naive validity window, extra DNS
    names the profile does not take, or a malformed DNS name.
    """
    if party not in AUTHORITY_NAMES:
        raise PkiError(f"{party!r} is not a London authority code (E09000001-E09000033) or HUB")
    profile = (profiles or default_profiles()).party(kind)
    _check_issuable(profile, public_key, not_before, not_after)
    fields = {"code": party, "name": AUTHORITY_NAMES[party], "host": host}
    rule = profile.subject_alt_name
    alt_names = () if rule is None else rule.general_names(fields, dns_names, profile.file_name)
    builder = _builder(
        profile,
        subject=profile.subject_name(fields),
        public_key=public_key,
        not_before=not_before,
        not_after=not_after,
        alt_names=alt_names,
    )
    if profile.authority_key_identifier:
        builder = builder.add_extension(_authority_key_id(issuer_cert), critical=False)
    return builder.issuer_name(issuer_cert.subject).sign(issuer_key, hashes.SHA256())


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


def _builder(
    profile: CertificateProfile,
    *,
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    not_before: datetime,
    not_after: datetime,
    alt_names: Sequence[x509.GeneralName],
) -> x509.CertificateBuilder:
    """Subject, key, validity and every extension of ``profile`` but the issuer's."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            profile.basic_constraints.extension(), critical=profile.basic_constraints.critical
        )
        .add_extension(profile.key_usage.extension(public_key), critical=profile.key_usage.critical)
    )
    if profile.extended_key_usage is not None:
        eku = profile.extended_key_usage
        builder = builder.add_extension(eku.extension(), critical=eku.critical)
    if profile.subject_alt_name is not None:
        san = x509.SubjectAlternativeName(alt_names)
        builder = builder.add_extension(san, critical=profile.subject_alt_name.critical)
    if profile.subject_key_identifier:
        ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
        builder = builder.add_extension(ski, critical=False)
    if profile.crl_distribution_points:
        points = x509.CRLDistributionPoints(
            [
                x509.DistributionPoint(
                    full_name=[x509.UniformResourceIdentifier(uri)],
                    relative_name=None,
                    reasons=None,
                    crl_issuer=None,
                )
                for uri in profile.crl_distribution_points
            ]
        )
        builder = builder.add_extension(points, critical=False)
    return builder


def _check_issuable(
    profile: CertificateProfile,
    key: CertificatePublicKeyTypes,
    not_before: datetime,
    not_after: datetime,
) -> None:
    problem = profile.key.problem(key)
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
