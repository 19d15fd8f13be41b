"""Every field of the London certificate profile, as ``init`` writes it, and its checks."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import IPv4Address

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.authorities import AUTHORITY_NAMES, PARTIES
from hub.directory.model import default_directory
from hub.errors import SenderMismatch, UntrustedCertificate
from hub.identifiers import ALL_AUTHORITIES, HUB, AuthorityCode
from hub.pki.certificates import PrivateKey
from hub.pki.layout import PkiLayout
from hub.pki.profile import DOCUMENT_SIGNING, authority_of, check_key, check_purpose
from hub.pki.profile_loader import default_profiles
from tests.support.pki_builders import LAMBETH, SOUTHWARK, TLS_EKU, name, raw_certificate

Ca = tuple[x509.Certificate, PrivateKey]
PROFILES = default_profiles()


def _cert(path: object) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())  # type: ignore[attr-defined]


def _ext(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.Extension:  # type: ignore[type-arg]
    return cert.extensions.get_extension_for_class(kind)


def _subject(cert: x509.Certificate) -> dict[str, str]:
    return {a.oid._name: str(a.value) for a in cert.subject}


def test_authority_names_are_the_33_boroughs_and_the_hub() -> None:
    assert list(AUTHORITY_NAMES) == [*ALL_AUTHORITIES, HUB] == list(PARTIES)
    assert AUTHORITY_NAMES[AuthorityCode("E09000001")] == "City of London"
    assert AUTHORITY_NAMES[AuthorityCode("E09000013")] == "Hammersmith and Fulham"
    assert AUTHORITY_NAMES[AuthorityCode("E09000033")] == "Westminster"
    assert AUTHORITY_NAMES[HUB] == "London IRT Hub"
    directory = default_directory()
    assert {c: directory.authorities[c].name for c in ALL_AUTHORITIES} == {
        c: AUTHORITY_NAMES[c] for c in ALL_AUTHORITIES
    }


def test_root_profile(dev_pki: PkiLayout) -> None:
    root = _cert(dev_pki.root_cert)
    assert root.subject.rfc4514_string() == (
        "CN=London IRT Root CA,O=London Councils IRT Interchange,C=GB"
    )
    assert root.issuer == root.subject
    root.verify_directly_issued_by(root)
    constraints = _ext(root, x509.BasicConstraints)
    assert (constraints.critical, constraints.value.ca, constraints.value.path_length) == (
        True, True, 1,
    )  # fmt: skip
    usage = _ext(root, x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign
    assert usage.value.crl_sign
    assert not usage.value.digital_signature
    ski = _ext(root, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(root.public_key())  # type: ignore[arg-type]
    assert root.not_valid_after_utc - root.not_valid_before_utc == timedelta(days=7305, minutes=5)
    assert isinstance(root.public_key(), ec.EllipticCurvePublicKey)
    assert root.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]


@pytest.mark.parametrize("code", [AuthorityCode("E09000001"), LAMBETH, HUB])
def test_signing_profile(dev_pki: PkiLayout, code: AuthorityCode) -> None:
    root = _cert(dev_pki.root_cert)
    cert = _cert(dev_pki.signing_cert(code))
    cert.verify_directly_issued_by(root)
    assert _subject(cert) == {
        "countryName": "GB",
        "organizationName": AUTHORITY_NAMES[code],
        "organizationalUnitName": code,
        "commonName": f"{code} IRT message signing",
    }
    san = _ext(cert, x509.SubjectAlternativeName).value
    assert list(san) == [x509.UniformResourceIdentifier(f"urn:lcpc:authority:{code}")]
    constraints = _ext(cert, x509.BasicConstraints)
    assert constraints.critical
    assert not constraints.value.ca
    usage = _ext(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert usage.value.content_commitment
    assert not usage.value.key_cert_sign
    assert not usage.value.key_agreement
    assert list(_ext(cert, x509.ExtendedKeyUsage).value) == [DOCUMENT_SIGNING]
    assert DOCUMENT_SIGNING.dotted_string == "1.3.6.1.5.5.7.3.36"
    assert _ext(cert, x509.AuthorityKeyIdentifier).value.key_identifier == (
        _ext(root, x509.SubjectKeyIdentifier).value.digest
    )
    assert _ext(cert, x509.SubjectKeyIdentifier).value.digest
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=730, minutes=5)
    assert authority_of(cert) == code


@pytest.mark.parametrize("code", [AuthorityCode("E09000033"), HUB])
def test_tls_profile(dev_pki: PkiLayout, code: AuthorityCode) -> None:
    cert = _cert(dev_pki.tls_cert(code))
    assert _subject(cert)["organizationalUnitName"] == code
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "localhost"
    san = _ext(cert, x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [f"urn:lcpc:authority:{code}"]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [IPv4Address("127.0.0.1")]
    usage = _ext(cert, x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.key_agreement
    assert not usage.content_commitment
    assert list(_ext(cert, x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    ]
    assert cert.public_key() != _cert(dev_pki.signing_cert(code)).public_key()
    assert authority_of(cert) == code


@pytest.mark.parametrize(
    ("subject", "uris", "reason"),
    [
        (name(ou=SOUTHWARK), [f"urn:lcpc:authority:{LAMBETH}"],
         "SAN URI urn:lcpc:authority:E09000022 but subject OU E09000028; both must name"),
        (name(ou=None), [f"urn:lcpc:authority:{LAMBETH}"], "subject OU missing"),
        (name(), [], "names 0 authorities by SAN URI"),
        (name(), [f"urn:lcpc:authority:{LAMBETH}", f"urn:lcpc:authority:{SOUTHWARK}"],
         "names 2 authorities by SAN URI"),
        (name(ou="E09000099"), ["urn:lcpc:authority:E09000099"],
         "'E09000099' is not a London authority code"),
    ],
    ids=["ou-disagrees", "no-ou", "no-uri", "two-uris", "unknown-code"],
)  # fmt: skip
def test_authority_of_refuses_a_certificate_that_does_not_name_one_authority(
    ca: Ca, subject: x509.Name, uris: list[str], reason: str
) -> None:
    cert = raw_certificate(ca[0], ca[1], subject=subject, uris=uris)
    with pytest.raises(SenderMismatch, match=reason):
        authority_of(cert)


@pytest.mark.parametrize(
    ("key", "allowed"),
    [
        (ec.generate_private_key(ec.SECP256R1()).public_key(), True),
        (ec.generate_private_key(ec.SECP384R1()).public_key(), True),
        (rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(), True),
        (ec.generate_private_key(ec.SECP521R1()).public_key(), False),
        (rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key(), False),  # noqa: S505
        (ed25519.Ed25519PrivateKey.generate().public_key(), False),
    ],
    ids=["p256", "p384", "rsa2048", "p521", "rsa1024", "ed25519"],
)
def test_allowed_key_types(ca: Ca, key: object, allowed: bool) -> None:
    cert = raw_certificate(ca[0], ca[1], public_key=key)  # type: ignore[arg-type]
    if allowed:
        check_key(cert, PROFILES.signing)
    else:
        with pytest.raises(
            UntrustedCertificate, match=r"has (an EC key on curve|an RSA key|a _?Ed)"
        ):
            check_key(cert, PROFILES.signing)


def test_purposes_are_exclusive(ca: Ca) -> None:
    both = raw_certificate(ca[0], ca[1], eku=[DOCUMENT_SIGNING, *TLS_EKU])
    with pytest.raises(UntrustedCertificate, match=r"is not a message-signing certificate"):
        check_purpose(both, "signing", PROFILES)
    with pytest.raises(UntrustedCertificate, match=r"is not a TLS certificate"):
        check_purpose(both, "tls", PROFILES)


def test_a_signing_certificate_needs_digital_signature(ca: Ca) -> None:
    from tests.support.pki_builders import usage

    cert = raw_certificate(ca[0], ca[1], key_usage=usage(signature=False))
    with pytest.raises(UntrustedCertificate, match=r"key usage lacks digitalSignature"):
        check_purpose(cert, "signing", PROFILES)
