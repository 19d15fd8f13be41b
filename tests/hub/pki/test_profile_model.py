"""What is issued is exactly what the profile says: every extension, value and criticality.

Certificates come from the real builders (``issue_root``, ``issue_certificate``,
``init_pki``) and are compared with the loaded profile they were issued from,
so a profile edit changes the certificates and nothing else can.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from hub.authorities import AUTHORITY_NAMES
from hub.identifiers import HUB, AuthorityCode
from hub.pki.certificates import KeyType, PrivateKey, issue_certificate, issue_root, new_key
from hub.pki.errors import PkiError
from hub.pki.layout import PkiLayout
from hub.pki.profile_loader import default_profiles
from hub.pki.profile_model import CertificateProfile, ProfileSet, Purpose
from tests.support.pki_builders import LAMBETH, now

Ca = tuple[x509.Certificate, PrivateKey]
EditProfiles = Callable[..., ProfileSet]
PROFILES = default_profiles()


def _fields(code: AuthorityCode, host: str = "localhost") -> dict[str, str]:
    return {"code": code, "name": AUTHORITY_NAMES[code], "host": host}


def _assert_issued_from(
    cert: x509.Certificate,
    profile: CertificateProfile,
    fields: Mapping[str, str],
    *,
    extra_dns: tuple[str, ...] = (),
) -> None:
    """``cert`` carries exactly ``profile``'s subject and extensions, no more and no less."""
    extensions = {extension.oid: extension for extension in cert.extensions}
    assert set(extensions) == profile.extension_oids()
    assert cert.subject == profile.subject_name(fields)

    constraints = extensions[ExtensionOID.BASIC_CONSTRAINTS]
    assert constraints.critical is profile.basic_constraints.critical
    assert constraints.value == profile.basic_constraints.extension()

    usage = extensions[ExtensionOID.KEY_USAGE]
    assert usage.critical is profile.key_usage.critical
    assert usage.value == profile.key_usage.extension(cert.public_key())
    assert profile.key_usage.missing(usage.value) == ()

    eku_rule = profile.extended_key_usage
    if eku_rule is not None:
        eku = extensions[ExtensionOID.EXTENDED_KEY_USAGE]
        assert eku.critical is eku_rule.critical
        assert list(eku.value) == list(eku_rule.oids())

    san_rule = profile.subject_alt_name
    if san_rule is not None:
        san = extensions[ExtensionOID.SUBJECT_ALTERNATIVE_NAME]
        assert san.critical is san_rule.critical
        assert list(san.value) == san_rule.general_names(fields, extra_dns, profile.file_name)

    for oid in (ExtensionOID.SUBJECT_KEY_IDENTIFIER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER):
        if oid in extensions:
            assert not extensions[oid].critical  # RFC 5280 §4.2.1.1-2: MUST be non-critical
    assert profile.key.problem(cert.public_key()) is None


@pytest.mark.parametrize("key_type", ["ec", "rsa"])
def test_a_root_is_issued_exactly_to_its_profile(key_type: KeyType) -> None:
    key = new_key(key_type, rsa_bits=2048, rules=PROFILES.root.key)
    root = issue_root(key, not_before=now(), not_after=now() + timedelta(days=1))
    _assert_issued_from(root, PROFILES.root, {})
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(key.public_key())


@pytest.mark.parametrize("key_type", ["ec", "rsa"])
@pytest.mark.parametrize("kind", ["signing", "tls"])
def test_a_party_certificate_is_issued_exactly_to_its_profile(
    ca: Ca, kind: Purpose, key_type: KeyType
) -> None:
    key = new_key(key_type, rsa_bits=2048)
    cert = issue_certificate(
        ca[0], ca[1], party=LAMBETH, kind=kind, public_key=key.public_key(),
        not_before=now(), not_after=now() + timedelta(days=1), host="irt.lambeth.example",
    )  # fmt: skip
    _assert_issued_from(cert, PROFILES.party(kind), _fields(LAMBETH, "irt.lambeth.example"))
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca[0].extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest


def test_extra_tls_names_follow_the_profile_s(ca: Ca) -> None:
    cert = issue_certificate(
        ca[0], ca[1], party=HUB, kind="tls", public_key=new_key().public_key(),
        not_before=now(), not_after=now() + timedelta(days=1),
        dns_names=["hub.irt.example", "localhost"],
    )  # fmt: skip
    _assert_issued_from(cert, PROFILES.tls, _fields(HUB), extra_dns=("hub.irt.example",))


def test_a_profile_without_extra_names_refuses_them(ca: Ca) -> None:
    with pytest.raises(PkiError, match=r"signing\.toml takes no extra DNS names .*: x\.example"):
        issue_certificate(
            ca[0], ca[1], party=LAMBETH, kind="signing", public_key=new_key().public_key(),
            not_before=now(), not_after=now() + timedelta(days=1), dns_names=["x.example"],
        )  # fmt: skip


@pytest.mark.parametrize("code", [AuthorityCode("E09000001"), LAMBETH, HUB])
def test_init_issues_every_certificate_to_its_profile(
    dev_pki: PkiLayout, code: AuthorityCode
) -> None:
    def load(path: Path) -> x509.Certificate:
        return x509.load_pem_x509_certificate(path.read_bytes())

    root = load(dev_pki.root_cert)
    _assert_issued_from(root, PROFILES.root, {})
    for profile, path in ((PROFILES.signing, dev_pki.signing_cert(code)),
                          (PROFILES.tls, dev_pki.tls_cert(code))):  # fmt: skip
        cert = load(path)
        _assert_issued_from(cert, profile, _fields(code))
        validity = profile.validity
        assert cert.not_valid_after_utc - cert.not_valid_before_utc == (
            validity.period + validity.backdate
        )
    assert root.not_valid_after_utc - root.not_valid_before_utc == (
        PROFILES.root.validity.period + PROFILES.root.validity.backdate
    )


def test_an_edited_profile_changes_what_is_issued(ca: Ca, edited_profiles: EditProfiles) -> None:
    profiles = edited_profiles(
        ("signing.toml", 'usages = ["documentSigning"]', 'usages = ["documentSigning", '
         '"emailProtection"]'),
        ("signing.toml", '["CN", "{code} IRT message signing"]', '["CN", "{name} signing"]'),
        ("signing.toml", "critical = true\nca = false", "critical = false\nca = false"),
        ("signing.toml", "[key_identifiers]\nsubject = true\nauthority = true",
         "[key_identifiers]\nsubject = false\nauthority = true"),
    )  # fmt: skip
    cert = issue_certificate(
        ca[0], ca[1], party=LAMBETH, kind="signing", public_key=new_key().public_key(),
        not_before=now(), not_after=now() + timedelta(days=1), profiles=profiles,
    )  # fmt: skip
    _assert_issued_from(cert, profiles.signing, _fields(LAMBETH))
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in list(eku)
    assert cert.subject.rfc4514_string().startswith("CN=Lambeth signing,")
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).critical
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)


def test_keys_are_generated_to_the_profile(edited_profiles: EditProfiles) -> None:
    profiles = edited_profiles(
        ("tls.toml", 'curve = "P-256"', 'curve = "P-384"'),
        ("tls.toml", "rsa_bits = 3072", "rsa_bits = 2048"),
    )
    assert new_key(rules=profiles.tls.key).curve.name == "secp384r1"  # type: ignore[union-attr]
    assert new_key("rsa", rules=profiles.tls.key).key_size == 2048
    with pytest.raises(PkiError, match=r"RSA keys of 1024 bits are refused; .* at least 2048"):
        new_key("rsa", rsa_bits=1024, rules=profiles.tls.key)
