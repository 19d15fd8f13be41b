"""A development certificate authority for the London PKI, on ``cryptography``.

``init_pki`` makes a root CA, a signing and a separate TLS certificate for
each of the 33 authorities and the hub, and an empty CRL; ``reissue``,
``revoke`` and ``write_crl`` keep it up to date. The profile is the one
``hub.pki.profile`` checks (docs/pki.md). Every issued serial is recorded in
``serials.json`` so revocation and CRLs can be regenerated.

Production authorities get their certificates from the LCPC's real CA; this
module exists so that the demo, the tests and integrators have a faithful
PKI on any machine without network access.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.authorities import AUTHORITY_NAMES, PARTIES
from hub.errors import InternalError
from hub.identifiers import AuthorityCode, authority_urn
from hub.pki.layout import PkiLayout
from hub.pki.profile import DOCUMENT_SIGNING, MIN_RSA_BITS

__all__ = [
    "REVOCATION_REASONS",
    "CertificateKind",
    "IssuedRecord",
    "KeyType",
    "init_pki",
    "issue_certificate",
    "load_registry",
    "new_key",
    "reissue",
    "revoke",
    "write_crl",
]

KeyType = Literal["ec", "rsa"]
CertificateKind = Literal["signing", "tls"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

ROOT_YEARS: Final = 20
PARTY_DAYS: Final = 730
CRL_DAYS: Final = 7
RSA_BITS: Final = 3072
REVOCATION_REASONS: Final = {reason.name: reason for reason in x509.ReasonFlags}


@dataclass(frozen=True, slots=True)
class IssuedRecord:
    """One line of ``serials.json``."""

    serial: str
    kind: str
    authority: str
    fingerprint: str
    not_after: str
    revoked_at: str | None = None
    reason: str | None = None


def new_key(key_type: KeyType = "ec", *, rsa_bits: int = RSA_BITS) -> PrivateKey:
    """A fresh ECDSA P-256 key, or an RSA key of ``rsa_bits`` (≥ 2048)."""
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if rsa_bits < MIN_RSA_BITS:
        raise InternalError(f"RSA keys need at least {MIN_RSA_BITS} bits, not {rsa_bits}")
    return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)


def init_pki(
    layout: PkiLayout,
    *,
    now: datetime,
    key_type: KeyType = "ec",
    force: bool = False,
    progress: Callable[[AuthorityCode], None] = lambda code: None,
) -> None:
    """Create the root CA, every party's two certificates and an empty CRL.

    Raises ``InternalError`` if a CA already exists there and ``force`` is false.
    """
    if layout.root_cert.exists() and not force:
        raise InternalError(
            f"{layout.root_cert} already exists; use --force to replace the whole PKI"
        )
    layout.root.mkdir(parents=True, exist_ok=True)
    root_key = new_key(key_type)
    root_cert = _root_certificate(root_key, now)
    _write_key(layout.root_key, root_key)
    _write(layout.root_cert, root_cert.public_bytes(serialization.Encoding.PEM))
    records: list[IssuedRecord] = []
    for code in PARTIES:
        for kind in ("signing", "tls"):
            records.append(
                _issue_into(
                    layout,
                    root_cert,
                    root_key,
                    code,
                    kind,
                    key_type,
                    now,
                    now + timedelta(days=PARTY_DAYS),
                )
            )
        progress(code)
    _save_registry(layout, records)
    write_crl(layout, now=now)


def issue_certificate(
    root_cert: x509.Certificate,
    root_key: PrivateKey,
    *,
    party: AuthorityCode,
    kind: CertificateKind,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    not_before: datetime,
    not_after: datetime,
    dns_names: Sequence[str] = (),
) -> x509.Certificate:
    """An end-entity certificate for ``party`` following the London profile."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, AUTHORITY_NAMES[party]),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, party),
            x509.NameAttribute(
                NameOID.COMMON_NAME,
                f"{party} IRT message signing" if kind == "signing" else "localhost",
            ),
        ]
    )
    alt_names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(authority_urn(party))]
    if kind == "tls":
        alt_names += [x509.DNSName(d) for d in ("localhost", *dns_names)]
        alt_names.append(x509.IPAddress(IPv4Address("127.0.0.1")))
    usage = _usage(kind, public_key)
    usages = (
        [DOCUMENT_SIGNING]
        if kind == "signing"
        else [
            ExtendedKeyUsageOID.SERVER_AUTH,
            ExtendedKeyUsageOID.CLIENT_AUTH,
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(root_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    return builder.sign(root_key, hashes.SHA256())


def reissue(
    layout: PkiLayout,
    *,
    party: AuthorityCode,
    kind: CertificateKind,
    now: datetime,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    dns_names: Sequence[str] = (),
    key_type: KeyType = "ec",
) -> IssuedRecord:
    """Issue ``party`` a new ``kind`` certificate with a fresh key, replacing the files."""
    root_cert, root_key = _load_root(layout)
    record = _issue_into(
        layout,
        root_cert,
        root_key,
        party,
        kind,
        key_type,
        not_before or now,
        not_after or now + timedelta(days=PARTY_DAYS),
        dns_names,
    )
    _save_registry(layout, [*load_registry(layout), record])
    return record


def revoke(layout: PkiLayout, serial: str, *, now: datetime, reason: str = "unspecified") -> None:
    """Record ``serial`` (hex) as revoked and write a new CRL.

    Raises ``InternalError`` for an unknown serial or reason.
    """
    if reason not in REVOCATION_REASONS:
        raise InternalError(
            f"unknown revocation reason {reason!r}; one of {sorted(REVOCATION_REASONS)}"
        )
    records = load_registry(layout)
    wanted = serial.lower().removeprefix("0x")
    if not any(r.serial == wanted for r in records):
        raise InternalError(f"no certificate with serial {serial} was issued by this PKI")
    updated = [
        replace(r, revoked_at=now.isoformat(), reason=reason)
        if r.serial == wanted and r.revoked_at is None
        else r
        for r in records
    ]
    _save_registry(layout, updated)
    write_crl(layout, now=now)


def write_crl(
    layout: PkiLayout, *, now: datetime, next_update_days: int = CRL_DAYS
) -> x509.CertificateRevocationList:
    """Write the root's CRL listing every revoked serial; return it."""
    root_cert, root_key = _load_root(layout)
    records = load_registry(layout) if layout.registry.exists() else []
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root_cert.subject)
        .last_update(now)
        .next_update(now + timedelta(days=next_update_days))
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
    )
    for record in records:
        if record.revoked_at is None:
            continue
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(int(record.serial, 16))
            .revocation_date(datetime.fromisoformat(record.revoked_at))
            .add_extension(
                x509.CRLReason(REVOCATION_REASONS[record.reason or "unspecified"]), critical=False
            )
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    crl = builder.sign(root_key, hashes.SHA256())
    _write(layout.crl, crl.public_bytes(serialization.Encoding.PEM))
    return crl


def load_registry(layout: PkiLayout) -> list[IssuedRecord]:
    """Every certificate ``serials.json`` records; raise ``InternalError`` if unreadable."""
    try:
        return [IssuedRecord(**item) for item in json.loads(layout.registry.read_text())]
    except (OSError, ValueError, TypeError) as exc:
        raise InternalError(f"cannot read {layout.registry}: {exc}") from exc


def _root_certificate(key: PrivateKey, now: datetime) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "London Councils IRT Interchange"),
            x509.NameAttribute(NameOID.COMMON_NAME, "London IRT Root CA"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * ROOT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _usage(kind: CertificateKind, public_key: object) -> x509.KeyUsage:
    signing = kind == "signing"
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=signing,
        key_encipherment=not signing and isinstance(public_key, rsa.RSAPublicKey),
        data_encipherment=False,
        key_agreement=not signing and isinstance(public_key, ec.EllipticCurvePublicKey),
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _issue_into(
    layout: PkiLayout,
    root_cert: x509.Certificate,
    root_key: PrivateKey,
    party: AuthorityCode,
    kind: CertificateKind,
    key_type: KeyType,
    not_before: datetime,
    not_after: datetime,
    dns_names: Sequence[str] = (),
) -> IssuedRecord:
    key = new_key(key_type)
    cert = issue_certificate(
        root_cert,
        root_key,
        party=party,
        kind=kind,
        public_key=key.public_key(),
        not_before=not_before,
        not_after=not_after,
        dns_names=dns_names,
    )
    layout.party_dir(party).mkdir(parents=True, exist_ok=True)
    key_path, cert_path = (
        (layout.signing_key(party), layout.signing_cert(party))
        if kind == "signing"
        else (layout.tls_key(party), layout.tls_cert(party))
    )
    _write_key(key_path, key)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return IssuedRecord(
        serial=f"{cert.serial_number:x}",
        kind=kind,
        authority=party,
        fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
        not_after=cert.not_valid_after_utc.isoformat(),
    )


def _load_root(layout: PkiLayout) -> tuple[x509.Certificate, PrivateKey]:
    try:
        cert = x509.load_pem_x509_certificate(layout.root_cert.read_bytes())
        key = serialization.load_pem_private_key(layout.root_key.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise InternalError(f"cannot load the root CA from {layout.root}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise InternalError(f"{layout.root_key} is not an ECDSA or RSA key")
    return cert, key


def _save_registry(layout: PkiLayout, records: list[IssuedRecord]) -> None:
    _write(layout.registry, json.dumps([asdict(r) for r in records], indent=1).encode())


def _write_key(path: Path, key: PrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created 0600 from the first byte: a key is never readable by others,
    # not even for the moment between creation and a later chmod.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, pem)
    finally:
        os.close(descriptor)


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    temporary.chmod(0o644)
    temporary.replace(path)
