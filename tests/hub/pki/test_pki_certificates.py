"""The certificate and CRL builders: what they refuse to make, and CRL contents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hub.pki.certificates import PrivateKey, Revocation, build_crl, issue_root, new_key
from tests.support.pki_builders import LAMBETH, now, party_certificate

Ca = tuple[x509.Certificate, PrivateKey]


def test_new_keys() -> None:
    assert isinstance(new_key(), ec.EllipticCurvePrivateKey)
    key = new_key("rsa", rsa_bits=2048)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048


def test_rsa_below_2048_bits_is_refused() -> None:
    from hub.pki.errors import PkiError

    with pytest.raises(PkiError, match=r"RSA keys of 1024 bits are refused; .* at least 2048"):
        new_key("rsa", rsa_bits=1024)


def test_an_rsa_root_and_party() -> None:
    key = new_key("rsa", rsa_bits=2048)
    root = issue_root(key, not_before=now(), not_after=now() + timedelta(days=1))
    leaf = party_certificate(root, key, kind="tls")
    leaf.verify_directly_issued_by(root)
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert isinstance(root.public_key(), rsa.RSAPublicKey)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"public_key": rsa.generate_private_key(65537, 1024).public_key()},  # noqa: S505
         "cannot certify an RSA key of 1024 bits"),
        ({"public_key": ec.generate_private_key(ec.SECP521R1()).public_key()},
         "cannot certify an EC key on curve secp521r1"),
        ({"not_before": now().replace(tzinfo=None)}, "must carry a time zone"),
        ({"not_after": now() - timedelta(days=2)}, "validity is empty"),
        ({"party": "E09000000"}, "'E09000000' is not a London authority code"),
        ({"kind": "tls", "dns_names": ["bad name"]}, "'bad name' is not a DNS name"),
    ],
    ids=["rsa1024", "p521", "naive-time", "empty-window", "unknown-party", "bad-dns"],
)  # fmt: skip
def test_issue_certificate_refuses(ca: Ca, kwargs: dict[str, object], reason: str) -> None:
    from hub.pki.certificates import issue_certificate
    from hub.pki.errors import PkiError

    arguments: dict[str, object] = {
        "party": LAMBETH,
        "kind": "signing",
        "public_key": new_key().public_key(),
        "not_before": now() - timedelta(days=1),
        "not_after": now() + timedelta(days=1),
    }
    arguments.update(kwargs)
    with pytest.raises(PkiError, match=reason):
        # Deliberately untyped: some cases pass what the signature refuses (a
        # string that is not an AuthorityCode) to reach the runtime check.
        issue_certificate(ca[0], ca[1], **arguments)  # type: ignore[arg-type]


def test_tls_host_and_extra_names(ca: Ca) -> None:
    from hub.pki.certificates import issue_certificate

    cert = issue_certificate(
        ca[0], ca[1], party=LAMBETH, kind="tls", public_key=new_key().public_key(),
        not_before=now(), not_after=now() + timedelta(days=1), host="irt.lambeth.example",
        dns_names=["*.lambeth.example", "localhost"],
    )  # fmt: skip
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert cn == "irt.lambeth.example"
    assert san.get_values_for_type(x509.DNSName) == [
        "localhost", "irt.lambeth.example", "*.lambeth.example",
    ]  # fmt: skip


def test_crl_contents(ca: Ca) -> None:
    at = now()
    crl = build_crl(
        ca[0], ca[1],
        [Revocation(7, at, x509.ReasonFlags.key_compromise), Revocation(9, at)],
        number=42, this_update=at, next_update=at + timedelta(days=7),
    )  # fmt: skip
    root_key = ca[0].public_key()
    assert isinstance(root_key, ec.EllipticCurvePublicKey)
    assert crl.is_signature_valid(root_key)
    assert crl.issuer == ca[0].subject
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 42
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca[0].extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert (crl.last_update_utc, crl.next_update_utc) == (at, at + timedelta(days=7))
    compromised = crl.get_revoked_certificate_by_serial_number(7)
    assert compromised is not None
    assert compromised.revocation_date_utc == at
    reason = compromised.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.key_compromise
    unspecified = crl.get_revoked_certificate_by_serial_number(9)
    assert unspecified is not None
    assert list(unspecified.extensions) == []


def test_crl_next_update_must_follow_this_update(ca: Ca) -> None:
    from hub.pki.errors import PkiError

    with pytest.raises(PkiError, match=r"nextUpdate .* must be after thisUpdate"):
        build_crl(ca[0], ca[1], [], number=1, this_update=now(), next_update=now())
