"""Receiving signed envelopes: every SPEC §5 code the verifier owns, and the attacks.

Signatures, certificates, CRLs and XML are all real; only the clock is fixed.
Attacks on the signed bytes are parametrised by name in ``WRAPPING_ATTACKS``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from hub.clock import FixedClock
from hub.envelope import Header, Party, Practitioner, Recipient, build_envelope
from hub.errors import IrtError
from hub.identifiers import AuthorityCode
from hub.pki.certificates import PrivateKey
from hub.pki.issuing import issue_certificate, load_ca, new_key
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.replay.guard import ReplayGuard, Sighting
from hub.signing import Signer
from hub.storage.memory.seen import MemorySeenStore
from hub.verify import EnvelopeVerifier, VerifiedMessage
from hub.xmlparse import XmlLimits
from tests.support.paths import ASSETS

BODIES = sorted((ASSETS / "bodies").glob("*.xml"))
LAMBETH = AuthorityCode("E09000022")
SOUTHWARK = AuthorityCode("E09000028")
_PRACTITIONER_CLASSES = {"KnownToQuery", "Referral", "ServiceSearch"}


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def envelope_for(body_file: Path, *, sender: str = LAMBETH, created: datetime | None = None,
                 expires: datetime | None = None) -> etree._Element:  # fmt: skip
    body = etree.parse(str(body_file)).getroot()
    name = etree.QName(body).localname
    acting = name in _PRACTITIONER_CLASSES
    header = Header(
        message_class=name,
        qualifier="request",
        sender=Party(AuthorityCode(sender), "lambeth-irt"),
        recipients=(Recipient(authority=SOUTHWARK),),
        created=created or _now(),
        expires=expires,
        on_behalf_of=Practitioner("sw-4471", "Social worker", "social-care") if acting else None,
        purpose="child-protection-s47" if acting else None,
        consent="not-required" if acting else None,
    )
    return build_envelope(header, body)


QUERY = ASSETS / "bodies" / "KnownToQuery.xml"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(_now())


@pytest.fixture
def verifier(trust: TrustStore, clock: FixedClock) -> EnvelopeVerifier:
    return EnvelopeVerifier(
        trust=trust, clock=clock, replay=ReplayGuard(store=MemorySeenStore(), clock=clock)
    )


@pytest.fixture
def lambeth(signer_for: Callable[[str], Signer]) -> Signer:
    return signer_for(LAMBETH)


@pytest.fixture
def signed_query(lambeth: Signer) -> bytes:
    return lambeth.sign(envelope_for(QUERY))


def _rejects(
    verifier: EnvelopeVerifier,
    data: bytes,
    code: str,
    reason: str,
    *,
    tls_authority: AuthorityCode | None = None,
) -> None:
    with pytest.raises(IrtError, match=reason) as caught:
        verifier.verify_envelope(data, tls_authority=tls_authority)
    assert caught.value.code == code, caught.value


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("body_file", BODIES, ids=lambda p: p.stem)
def test_every_message_class_round_trips(
    body_file: Path, lambeth: Signer, verifier: EnvelopeVerifier
) -> None:
    envelope = envelope_for(body_file)
    message = verifier.verify_envelope(lambeth.sign(envelope))
    assert message.header.message_class == etree.QName(message.body).localname
    assert message.header.sender == Party(LAMBETH, "lambeth-irt")
    assert message.document.signer == LAMBETH
    original_body = envelope[1][0]
    assert _c14n(message.body) == _c14n(original_body)


def test_rsa_signer_is_accepted(dev_pki: PkiLayout, verifier: EnvelopeVerifier) -> None:
    signer = _signer_with(dev_pki, LAMBETH, key=new_key("rsa", rsa_bits=2048))
    assert verifier.verify_envelope(signer.sign(envelope_for(QUERY))).sighting is Sighting.FIRST


# ------------------------------------------------------------ codes and trust


def test_malformed_xml(verifier: EnvelopeVerifier) -> None:
    _rejects(verifier, b"<env:Envelope/>", "malformed-xml", "Namespace prefix env on Envelope")


def test_forbidden_xml(verifier: EnvelopeVerifier, signed_query: bytes) -> None:
    data = signed_query.replace(b"?>", b'?>\n<!DOCTYPE x [<!ENTITY e "e">]>', 1)
    _rejects(verifier, data, "forbidden-xml", "contains a DTD")


def test_too_large(trust: TrustStore, clock: FixedClock, signed_query: bytes) -> None:
    small = EnvelopeVerifier(trust=trust, clock=clock, limits=XmlLimits(max_bytes=1000))
    _rejects(small, signed_query, "too-large", "the limit is 1000")


def test_schema_invalid_header(lambeth: Signer, verifier: EnvelopeVerifier) -> None:
    envelope = envelope_for(QUERY)
    purpose = envelope[0].find("{urn:lcpc:irt:envelope:1}Purpose")
    assert purpose is not None
    purpose.text = "curiosity"
    _rejects(verifier, lambeth.sign(envelope), "schema-invalid", "Purpose.*curiosity")


def test_unsigned_envelope(verifier: EnvelopeVerifier) -> None:
    data = etree.tostring(envelope_for(QUERY))
    _rejects(verifier, data, "signature-invalid", "not signed: it has no ds:Signature")


def test_unknown_ca(dev_pki: PkiLayout, verifier: EnvelopeVerifier) -> None:
    attacker_root_key = ec.generate_private_key(ec.SECP256R1())
    real_root = x509.load_pem_x509_certificate(dev_pki.root_cert.read_bytes())
    # A look-alike root: same name, attacker's key.
    fake_root = (
        x509.CertificateBuilder()
        .subject_name(real_root.subject)
        .issuer_name(real_root.subject)
        .public_key(attacker_root_key.public_key())
        .serial_number(1)
        .not_valid_before(_now() - timedelta(days=1))
        .not_valid_after(_now() + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .sign(attacker_root_key, hashes.SHA256())
    )
    key = new_key()
    cert = issue_certificate(
        fake_root, attacker_root_key, party=LAMBETH, kind="signing", public_key=key.public_key(),
        not_before=_now() - timedelta(hours=1), not_after=_now() + timedelta(days=1),
    )  # fmt: skip
    data = Signer(key=key, chain=(cert, fake_root)).sign(envelope_for(QUERY))
    _rejects(verifier, data, "untrusted-certificate", "does not chain to the London root CA")


@pytest.mark.parametrize(
    ("not_before", "not_after", "reason"),
    [
        (timedelta(days=-10), timedelta(days=-1), "is not valid now"),
        (timedelta(days=1), timedelta(days=10), "is not valid now"),
    ],
    ids=["expired", "not-yet-valid"],
)
def test_certificate_validity(
    dev_pki: PkiLayout, verifier: EnvelopeVerifier, not_before: timedelta, not_after: timedelta,
    reason: str,
) -> None:  # fmt: skip
    signer = _signer_with(
        dev_pki, LAMBETH, not_before=_now() + not_before, not_after=_now() + not_after
    )
    _rejects(verifier, signer.sign(envelope_for(QUERY)), "certificate-expired", reason)


def test_certificate_not_valid_at_created(
    dev_pki: PkiLayout, trust: TrustStore, clock: FixedClock
) -> None:
    # Valid now, but the message claims a Created before the certificate began.
    signer = _signer_with(dev_pki, LAMBETH, not_before=_now() - timedelta(minutes=1))
    envelope = envelope_for(
        QUERY, created=_now() - timedelta(hours=1), expires=_now() + timedelta(hours=1)
    )
    plain = EnvelopeVerifier(trust=trust, clock=clock)
    _rejects(plain, signer.sign(envelope), "certificate-expired", "not valid at Created")


def test_revoked_certificate(dev_pki: PkiLayout, trust: TrustStore, clock: FixedClock) -> None:
    signer = _signer_with(dev_pki, LAMBETH)
    root, root_key = load_ca(dev_pki)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(_now())
        .next_update(_now() + timedelta(days=1))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(signer.certificate.serial_number)
            .revocation_date(_now())
            .build()
        )
        .sign(root_key, hashes.SHA256())
    )
    data = signer.sign(envelope_for(QUERY))
    before = EnvelopeVerifier(trust=trust, clock=clock)
    assert before.verify_envelope(data).document.signer == LAMBETH  # cached as valid...
    after = EnvelopeVerifier(trust=trust.with_crl(crl), clock=clock)
    _rejects(after, data, "certificate-revoked", "is revoked by the CRL")  # ...still caught


def test_crl_not_signed_by_root(dev_pki: PkiLayout, trust: TrustStore) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    root = x509.load_pem_x509_certificate(dev_pki.root_cert.read_bytes())
    forged = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(_now())
        .next_update(_now() + timedelta(days=1))
        .sign(other, hashes.SHA256())
    )
    with pytest.raises(IrtError, match="CRL is not signed by the London root CA"):
        trust.with_crl(forged)


def test_certificate_of_another_authority_than_from(
    signer_for: Callable[[str], Signer], verifier: EnvelopeVerifier
) -> None:
    data = signer_for(SOUTHWARK).sign(envelope_for(QUERY, sender=LAMBETH))
    _rejects(
        verifier, data, "sender-mismatch",
        "says From E09000022 but is signed with a certificate of E09000028",
    )  # fmt: skip


def test_tls_identity_must_match(verifier: EnvelopeVerifier, signed_query: bytes) -> None:
    _rejects(
        verifier, signed_query, "sender-mismatch",
        "TLS client certificate names E09000028", tls_authority=SOUTHWARK,
    )  # fmt: skip


def test_tls_certificate_cannot_sign_messages(
    dev_pki: PkiLayout, verifier: EnvelopeVerifier
) -> None:
    signer = Signer.from_files(dev_pki.tls_key(LAMBETH), dev_pki.tls_cert(LAMBETH))
    _rejects(
        verifier, signer.sign(envelope_for(QUERY)), "untrusted-certificate",
        "is not a message-signing certificate",
    )  # fmt: skip


def test_stale_message(lambeth: Signer, verifier: EnvelopeVerifier) -> None:
    data = lambeth.sign(envelope_for(QUERY, created=_now() - timedelta(minutes=10)))
    _rejects(verifier, data, "stale-message", "before the receiver's clock")


def test_replay_of_same_bytes_is_a_retry_and_other_bytes_a_duplicate(
    lambeth: Signer, verifier: EnvelopeVerifier
) -> None:
    envelope = envelope_for(QUERY)
    first = lambeth.sign(envelope)
    assert verifier.verify_envelope(first).sighting is Sighting.FIRST
    assert verifier.verify_envelope(first).sighting is Sighting.RETRY
    # Same MessageID, re-signed (ECDSA is randomised): other bytes.
    _rejects(verifier, lambeth.sign(envelope), "duplicate-message", "already received")


# ------------------------------------------------------------ wrapping attacks


def _found(pattern: bytes, signed: bytes) -> bytes:
    """The first match of ``pattern`` in ``signed``, ``.`` matching newlines too."""
    match = re.search(pattern, signed, re.S)
    assert match is not None, pattern
    return match.group(0)


def _forged_root(signed: bytes) -> bytes:
    return b"<Forged>" + signed.split(b"?>", 1)[1] + b"</Forged>"


def _second_body(signed: bytes) -> bytes:
    body = _found(rb"<env:Body>.*?</env:Body>", signed)
    return signed.replace(b"</env:Body>", b"</env:Body>" + body, 1)


def _second_signature(signed: bytes) -> bytes:
    signature = _found(rb"<ds:Signature.*</ds:Signature>", signed)
    return signed.replace(b"</env:Envelope>", signature + b"</env:Envelope>")


def _signature_not_last(signed: bytes) -> bytes:
    signature = _found(rb"<ds:Signature.*</ds:Signature>", signed)
    return signed.replace(signature, b"").replace(b"<env:Body>", signature + b"<env:Body>")


def _attr(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def mutate(signed: bytes) -> bytes:
        assert old in signed
        return signed.replace(old, new, 1)

    return mutate


def _new_header_old_signature(signed: bytes) -> bytes:
    return re.sub(
        rb"<env:MessageID>[^<]+",
        b"<env:MessageID>urn:uuid:00000000-0000-4000-8000-000000000000",
        signed,
    )


def _changed_body(signed: bytes) -> bytes:
    return signed.replace(b"<c:FamilyName>Walsh", b"<c:FamilyName>Walker", 1)


def _key_value_instead_of_certificate(signed: bytes) -> bytes:
    return re.sub(rb"<ds:X509Data>.*</ds:X509Data>", b"<ds:KeyValue/>", signed, flags=re.S)


def _object_in_signature(signed: bytes) -> bytes:
    return signed.replace(b"</ds:KeyInfo>", b"</ds:KeyInfo><ds:Object>x</ds:Object>")


def _signed_envelope_hidden_in_body(signed: bytes) -> bytes:
    # The attacker's own header and an unsigned body, the genuine signed
    # envelope hidden inside as "the" body, and the genuine signature moved
    # to the end of the forged envelope.
    inner = signed.split(b"?>", 1)[1]
    signature = _found(rb"<ds:Signature.*</ds:Signature>", signed)
    header = _found(rb"<env:Header>.*</env:Header>", signed)
    return (
        b'<env:Envelope xmlns:env="urn:lcpc:irt:envelope:1" Version="1.0">' + header
        + b"<env:Body>" + inner + b"</env:Body>" + signature + b"</env:Envelope>"
    )  # fmt: skip


WRAPPING_ATTACKS: dict[str, tuple[Callable[[bytes], bytes], str, str]] = {
    "signed-envelope-under-forged-root": (_forged_root, "schema-invalid", "Forged"),
    "signed-envelope-hidden-in-forged-body": (
        _signed_envelope_hidden_in_body, "schema-invalid", "Envelope",
    ),
    "second-body": (_second_body, "schema-invalid", "Body"),
    "second-signature": (_second_signature, "schema-invalid", "Signature"),
    "signature-moved-into-header": (_signature_not_last, "schema-invalid", "Signature"),
    "reference-to-one-element": (
        _attr(b'URI=""', b'URI="#body"'), "signature-invalid",
        "reference does not cover the whole envelope",
    ),
    "id-based-xpointer-reference": (
        _attr(b'URI=""', b'URI="#xpointer(id(\'x\'))"'), "signature-invalid",
        "reference does not cover the whole envelope",
    ),
    "new-header-under-old-signature": (
        _new_header_old_signature, "signature-invalid", "changed after signing",
    ),
    "body-changed-after-signing": (_changed_body, "signature-invalid", "changed after signing"),
    "sha1-signature-method": (
        _attr(b"xmldsig-more#ecdsa-sha256", b"xmldsig-more#ecdsa-sha1"), "signature-invalid",
        "signature method .*ecdsa-sha1.* is not allowed",
    ),
    "rsa-sha1-signature-method": (
        _attr(b"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
              b"http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
        "signature-invalid", "rsa-sha1.* is not allowed",
    ),
    "hmac-signature-method": (
        _attr(b"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
              b"http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"),
        "signature-invalid", "hmac-sha256.* is not allowed",
    ),
    "sha1-digest": (
        _attr(b"http://www.w3.org/2001/04/xmlenc#sha256", b"http://www.w3.org/2000/09/xmldsig#sha1"),
        "signature-invalid", "digest method .* is not allowed; use SHA-256",
    ),
    "inclusive-c14n": (
        _attr(b'<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"',
              b'<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"'),
        "signature-invalid", "only exclusive c14n",
    ),
    "xpath-transform-added": (
        _attr(b"<ds:Transforms>",
              b'<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/>'),
        "signature-invalid", "transforms must be exactly enveloped-signature then exclusive c14n",
    ),
    "key-value-instead-of-certificate": (
        _key_value_instead_of_certificate, "signature-invalid", "exactly one ds:X509Data",
    ),
    "object-inside-signature": (_object_in_signature, "signature-invalid", "found SignedInfo"),
}  # fmt: skip


@pytest.mark.parametrize("attack", sorted(WRAPPING_ATTACKS))
def test_wrapping_attack_is_refused(
    attack: str, signed_query: bytes, verifier: EnvelopeVerifier
) -> None:
    mutate, code, reason = WRAPPING_ATTACKS[attack]
    _rejects(verifier, mutate(signed_query), code, reason)


def test_comment_inside_signed_text_cannot_truncate_it(
    signed_query: bytes, verifier: EnvelopeVerifier
) -> None:
    # CVE-2017-11428: "Le<!---->o" canonicalises to "Leo"; a reader of the
    # first text node would see "Le". The verified body reads as signed.
    tampered = signed_query.replace(b">Leo<", b">Le<!-- x -->o<", 1)
    message = verifier.verify_envelope(tampered)
    assert message.body.findtext(".//{urn:lcpc:irt:common:1}GivenName") == "Leo"


def test_forwarded_original_is_still_verifiable_alone(
    lambeth: Signer, verifier: EnvelopeVerifier
) -> None:
    # Base64 keeps the exact bytes, so an embedded signed envelope verifies.
    original = lambeth.sign(envelope_for(QUERY))
    assert base64.b64decode(base64.b64encode(original)) == original
    assert verifier.verify_envelope(original).document.raw == original


# -------------------------------------------------------------- property test


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.floats(min_value=0, max_value=1, exclude_max=True), value=st.integers(0, 255))
def test_flipping_any_byte_never_verifies_different_content(
    signed_query: bytes, trust: TrustStore, clock: FixedClock, position: float, value: int
) -> None:
    index = int(position * len(signed_query))
    if signed_query[index] == value:
        return
    tampered = signed_query[:index] + bytes([value]) + signed_query[index + 1 :]
    plain = EnvelopeVerifier(trust=trust, clock=clock)
    original = plain.verify_envelope(signed_query)
    try:
        message = plain.verify_envelope(tampered)
    except IrtError:
        return
    assert _content(message) == _content(original)


def _content(message: VerifiedMessage) -> tuple[object, bytes]:
    return message.header, _c14n(message.body)


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)


# ---------------------------------------------------------------- helpers


def _signer_with(
    dev_pki: PkiLayout,
    party: AuthorityCode,
    *,
    key: PrivateKey | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Signer:
    root, root_key = load_ca(dev_pki)
    private = key or new_key()
    cert = issue_certificate(
        root, root_key,
        party=party, kind="signing", public_key=private.public_key(),
        not_before=not_before or _now() - timedelta(hours=1),
        not_after=not_after or _now() + timedelta(days=1),
    )  # fmt: skip
    return Signer(key=private, chain=(cert,))
