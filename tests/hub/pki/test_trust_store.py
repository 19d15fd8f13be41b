"""The trust store: each step of ``validate_chain``, CRL loading, and the cache.

Every certificate here is really issued and signed: by the session PKI's
root through the real issuing code, or with ``raw_certificate`` for profiles
the development CA refuses to make.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from hub.errors import (
    CertificateExpired,
    CertificateRevoked,
    InternalError,
    SenderMismatch,
    UntrustedCertificate,
)
from hub.pki.certificates import PrivateKey, Revocation, build_crl, issue_root, new_key
from hub.pki.issuing import revoke
from hub.pki.layout import PkiLayout
from hub.pki.profile import Purpose
from hub.pki.profile_loader import default_profiles
from hub.pki.trust import MAX_CHAIN_LENGTH, TrustStore, ValidatedChain
from tests.support.pki_builders import (
    LAMBETH,
    SOUTHWARK,
    TLS_EKU,
    name,
    now,
    party_certificate,
    raw_certificate,
    usage,
)

Ca = tuple[x509.Certificate, PrivateKey]


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _crl(
    ca: Ca, *serials: int, next_update: datetime | None = None
) -> x509.CertificateRevocationList:
    at = now()
    entries = [Revocation(s, at, x509.ReasonFlags.key_compromise) for s in serials]
    return build_crl(
        ca[0], ca[1], entries, number=2, this_update=at - timedelta(days=8),
        next_update=next_update or at + timedelta(days=1),
    )  # fmt: skip


@pytest.fixture
def store(ca: Ca) -> TrustStore:
    """A store of its own per test, so cache observations are not shared."""
    return TrustStore([ca[0]], _crl(ca))


def _validate(
    store: TrustStore,
    leaf: x509.Certificate,
    *inter: x509.Certificate,
    at: datetime | None = None,
    purpose: Purpose = "signing",
) -> ValidatedChain:
    return store.validate_chain(leaf, inter, at=at or now(), now=now(), purpose=purpose)


# ----------------------------------------------------------------- accepted


def test_a_party_signing_certificate_validates(dev_pki: PkiLayout, trust: TrustStore) -> None:
    leaf = _cert(dev_pki.signing_cert(LAMBETH))
    root = _cert(dev_pki.root_cert)
    chain = trust.validate_chain(leaf, at=now(), now=now())
    assert chain.leaf == leaf
    assert chain.chain == (leaf, root)
    assert chain.authority == LAMBETH
    assert chain.purpose == "signing"
    assert chain.fingerprint == leaf.fingerprint(hashes.SHA256()).hex()
    assert chain.not_before == max(leaf.not_valid_before_utc, root.not_valid_before_utc)
    assert chain.not_after == min(leaf.not_valid_after_utc, root.not_valid_after_utc)


def test_a_party_tls_certificate_validates_for_tls(dev_pki: PkiLayout, trust: TrustStore) -> None:
    leaf = _cert(dev_pki.tls_cert(SOUTHWARK))
    assert trust.validate_chain(leaf, at=now(), now=now(), purpose="tls").authority == SOUTHWARK


def test_an_intermediate_tier_is_accepted_without_a_crl(ca: Ca) -> None:
    inter_key = new_key()
    inter = raw_certificate(
        ca[0], ca[1], public_key=inter_key.public_key(), subject=name(org="Tier", ou=None),
        ca=True, path_length=0, eku=None, uris=(),
    )  # fmt: skip
    leaf = party_certificate(inter, inter_key)
    chain = _validate(TrustStore([ca[0]]), leaf, inter)
    assert chain.chain == (leaf, inter, ca[0])
    assert len(chain.chain) == MAX_CHAIN_LENGTH
    # With a CRL only from the root, the leaf's revocation status is unknown: refused.
    with pytest.raises(UntrustedCertificate, match=r"revocation status of certificate .* unknown"):
        _validate(TrustStore([ca[0]], _crl(ca)), leaf, inter)


# ---------------------------------------------------------------- (1) path


def test_a_certificate_from_another_root_does_not_chain(ca: Ca) -> None:
    attacker_key = new_key()
    attacker_root = issue_root(attacker_key, not_before=now(), not_after=now() + timedelta(1))
    leaf = party_certificate(attacker_root, attacker_key)
    with pytest.raises(UntrustedCertificate, match=r"does not chain to the London root CA"):
        _validate(TrustStore([ca[0]]), leaf, attacker_root)


def test_a_look_alike_root_with_the_same_name_does_not_chain(ca: Ca) -> None:
    fake_key = new_key()
    fake_root = raw_certificate(
        None,
        fake_key,
        subject=default_profiles().root.subject_name({}),
        ca=True,
        path_length=1,
        eku=None,
        uris=(),
    )
    leaf = party_certificate(fake_root, fake_key)
    assert leaf.issuer == ca[0].subject
    with pytest.raises(UntrustedCertificate, match=r"no pinned root or supplied intermediate"):
        _validate(TrustStore([ca[0]]), leaf)
    with pytest.raises(UntrustedCertificate, match=r"does not chain to the London root CA"):
        _validate(TrustStore([ca[0]]), leaf, fake_root)


def test_the_root_itself_is_not_a_party_certificate(ca: Ca) -> None:
    with pytest.raises(UntrustedCertificate, match=r"is the root CA itself"):
        _validate(TrustStore([ca[0]]), ca[0])


def test_a_path_longer_than_the_limit_is_refused(ca: Ca) -> None:
    key1, key2 = new_key(), new_key()
    tier1 = raw_certificate(
        ca[0], ca[1], public_key=key1.public_key(), subject=name(cn="tier1", ou=None),
        ca=True, eku=None, uris=(),
    )  # fmt: skip
    tier2 = raw_certificate(
        tier1, key1, public_key=key2.public_key(), subject=name(cn="tier2", ou=None),
        ca=True, eku=None, uris=(),
    )  # fmt: skip
    leaf = party_certificate(tier2, key2)
    with pytest.raises(UntrustedCertificate, match=rf"within {MAX_CHAIN_LENGTH} certificates"):
        _validate(TrustStore([ca[0]]), leaf, tier2, tier1)


# ------------------------------------------------------------- (2) issuers


@pytest.mark.parametrize(
    ("ca_flag", "key_usage", "reason"),
    [
        (False, usage(cert_sign=True), "is not a CA"),
        (True, usage(cert_sign=False), "lacks keyUsage keyCertSign"),
    ],
    ids=["not-ca", "no-cert-sign"],
)
def test_an_issuer_must_be_a_ca_allowed_to_sign_certificates(
    ca: Ca, ca_flag: bool, key_usage: x509.KeyUsage, reason: str
) -> None:
    inter_key = new_key()
    inter = raw_certificate(
        ca[0], ca[1], public_key=inter_key.public_key(), subject=name(cn="tier", ou=None),
        ca=ca_flag, key_usage=key_usage, eku=None, uris=(),
    )  # fmt: skip
    leaf = party_certificate(inter, inter_key)
    with pytest.raises(UntrustedCertificate, match=reason):
        _validate(TrustStore([ca[0]]), leaf, inter)


def test_an_intermediate_beyond_its_path_length_is_refused(ca: Ca) -> None:
    # The root itself allows one tier; a tier with pathLen 0 may not certify another CA.
    key1, key2 = new_key(), new_key()
    tier1 = raw_certificate(
        ca[0], ca[1], public_key=key1.public_key(), subject=name(cn="tier1", ou=None),
        ca=True, path_length=0, eku=None, uris=(),
    )  # fmt: skip
    tier2 = raw_certificate(
        tier1, key1, public_key=key2.public_key(), subject=name(cn="tier2", ou=None),
        ca=True, eku=None, uris=(),
    )  # fmt: skip
    with pytest.raises(UntrustedCertificate, match=r"is a CA, not a party"):
        _validate(TrustStore([ca[0]]), tier2, tier1)


# ----------------------------------------------------------- (3) validity


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        (timedelta(days=-10), timedelta(days=-1), "is not valid now .*: it expired at"),
        (timedelta(days=1), timedelta(days=10), "is not valid now .*: it is not yet valid"),
    ],
    ids=["expired", "not-yet-valid"],
)
def test_a_certificate_outside_its_validity_is_refused(
    ca: Ca, store: TrustStore, start: timedelta, end: timedelta, reason: str
) -> None:
    leaf = party_certificate(ca[0], ca[1], not_before=now() + start, not_after=now() + end)
    with pytest.raises(CertificateExpired, match=rf"serial {leaf.serial_number:x}\) {reason}"):
        _validate(store, leaf)


def test_valid_now_but_not_at_created(ca: Ca, store: TrustStore) -> None:
    leaf = party_certificate(ca[0], ca[1], not_before=now() - timedelta(minutes=1))
    with pytest.raises(CertificateExpired, match=r"is not valid at Created .*not yet valid"):
        _validate(store, leaf, at=now() - timedelta(hours=1))


def test_the_expired_certificate_is_named_even_when_it_is_the_root() -> None:
    root_key = new_key()
    root = issue_root(
        root_key, not_before=now() - timedelta(days=2), not_after=now() + timedelta(1)
    )
    leaf = party_certificate(root, root_key, not_after=now() + timedelta(days=30))
    store = TrustStore([root])
    assert _validate(store, leaf).not_after == root.not_valid_after_utc
    with pytest.raises(CertificateExpired, match=r"'CN=London IRT Root CA.* at Created .*expired"):
        _validate(store, leaf, at=now() + timedelta(days=2))


# ------------------------------------------------------------- (4) the CRL


def test_a_revoked_certificate_is_refused(fresh_pki: PkiLayout) -> None:
    leaf = _cert(fresh_pki.signing_cert(LAMBETH))
    before = TrustStore.from_files(fresh_pki.root_cert, fresh_pki.crl)
    assert before.validate_chain(leaf, at=now(), now=now()).authority == LAMBETH
    revoke(fresh_pki, leaf.serial_number, now=now(), reason="keyCompromise")
    after = TrustStore.from_files(fresh_pki.root_cert, fresh_pki.crl)
    with pytest.raises(CertificateRevoked, match=rf"serial {leaf.serial_number:x}\) is revoked"):
        after.validate_chain(leaf, at=now(), now=now())


def test_a_crl_not_signed_by_the_root_is_refused(ca: Ca, tmp_path: Path) -> None:
    forged = build_crl(
        ca[0], new_key(), [], number=9, this_update=now(), next_update=now() + timedelta(1)
    )
    with pytest.raises(UntrustedCertificate, match=r"CRL is not signed by the London root CA"):
        TrustStore([ca[0]]).with_crl(forged)
    with pytest.raises(UntrustedCertificate, match=r"CRL is not signed by the London root CA"):
        TrustStore([ca[0]], forged)


def test_a_stale_crl_refuses_every_certificate(ca: Ca) -> None:
    store = TrustStore([ca[0]], _crl(ca, next_update=now() - timedelta(seconds=1)))
    with pytest.raises(
        UntrustedCertificate, match=r"nextUpdate .* has passed; publish a fresh CRL"
    ):
        _validate(store, party_certificate(ca[0], ca[1]))


def test_without_a_crl_nothing_is_revoked(ca: Ca) -> None:
    assert _validate(TrustStore([ca[0]]), party_certificate(ca[0], ca[1])).authority == LAMBETH


# ------------------------------------------------------------ (5) purpose


def test_a_tls_certificate_cannot_sign_messages(dev_pki: PkiLayout, trust: TrustStore) -> None:
    with pytest.raises(UntrustedCertificate, match=r"is not a message-signing certificate"):
        trust.validate_chain(_cert(dev_pki.tls_cert(LAMBETH)), at=now(), now=now())


def test_a_signing_certificate_is_not_a_tls_certificate(
    dev_pki: PkiLayout, trust: TrustStore
) -> None:
    leaf = _cert(dev_pki.signing_cert(LAMBETH))
    with pytest.raises(UntrustedCertificate, match=r"is not a TLS certificate"):
        trust.validate_chain(leaf, at=now(), now=now(), purpose="tls")


def test_a_dual_use_certificate_is_refused_for_signing(ca: Ca, store: TrustStore) -> None:
    from hub.pki.profile import DOCUMENT_SIGNING

    leaf = raw_certificate(ca[0], ca[1], eku=[DOCUMENT_SIGNING, *TLS_EKU])
    with pytest.raises(UntrustedCertificate, match=r"is not a message-signing certificate"):
        _validate(store, leaf)


# ---------------------------------------------------------- (6) key types


def test_an_rsa_1024_certificate_is_refused(ca: Ca, store: TrustStore) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    leaf = raw_certificate(ca[0], ca[1], public_key=weak.public_key())
    with pytest.raises(UntrustedCertificate, match=r"has an RSA key of 1024 bits"):
        _validate(store, leaf)


def test_an_rsa_2048_certificate_is_accepted(ca: Ca, store: TrustStore) -> None:
    strong = new_key("rsa", rsa_bits=2048)
    leaf = raw_certificate(ca[0], ca[1], public_key=strong.public_key())
    assert _validate(store, leaf).authority == LAMBETH


# ----------------------------------------------------------- (7) authority


def test_san_and_ou_must_name_the_same_authority(ca: Ca, store: TrustStore) -> None:
    leaf = raw_certificate(ca[0], ca[1], subject=name(ou=SOUTHWARK))
    with pytest.raises(SenderMismatch, match=r"subject OU E09000028; both must name the same"):
        _validate(store, leaf)


# ----------------------------------------------------------------- cache


def test_a_repeated_certificate_returns_the_cached_result(ca: Ca, store: TrustStore) -> None:
    leaf = party_certificate(ca[0], ca[1])
    first = _validate(store, leaf)
    assert _validate(store, leaf) is first
    # Another purpose is another question.
    with pytest.raises(UntrustedCertificate, match=r"is not a TLS certificate"):
        _validate(store, leaf, purpose="tls")


def test_the_cache_still_checks_time_and_a_newer_crl(ca: Ca, store: TrustStore) -> None:
    leaf = party_certificate(ca[0], ca[1], not_after=now() + timedelta(hours=1))
    cached = _validate(store, leaf)
    with pytest.raises(CertificateExpired, match=r"is not valid at Created"):
        _validate(store, leaf, at=now() + timedelta(hours=2))
    newer = store.with_crl(_crl(ca, leaf.serial_number))
    with pytest.raises(CertificateRevoked, match=r"is revoked by the CRL since .*keyCompromise"):
        _validate(newer, leaf)
    assert _validate(store, leaf) is cached  # the older store is unchanged


def test_refusals_are_cached_and_repeat_exactly(ca: Ca, store: TrustStore) -> None:
    leaf = raw_certificate(ca[0], ca[1], subject=name(ou=SOUTHWARK))
    messages = []
    for _ in range(2):
        with pytest.raises(SenderMismatch, match=r"both must name the same") as caught:
            _validate(store, leaf)
        messages.append(caught.value.reason)
    assert messages[0] == messages[1]


def test_the_cache_is_bounded(ca: Ca) -> None:
    store = TrustStore([ca[0]], cache_entries=2)
    first, second, third = (party_certificate(ca[0], ca[1]) for _ in range(3))
    kept = _validate(store, first)
    _validate(store, second)
    _validate(store, third)  # evicts ``first``, the least recently used
    assert _validate(store, first) is not kept
    assert _validate(store, first) == kept


def test_validation_is_thread_safe(ca: Ca, store: TrustStore) -> None:
    leaves = [party_certificate(ca[0], ca[1]) for _ in range(8)]
    expected = [_validate(TrustStore([ca[0]]), leaf).fingerprint for leaf in leaves]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: _validate(store, leaves[i % 8]), range(400)))
    assert [r.fingerprint for r in results] == expected * 50
    assert len({id(r) for r in results}) <= 16  # computed at most once per racing thread pair


# -------------------------------------------------------------- loading


def test_naive_times_are_a_programming_error(ca: Ca, store: TrustStore) -> None:
    leaf = party_certificate(ca[0], ca[1])
    with pytest.raises(InternalError, match=r"time-zone aware"):
        store.validate_chain(leaf, at=now().replace(tzinfo=None), now=now())


def test_loading_failures_name_the_file(dev_pki: PkiLayout, tmp_path: Path) -> None:
    with pytest.raises(InternalError, match=r"cannot read root certificate .*missing.pem"):
        TrustStore.from_files(tmp_path / "missing.pem")
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(InternalError, match=r"cannot load trust material from .*junk.pem"):
        TrustStore.from_files(tmp_path / "junk.pem")
    with pytest.raises(InternalError, match=r"pinned root .* is not a CA certificate"):
        TrustStore.from_files(dev_pki.signing_cert(LAMBETH))
    with pytest.raises(InternalError, match=r"at least one root"):
        TrustStore([])


def test_from_pem_matches_from_files(dev_pki: PkiLayout) -> None:
    store = TrustStore.from_pem(dev_pki.root_cert.read_bytes(), dev_pki.crl.read_bytes())
    assert store.roots == (_cert(dev_pki.root_cert),)
    assert store.crl == x509.load_pem_x509_crl(dev_pki.crl.read_bytes())


# ------------------------------------------------------------ corrupt input


def test_a_certificate_with_an_unreadable_extension_is_untrusted(ca: Ca, store: TrustStore) -> None:
    from cryptography.hazmat.primitives import hashes as _hashes
    from cryptography.x509.oid import ExtensionOID

    garbage = x509.UnrecognizedExtension(ExtensionOID.BASIC_CONSTRAINTS, b"\x30\x03\x01")
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name())
        .issuer_name(ca[0].subject)
        .public_key(new_key().public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now() - timedelta(hours=1))
        .not_valid_after(now() + timedelta(hours=1))
        .add_extension(garbage, critical=True)
        .sign(ca[1], _hashes.SHA256())
    )
    with pytest.raises(UntrustedCertificate, match=r"or its chain cannot be read"):
        _validate(store, leaf)


def test_a_certificate_with_an_unknown_curve_is_untrusted(
    dev_pki: PkiLayout, trust: TrustStore
) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    der = _cert(dev_pki.signing_cert(LAMBETH)).public_bytes(Encoding.DER)
    p256 = bytes.fromhex("06082a8648ce3d030107")
    assert der.count(p256) == 1
    flipped = x509.load_der_x509_certificate(der.replace(p256, p256[:-1] + b"\x00"))
    with pytest.raises(UntrustedCertificate, match=r"does not chain to the London root CA"):
        trust.validate_chain(flipped, at=now(), now=now())
