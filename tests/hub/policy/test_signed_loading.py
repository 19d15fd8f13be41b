"""Signed ISPs: only documents signed by their own authority go into force at the hub.

Real keys and certificates from the session's development PKI (``signer_for``);
revoked and expired certificates come from a PKI of this module's own, so
the shared one is never changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree

from hub.clock import FixedClock
from hub.directory import Directory
from hub.envelope import Header, Party, Practitioner, Recipient, build_envelope
from hub.errors import (
    CertificateExpired,
    CertificateRevoked,
    SchemaInvalid,
    SenderMismatch,
    SignatureInvalid,
    TooLarge,
)
from hub.identifiers import AuthorityCode
from hub.pki.issuing import init_pki, reissue, revoke
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.policy.engine import PolicyEngine
from hub.policy.model import MAX_ISP_BYTES
from hub.policy.request import PolicyRequest
from hub.policy.signed import SignedIspReader
from hub.signing import Signer
from hub.verify import DocumentVerifier
from tests.support.isp_builders import TODAY, asker, build_isp, build_rule
from tests.support.parties import party_signer
from tests.support.paths import BODIES

LAMBETH, SOUTHWARK = AuthorityCode("E09000022"), AuthorityCode("E09000028")
S47 = ("child-protection-s47",)
SOURCE = "protocols/E09000022.xml"
SignerFor = Callable[[str], Signer]


def lambeth(
    level: str = "contacts", *, version: int = 1, consents: tuple[str, ...] = ("given",)
) -> bytes:
    """Lambeth discloses s47 up to ``level``; the permit rule ``p`` is on line 8."""
    rule = build_rule("p", "permit", "disclose", purposes=S47, consents=consents, level=level)
    return build_isp(LAMBETH, [rule], version=version)


def sign(data: bytes, signer: Signer) -> bytes:
    """Sign whatever ``data`` holds, bypassing ``sign_isp``'s checks, as an attacker could."""
    return signer.sign(etree.fromstring(data))


def request() -> PolicyRequest:
    return PolicyRequest(SOUTHWARK, LAMBETH, "child-protection-s47", "given", "health", "details")


def engine_for(trust: TrustStore, directory: Directory) -> PolicyEngine:
    # Certificates are judged by the real clock; decisions by the fixed day.
    reader = SignedIspReader(DocumentVerifier(trust=trust))
    return PolicyEngine(directory=directory, reader=reader, clock=FixedClock(TODAY))


@pytest.fixture
def engine(trust: TrustStore, directory: Directory) -> PolicyEngine:
    return engine_for(trust, directory)


def test_document_signed_by_its_authority_goes_into_force(
    engine: PolicyEngine, signer_for: SignerFor
) -> None:
    engine.install(sign(asker(SOUTHWARK), signer_for(SOUTHWARK)), source="E09000028.xml")
    signed = sign(lambeth("contacts"), signer_for(LAMBETH))
    doc = engine.install(signed, source=SOURCE)
    assert engine.in_force(LAMBETH) is doc
    assert doc.digest == hashlib.sha256(signed).hexdigest()
    assert doc.rule("p").line == 8
    decision = engine.decide(request())
    assert decision.level == "contacts"
    assert [b.digest for b in decision.basis if b.side == "responder"] == [doc.digest]


def test_lines_are_those_of_the_file_even_after_an_unsigned_preamble(
    engine: PolicyEngine, signer_for: SignerFor
) -> None:
    # Comments before the root are outside the signature; they move the rule
    # down two lines in the file, and reports must follow the file.
    head, rest = sign(lambeth(), signer_for(LAMBETH)).split(b"\n", 1)
    shifted = head + b"\n<!-- a -->\n<!-- b -->\n" + rest
    assert engine.install(shifted, source=SOURCE).rule("p").line == 10


def test_unsigned_document_is_refused(engine: PolicyEngine) -> None:
    with pytest.raises(SignatureInvalid, match=r"E09000022\.xml: document is not signed"):
        engine.install(lambeth(), source=SOURCE)
    assert engine.in_force(LAMBETH) is None


