"""Judging a logged message as of its ``Created``: the CRL then in force, the leaf it matches."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from hub.errors import UntrustedCertificate
from hub.identifiers import MessageId
from hub.log.errors import LogEvidenceInvalid
from hub.log.evidence import CrlTimeline, MessageChecker
from hub.pki.certificates import PrivateKey
from hub.pki.issuing import issue_certificate, load_ca, new_key
from hub.pki.layout import PkiLayout
from hub.signing import Signer
from tests.support.signed_messages import LAMBETH, body, entry_for, sign

NOW = datetime.now(UTC).replace(microsecond=0)


def _crl(
    pki: PkiLayout,
    folder: Path,
    name: str,
    *,
    this_update: datetime,
    next_update: datetime,
    revoked: tuple[int, ...] = (),
    number: int = 1,
    key: PrivateKey | None = None,
) -> Path:
    root, root_key = load_ca(pki)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(this_update)
            .build()
        )
    crl = builder.sign(key or root_key, hashes.SHA256())
    path = folder / f"{name}.pem"
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture(scope="module")
def lambeth(dev_pki: PkiLayout) -> Signer:
    """A Lambeth signing certificate of its own, so revoking it touches no other test."""
    root, root_key = load_ca(dev_pki)
    key = new_key()
    cert = issue_certificate(
        root, root_key,
        party=LAMBETH, kind="signing", public_key=key.public_key(),
        not_before=NOW - timedelta(hours=23), not_after=NOW + timedelta(days=1),
    )  # fmt: skip
    return Signer(key=key, chain=(cert,))


def test_the_crl_in_force_is_chosen_by_date(dev_pki: PkiLayout, tmp_path: Path) -> None:
    start = NOW - timedelta(hours=20)
    first = _crl(dev_pki, tmp_path, "a", this_update=start, next_update=start + timedelta(hours=4))
    second = _crl(
        dev_pki,
        tmp_path,
        "b",
        this_update=start + timedelta(hours=4),
        next_update=start + timedelta(hours=8),
        number=2,
    )
    later = _crl(
        dev_pki,
        tmp_path,
        "c",
        this_update=start + timedelta(hours=15),
        next_update=start + timedelta(hours=30),
        number=3,
    )
    timeline = CrlTimeline.from_files(dev_pki.root_cert, [later, first, second])
    numbers = {
        hours: timeline.at(start + timedelta(hours=hours)).crl for hours in (-1, 1, 5, 10, 16)
    }
    assert numbers[-1] is None
    crl_number = {
        hours: crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        for hours, crl in numbers.items()
        if crl is not None
    }
    # In force, in force, lapsed (the latest before), in force.
    assert crl_number == {1: 1, 5: 2, 10: 2, 16: 3}


def test_a_crl_not_signed_by_the_root_is_refused(dev_pki: PkiLayout, tmp_path: Path) -> None:
    stranger = new_key()
    forged = _crl(
        dev_pki, tmp_path, "f", this_update=NOW, next_update=NOW + timedelta(hours=1), key=stranger
    )
    with pytest.raises(UntrustedCertificate, match="CRL is not signed by the London root CA"):
        CrlTimeline.from_files(dev_pki.root_cert, [forged])


def test_a_message_made_before_its_revocation_still_verifies(
    dev_pki: PkiLayout, tmp_path: Path, lambeth: Signer
) -> None:
    before = NOW - timedelta(hours=10)
    revoked_at = NOW - timedelta(hours=6)
    clean = _crl(
        dev_pki,
        tmp_path,
        "1",
        this_update=NOW - timedelta(hours=22),
        next_update=NOW + timedelta(days=1),
    )
    revoking = _crl(
        dev_pki,
        tmp_path,
        "2",
        this_update=revoked_at,
        next_update=NOW + timedelta(days=1),
        revoked=(lambeth.certificate.serial_number,),
        number=2,
    )
    checker = MessageChecker(CrlTimeline.from_files(dev_pki.root_cert, [clean, revoking]))
    early_raw, early_header = sign(
        lambda _: lambeth, body("KnownToQuery"), sender=LAMBETH, created=before
    )
    checked = checker.check(early_raw, entry_for(early_raw, early_header, direction="in"))
    assert checked.crl_number == 1
    assert checked.message.header.message_id == early_header.message_id
    late = NOW - timedelta(hours=2)
    late_raw, late_header = sign(
        lambda _: lambeth, body("KnownToQuery"), sender=LAMBETH, created=late
    )
    with pytest.raises(
        LogEvidenceInvalid, match=r"\(certificate-revoked\): certificate .* is revoked"
    ):
        checker.check(late_raw, entry_for(late_raw, late_header, direction="in"))


def test_bytes_and_leaf_must_agree(dev_pki: PkiLayout, lambeth: Signer) -> None:
    checker = MessageChecker(CrlTimeline.from_files(dev_pki.root_cert))
    raw, header = sign(
        lambda _: lambeth, body("Referral"), sender=LAMBETH, created=NOW - timedelta(hours=1)
    )
    entry = entry_for(raw, header, direction="in")
    assert checker.check(raw, entry).crl_number is None
    with pytest.raises(LogEvidenceInvalid, match="do not match the leaf's SHA-256"):
        checker.check(raw.replace(b"Amara", b"Amari"), entry)
    other_id = replace(entry, message_id=MessageId("urn:uuid:00000000-0000-4000-8000-000000000000"))
    with pytest.raises(LogEvidenceInvalid, match="the leaf says MessageID 'urn:uuid:0000"):
        checker.check(raw, other_id)
    with pytest.raises(LogEvidenceInvalid, match="the leaf says To"):
        checker.check(raw, replace(entry, recipients=("E09000001",)))


def test_a_message_signed_outside_its_certificate_validity_fails(
    dev_pki: PkiLayout, lambeth: Signer
) -> None:
    checker = MessageChecker(CrlTimeline.from_files(dev_pki.root_cert))
    created = NOW - timedelta(days=3)  # before the certificate's notBefore
    raw, header = sign(lambda _: lambeth, body("KnownToQuery"), sender=LAMBETH, created=created)
    with pytest.raises(LogEvidenceInvalid, match=r"\(certificate-expired\)"):
        checker.check(raw, entry_for(raw, header, direction="in"))
