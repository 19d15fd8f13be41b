"""Every field of the London certificate profile as ``init`` writes it, and its checks.

The checks are derived from the loaded profiles: the last part edits a copy of
``certs/profiles/`` and shows the trust store and the verifier follow it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.authorities import AUTHORITY_NAMES, PARTIES
from hub.clock import FixedClock
from hub.directory.model import default_directory
from hub.errors import SenderMismatch, UntrustedCertificate
from hub.identifiers import ALL_AUTHORITIES, HUB, AuthorityCode
from hub.pki.certificates import PrivateKey, issue_certificate, new_key
from hub.pki.layout import PkiLayout
from hub.pki.profile import DOCUMENT_SIGNING, authority_of, check_key, check_purpose
from hub.pki.profile_loader import default_profiles
from hub.pki.profile_model import ProfileSet
from hub.pki.trust import TrustStore
from hub.replay.guard import ReplayGuard
from hub.signing import Signer
from hub.storage.memory.seen import MemorySeenStore
from hub.verify import EnvelopeVerifier
from tests.support.pki_builders import LAMBETH, SOUTHWARK, TLS_EKU, name, now, raw_certificate
from tests.support.signed_messages import body, sign

Ca = tuple[x509.Certificate, PrivateKey]
PROFILES = default_profiles()
_E = TypeVar("_E", bound=x509.ExtensionType)


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _ext(cert: x509.Certificate, kind: type[_E]) -> x509.Extension[_E]:
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
    assert ski == x509.SubjectKeyIdentifier.from_public_key(root.public_key())
    assert root.not_valid_after_utc - root.not_valid_before_utc == timedelta(days=7305, minutes=5)
    key = root.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == "secp256r1"


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
def test_allowed_key_types(ca: Ca, key: CertificatePublicKeyTypes, allowed: bool) -> None:
    cert = raw_certificate(ca[0], ca[1], public_key=key)
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


# ------------------------------------- checks derived from the loaded profiles

EditProfiles = Callable[..., ProfileSet]


def _verifier(dev_pki: PkiLayout, profiles: ProfileSet | None = None) -> EnvelopeVerifier:
    clock = FixedClock(now())
    trust = TrustStore.from_files(dev_pki.root_cert, dev_pki.crl, profiles=profiles)
    return EnvelopeVerifier(
        trust=trust, clock=clock, replay=ReplayGuard(store=MemorySeenStore(), clock=clock)
    )


def _signed_by(signer: Signer) -> bytes:
    raw, _ = sign(lambda _: signer, body("KnownToQuery"), sender=LAMBETH, created=now())
    return raw


def _signer(ca: Ca, **certificate: object) -> Signer:
    key = new_key()
    cert = raw_certificate(ca[0], ca[1], public_key=key.public_key(), **certificate)  # type: ignore[arg-type]
    return Signer(key=key, chain=(cert,))


@pytest.mark.parametrize(
    ("eku", "found"),
    [
        ([ExtendedKeyUsageOID.CODE_SIGNING], "documentSigning missing"),
        (None, "documentSigning missing"),
        ([DOCUMENT_SIGNING, ExtendedKeyUsageOID.CLIENT_AUTH], "clientAuth present"),
    ],
    ids=["code-signing", "no-eku", "dual-use"],
)
def test_the_verifier_refuses_a_signer_without_the_profile_s_usages(
    ca: Ca, dev_pki: PkiLayout, eku: list[x509.ObjectIdentifier] | None, found: str
) -> None:
    signed = _signed_by(_signer(ca, eku=eku))
    with pytest.raises(UntrustedCertificate) as caught:
        _verifier(dev_pki).verify_envelope(signed)
    assert caught.value.reason.endswith(
        "is not a message-signing certificate: it needs extended key usage documentSigning "
        "(1.3.6.1.5.5.7.3.36), without serverAuth or clientAuth (signing.toml); " + found
    )


def test_a_usage_added_to_the_profile_is_required_by_the_verifier(
    ca: Ca, dev_pki: PkiLayout, signer_for: Callable[[str], Signer], edited_profiles: EditProfiles
) -> None:
    profiles = edited_profiles(
        ("signing.toml", 'usages = ["documentSigning"]',
         'usages = ["documentSigning", "emailProtection"]'),
    )  # fmt: skip
    verifier = _verifier(dev_pki, profiles)
    with pytest.raises(
        UntrustedCertificate,
        match=r"is not a message-signing certificate: it needs extended key usage documentSigning "
        r"\(1\.3\.6\.1\.5\.5\.7\.3\.36\) and emailProtection, .*; emailProtection missing",
    ):
        verifier.verify_envelope(_signed_by(signer_for(LAMBETH)))
    # A certificate issued from the same profiles passes the same checks.
    key = new_key()
    cert = issue_certificate(
        ca[0], ca[1], party=LAMBETH, kind="signing", public_key=key.public_key(),
        not_before=now() - timedelta(hours=1), not_after=now() + timedelta(days=1),
        profiles=profiles,
    )  # fmt: skip
    message = verifier.verify_envelope(_signed_by(Signer(key=key, chain=(cert,))))
    assert message.document.signer == LAMBETH


def test_a_key_usage_the_profile_requires_is_required(
    ca: Ca, dev_pki: PkiLayout, signer_for: Callable[[str], Signer], edited_profiles: EditProfiles
) -> None:
    profiles = edited_profiles(
        ("signing.toml", 'required = ["digitalSignature"]',
         'required = ["digitalSignature", "contentCommitment"]'),
    )  # fmt: skip
    verifier = _verifier(dev_pki, profiles)
    # The development CA issues contentCommitment; the bare builder does not.
    assert verifier.verify_envelope(_signed_by(signer_for(LAMBETH))).document.signer == LAMBETH
    with pytest.raises(
        UntrustedCertificate,
        match=r"is not a message-signing certificate: its key usage lacks contentCommitment "
        r"\(signing\.toml\)",
    ):
        verifier.verify_envelope(_signed_by(_signer(ca)))


def test_the_profile_s_accepted_keys_are_the_verifier_s(
    dev_pki: PkiLayout, signer_for: Callable[[str], Signer], edited_profiles: EditProfiles
) -> None:
    profiles = edited_profiles(
        ("signing.toml", 'curve = "P-256"', 'curve = "P-384"'),
        ("signing.toml", 'accepted_curves = ["P-256", "P-384"]', 'accepted_curves = ["P-384"]'),
    )
    with pytest.raises(
        UntrustedCertificate, match=r"has an EC key on curve secp256r1; only P-384 are allowed"
    ):
        _verifier(dev_pki, profiles).verify_envelope(_signed_by(signer_for(LAMBETH)))


def test_the_tls_purpose_follows_the_tls_profile(
    dev_pki: PkiLayout, edited_profiles: EditProfiles
) -> None:
    tls = _cert(dev_pki.tls_cert(LAMBETH))
    default = TrustStore.from_files(dev_pki.root_cert, dev_pki.crl)
    assert default.validate_chain(tls, at=now(), now=now(), purpose="tls").authority == LAMBETH
    server_only = edited_profiles(("tls.toml", '["serverAuth", "clientAuth"]', '["serverAuth"]'))
    store = TrustStore.from_files(dev_pki.root_cert, dev_pki.crl, profiles=server_only)
    # clientAuth is no longer required, but it is no other purpose's either.
    assert store.validate_chain(tls, at=now(), now=now(), purpose="tls").authority == LAMBETH
    with pytest.raises(UntrustedCertificate, match=r"serverAuth missing"):
        store.validate_chain(
            _cert(dev_pki.signing_cert(LAMBETH)), at=now(), now=now(), purpose="tls"
        )