def test_document_signed_by_another_authority_is_refused(
    engine: PolicyEngine, signer_for: SignerFor
) -> None:
    forged = sign(lambeth("details"), signer_for(SOUTHWARK))
    with pytest.raises(
        SenderMismatch,
        match=r"E09000022\.xml: the ISP is for E09000022 but is signed with a certificate "
        r"of E09000028",
    ):
        engine.install(forged, source=SOURCE)
    with pytest.raises(SenderMismatch, match="signed with a certificate of HUB"):
        engine.install(sign(lambeth("details"), signer_for("HUB")), source=SOURCE)
    assert engine.in_force(LAMBETH) is None


def test_another_signed_document_is_not_an_isp(engine: PolicyEngine, signer_for: SignerFor) -> None:
    body = etree.parse(str(BODIES / "KnownToQuery.xml"))
    header = Header(
        message_class="KnownToQuery",
        qualifier="request",
        sender=Party(LAMBETH),
        recipients=(Recipient(authority=SOUTHWARK),),
        created=datetime.now(UTC),
        on_behalf_of=Practitioner("sw-1", "Social worker", "social-care"),
        purpose="child-protection-s47",
        consent="not-required",
    )
    envelope = signer_for(LAMBETH).sign(build_envelope(header, body.getroot()))
    with pytest.raises(SchemaInvalid, match=r"\.xml: the signed document is .*Envelope, not an"):
        engine.install(envelope, source=SOURCE)
    # a bare body carries no place for a signature: the schema refuses it first
    with pytest.raises(SchemaInvalid, match=r"root element is .*KnownToQuery, not Information"):
        engine.install(signer_for(LAMBETH).sign(body.getroot()), source=SOURCE)


def test_document_changed_after_signing_is_refused(
    engine: PolicyEngine, signer_for: SignerFor
) -> None:
    good = sign(lambeth("contacts", version=1), signer_for(LAMBETH))
    engine.install(good, source=SOURCE)
    widened = good.replace(b"<MaxLevel>contacts<", b"<MaxLevel>details<").replace(
        b"<Version>1<", b"<Version>2<"
    )
    assert widened != good
    with pytest.raises(SignatureInvalid, match="changed after signing"):
        engine.install(widened, source=SOURCE)
    in_force = engine.in_force(LAMBETH)
    assert in_force is not None
    assert in_force.digest == hashlib.sha256(good).hexdigest()


def test_version_must_increase_and_a_resigned_copy_is_not_a_new_version(
    engine: PolicyEngine, signer_for: SignerFor
) -> None:
    signer = signer_for(LAMBETH)
    v2 = sign(lambeth("contacts", version=2), signer)
    engine.install(v2, source=SOURCE)
    # ECDSA signatures differ each time: the same text signed again is other bytes.
    again = sign(lambeth("contacts", version=2), signer)
    assert again != v2
    with pytest.raises(SchemaInvalid, match="version 2 is not greater than version 2 in force"):
        engine.install(again, source=SOURCE)
    with pytest.raises(SchemaInvalid, match="version 1 is not greater than version 2 in force"):
        engine.install(sign(lambeth("details", version=1), signer), source=SOURCE)
    assert engine.install(sign(lambeth("details", version=3), signer), source=SOURCE).version == 3


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        # schema: caught by the verifier's validation, reported by the model with the rule
        (lambeth("everything", version=2), r"E09000022\.xml, rule p: line 8: .*everything"),
        # model: a permit without consent values, valid for the schema
        (lambeth("details", version=2, consents=()), r"line 8, rule p: a permit rule must name"),
    ],
    ids=["schema-invalid", "model-invalid"],
)
def test_invalid_signed_new_version_keeps_the_old_in_force(
    engine: PolicyEngine, signer_for: SignerFor, broken: bytes, reason: str
) -> None:
    engine.install(sign(asker(SOUTHWARK), signer_for(SOUTHWARK)), source="E09000028.xml")
    old = engine.install(sign(lambeth("contacts"), signer_for(LAMBETH)), source=SOURCE)
    with pytest.raises(SchemaInvalid, match=reason):
        engine.install(sign(broken, signer_for(LAMBETH)), source=SOURCE)
    assert engine.in_force(LAMBETH) is old
    assert engine.decide(request()).level == "contacts"


