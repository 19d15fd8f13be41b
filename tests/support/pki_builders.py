"""Helpers for the PKI tests: the clock, certificates our CA refuses to make, and look-alikes.

``raw_certificate`` builds a certificate straight from ``cryptography``'s
builder, so tests can present the trust store with profiles the development
CA would never issue (two authorities, weak keys, dual use, rogue CAs).
``look_alike_party`` is the attacker's certificate the transport and node
attacks present: a profile certificate from a root of the attacker's own.
Everything is really signed; nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.identifiers import AuthorityCode
from hub.pki.certificates import PrivateKey, issue_certificate, issue_root, new_key
from hub.pki.profile import DOCUMENT_SIGNING, Purpose

LAMBETH = AuthorityCode("E09000022")
SOUTHWARK = AuthorityCode("E09000028")


def now() -> datetime:
    """The current instant in whole seconds, as certificates store it."""
    return datetime.now(UTC).replace(microsecond=0)


def name(*, org: str = "Lambeth", ou: str | None = LAMBETH, cn: str = "test") -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
    ]
    if ou is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def usage(*, signature: bool = True, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


SIGNING_EKU = (DOCUMENT_SIGNING,)
TLS_EKU = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)


def raw_certificate(
    issuer: x509.Certificate | None,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    *,
    public_key: CertificatePublicKeyTypes | None = None,
    subject: x509.Name | None = None,
    uris: Sequence[str] = (f"urn:lcpc:authority:{LAMBETH}",),
    eku: Sequence[x509.ObjectIdentifier] | None = SIGNING_EKU,
    key_usage: x509.KeyUsage | None = None,
    ca: bool = False,
    path_length: int | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    """A certificate signed by ``issuer_key`` (self-signed when ``issuer`` is None)."""
    subject = subject or name()
    if public_key is None:
        public_key = issuer_key.public_key() if issuer is None else new_key().public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now() - timedelta(hours=1))
        .not_valid_after(not_after or now() + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(key_usage or usage(cert_sign=ca, signature=not ca), critical=True)
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if uris:
        san = x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in uris])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def party_certificate(
    root: x509.Certificate,
    root_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    *,
    party: AuthorityCode = LAMBETH,
    kind: str = "signing",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    """A profile certificate from the real issuing code, with explicit validity."""
    return issue_certificate(
        root,
        root_key,
        party=party,
        kind="tls" if kind == "tls" else "signing",
        public_key=new_key().public_key(),
        not_before=not_before or now() - timedelta(hours=1),
        not_after=not_after or now() + timedelta(days=1),
    )


def look_alike_party(
    *, kind: Purpose, party: AuthorityCode = LAMBETH
) -> tuple[PrivateKey, x509.Certificate]:
    """A key and ``party``'s ``kind`` certificate for it, issued under the attacker's own root.

    The root has the London root's very subject (``issue_root`` names every
    root alike); only its key differs. Valid from a day ago for a month.
    """
    start = now() - timedelta(days=1)
    attacker_key = new_key()
    attacker_root = issue_root(attacker_key, not_before=start, not_after=start + timedelta(days=31))
    key = new_key()
    certificate = issue_certificate(
        attacker_root,
        attacker_key,
        party=party,
        kind=kind,
        public_key=key.public_key(),
        not_before=start,
        not_after=start + timedelta(days=31),
    )
    return key, certificate