def test_oversized_document_is_refused_before_parsing(engine: PolicyEngine) -> None:
    with pytest.raises(TooLarge, match=rf"E09000022\.xml: {MAX_ISP_BYTES + 1} bytes"):
        engine.install(b" " * (MAX_ISP_BYTES + 1), source=SOURCE)


def test_folder_load_names_each_refused_file_and_denies_without_an_isp(
    engine: PolicyEngine, signer_for: SignerFor, tmp_path: Path
) -> None:
    (tmp_path / "E09000028.xml").write_bytes(sign(asker(SOUTHWARK), signer_for(SOUTHWARK)))
    (tmp_path / "E09000022.xml").write_bytes(lambeth())  # unsigned
    (tmp_path / "E09000008.xml").write_bytes(sign(asker("E09000008"), signer_for(SOUTHWARK)))
    report = engine.load_folder(tmp_path)
    assert [(Path(o.source).stem, o.status) for o in report.outcomes] == [
        ("E09000008", "refused"),
        ("E09000022", "refused"),
        ("E09000028", "installed"),
    ]
    assert "is for E09000008 but is signed with a certificate of E09000028" in report.text()
    assert "E09000022.xml: document is not signed" in report.text()
    assert set(engine.documents) == {SOUTHWARK}
    decision = engine.decide(request())
    assert not decision.permitted
    assert decision.reason == "the responder E09000022 has no ISP in force"


def test_shadow_candidates_must_be_signed_too(engine: PolicyEngine, signer_for: SignerFor) -> None:
    with pytest.raises(SignatureInvalid, match="not signed"):
        engine.stage_shadow(lambeth("details", version=2), source=SOURCE)
    staged = engine.stage_shadow(
        sign(lambeth("details", version=2), signer_for(LAMBETH)), source=SOURCE
    )
    assert engine.shadow_documents == {LAMBETH: staged}
    assert engine.in_force(LAMBETH) is None


@pytest.fixture(scope="module")
def own_pki(tmp_path_factory: pytest.TempPathFactory) -> PkiLayout:
    layout = PkiLayout(tmp_path_factory.mktemp("own-pki"))
    init_pki(layout, now=datetime.now(UTC) - timedelta(days=1))
    return layout


def test_signature_by_a_revoked_certificate_is_refused(
    own_pki: PkiLayout, directory: Directory
) -> None:
    signer = party_signer(own_pki, LAMBETH)
    signed = sign(lambeth(), signer)
    before = engine_for(TrustStore.from_files(own_pki.root_cert, own_pki.crl), directory)
    assert before.install(signed, source=SOURCE).authority == LAMBETH
    serial = x509.load_pem_x509_certificate(own_pki.signing_cert(LAMBETH).read_bytes())
    revoke(own_pki, serial.serial_number, now=datetime.now(UTC), reason="keyCompromise")
    after = engine_for(TrustStore.from_files(own_pki.root_cert, own_pki.crl), directory)
    with pytest.raises(CertificateRevoked, match=r"E09000022\.xml: .*revoked"):
        after.install(signed, source=SOURCE)
    assert after.in_force(LAMBETH) is None


def test_signature_by_an_expired_certificate_is_refused(
    own_pki: PkiLayout, directory: Directory, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    reissue(
        own_pki,
        party=SOUTHWARK,
        kind="signing",
        now=now,
        not_before=now - timedelta(days=30),
        not_after=now - timedelta(days=1),
        out_dir=tmp_path,
    )
    signer = Signer.from_files(tmp_path / "signing.key", tmp_path / "signing.pem")
    engine = engine_for(TrustStore.from_files(own_pki.root_cert, own_pki.crl), directory)
    with pytest.raises(CertificateExpired, match=r"E09000028\.xml: .*expired"):
        engine.install(sign(asker(SOUTHWARK), signer), source="E09000028.xml")
