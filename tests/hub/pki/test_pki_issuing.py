"""The development CA's directory operations: registry, rotation, revocation, CRLs."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from hub.authorities import PARTIES
from hub.errors import CertificateRevoked
from hub.pki.errors import PkiError
from hub.pki.issuing import init_pki, load_ca, load_registry, reissue, revoke, write_crl
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from tests.support.pki_builders import LAMBETH, now


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _crl(layout: PkiLayout) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(layout.crl.read_bytes())


def test_registry_records_every_certificate_written(dev_pki: PkiLayout) -> None:
    registry = load_registry(dev_pki)
    assert len(registry.issued) == 1 + 2 * len(PARTIES)
    root = registry.issued[0]
    assert (root.kind, root.authority) == ("root", None)
    assert root.fingerprint == _cert(dev_pki.root_cert).fingerprint(hashes.SHA256()).hex()
    for code in PARTIES:
        for kind in ("signing", "tls"):
            cert = _cert(dev_pki.cert(code, kind))
            record = registry.find(cert.serial_number)
            assert record is not None, (code, kind)
            assert (record.kind, record.authority) == (kind, code)
            assert record.fingerprint == cert.fingerprint(hashes.SHA256()).hex()
            assert record.not_after == cert.not_valid_after_utc
    assert (registry.revoked, registry.crl_number) == ((), 1)


def test_serials_json_is_the_documented_shape(dev_pki: PkiLayout) -> None:
    document = json.loads(dev_pki.registry.read_text())
    assert document["format"] == 1
    serial = f"{_cert(dev_pki.signing_cert(LAMBETH)).serial_number:x}"
    assert document["issued"][serial]["kind"] == "signing"
    assert document["issued"][serial]["authority"] == LAMBETH
    assert document["revoked"] == []


def test_initial_crl_is_number_one_and_empty(dev_pki: PkiLayout) -> None:
    crl = _crl(dev_pki)
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 1
    assert len(crl) == 0
    root_key = _cert(dev_pki.root_cert).public_key()
    assert isinstance(root_key, ec.EllipticCurvePublicKey)
    assert crl.is_signature_valid(root_key)


def test_rotation_issues_a_new_key_and_serial_and_keeps_the_old_on_record(
    fresh_pki: PkiLayout,
) -> None:
    old_cert = _cert(fresh_pki.signing_cert(LAMBETH))
    old_key = fresh_pki.signing_key(LAMBETH).read_bytes()
    record = reissue(fresh_pki, party=LAMBETH, kind="signing", now=now(), days=30)
    new_cert = _cert(fresh_pki.signing_cert(LAMBETH))
    assert new_cert.serial_number == record.serial != old_cert.serial_number
    assert fresh_pki.signing_key(LAMBETH).read_bytes() != old_key
    assert new_cert.public_key() != old_cert.public_key()
    assert record.not_after - record.not_before == timedelta(days=30, minutes=5)
    registry = load_registry(fresh_pki)
    assert registry.find(old_cert.serial_number) is not None
    assert registry.issued[-1] == record


def test_reissue_into_another_directory_leaves_the_party_files(
    fresh_pki: PkiLayout, tmp_path: Path
) -> None:
    before = fresh_pki.tls_cert(LAMBETH).read_bytes()
    record = reissue(
        fresh_pki, party=LAMBETH, kind="tls", now=now(), dns_names=["irt.lambeth.example"],
        out_dir=tmp_path / "out",
    )  # fmt: skip
    assert fresh_pki.tls_cert(LAMBETH).read_bytes() == before
    issued = _cert(tmp_path / "out" / "tls.pem")
    assert issued.serial_number == record.serial
    san = issued.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "irt.lambeth.example" in san.get_values_for_type(x509.DNSName)


def test_reissue_refusals(fresh_pki: PkiLayout) -> None:
    with pytest.raises(PkiError, match=r"either a validity in days or an explicit notAfter"):
        reissue(fresh_pki, party=LAMBETH, kind="tls", now=now(), days=3, not_after=now())
    with pytest.raises(PkiError, match=r"at least one day, not 0"):
        reissue(fresh_pki, party=LAMBETH, kind="tls", now=now(), days=0)
    with pytest.raises(PkiError, match=r"'E09000034' is not a London authority code"):
        reissue(fresh_pki, party="E09000034", kind="tls", now=now())
    with pytest.raises(PkiError, match=r"validity is empty"):
        reissue(fresh_pki, party=LAMBETH, kind="tls", now=now(), not_after=now() - timedelta(1))


def test_revoke_lists_the_serial_with_date_and_reason(fresh_pki: PkiLayout) -> None:
    serial = _cert(fresh_pki.signing_cert(LAMBETH)).serial_number
    at = now()
    crl = revoke(fresh_pki, f"{serial:x}", now=at, reason="keyCompromise")
    assert crl == _crl(fresh_pki)
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None
    assert entry.revocation_date_utc == at
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.key_compromise
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2
    assert crl.next_update_utc == at + timedelta(days=7)
    revocation = load_registry(fresh_pki).revocation(serial)
    assert revocation is not None
    assert revocation.reason is x509.ReasonFlags.key_compromise


def test_revoked_certificate_is_refused_by_a_store_loading_the_new_crl(
    fresh_pki: PkiLayout,
) -> None:
    leaf = _cert(fresh_pki.signing_cert(LAMBETH))
    revoke(fresh_pki, leaf.serial_number, now=now(), reason="superseded")
    store = TrustStore.from_files(fresh_pki.root_cert, fresh_pki.crl)
    with pytest.raises(CertificateRevoked, match=rf"serial {leaf.serial_number:x}.*superseded"):
        store.validate_chain(leaf, at=now(), now=now())


def test_unspecified_reason_is_written_as_no_reason_code(fresh_pki: PkiLayout) -> None:
    serial = _cert(fresh_pki.tls_cert(LAMBETH)).serial_number
    entry = revoke(fresh_pki, serial, now=now()).get_revoked_certificate_by_serial_number(serial)
    assert entry is not None
    assert list(entry.extensions) == []


def test_revoke_refusals(fresh_pki: PkiLayout) -> None:
    serial = _cert(fresh_pki.signing_cert(LAMBETH)).serial_number
    root_serial = _cert(fresh_pki.root_cert).serial_number
    with pytest.raises(PkiError, match=r"no certificate with serial 1234 was issued"):
        revoke(fresh_pki, "0x1234", now=now())
    with pytest.raises(PkiError, match=r"root CA cannot be revoked by its own CRL"):
        revoke(fresh_pki, root_serial, now=now())
    with pytest.raises(PkiError, match=r"unknown revocation reason 'lost'"):
        revoke(fresh_pki, serial, now=now(), reason="lost")
    with pytest.raises(PkiError, match=r"'xyz' is not a hexadecimal serial"):
        revoke(fresh_pki, "xyz", now=now())
    revoke(fresh_pki, serial, now=now())
    with pytest.raises(PkiError, match=rf"{serial:x} was already revoked at .*unspecified"):
        revoke(fresh_pki, serial, now=now(), reason="keyCompromise")
    assert len(_crl(fresh_pki)) == 1


def test_each_crl_takes_the_next_number_and_keeps_the_revocations(fresh_pki: PkiLayout) -> None:
    serial = _cert(fresh_pki.signing_cert(LAMBETH)).serial_number
    revoke(fresh_pki, serial, now=now())
    crl = write_crl(fresh_pki, now=now(), next_update=timedelta(days=1))
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 3
    assert [entry.serial_number for entry in crl] == [serial]
    assert load_registry(fresh_pki).crl_number == 3
    with pytest.raises(PkiError, match=r"must be valid for some time"):
        write_crl(fresh_pki, now=now(), next_update=timedelta(0))


def test_party_certificates_name_the_hubs_crl_distribution_point(dev_pki: PkiLayout) -> None:
    for path in (dev_pki.signing_cert(LAMBETH), dev_pki.tls_cert(LAMBETH)):
        points = _cert(path).extensions.get_extension_for_class(x509.CRLDistributionPoints)
        assert not points.critical
        assert [n.value for p in points.value for n in p.full_name or ()] == [
            "https://hub.london-irt.example/v1/pki/crl"
        ]
    with pytest.raises(x509.ExtensionNotFound):
        _cert(dev_pki.root_cert).extensions.get_extension_for_class(x509.CRLDistributionPoints)


def test_every_crl_is_kept_under_its_number(fresh_pki: PkiLayout) -> None:
    first = fresh_pki.numbered_crl(1).read_bytes()
    assert first == fresh_pki.crl.read_bytes()
    revoke(fresh_pki, _cert(fresh_pki.signing_cert(LAMBETH)).serial_number, now=now())
    write_crl(fresh_pki, now=now())
    assert sorted(p.name for p in fresh_pki.crl_history.iterdir()) == ["1.pem", "2.pem", "3.pem"]
    assert fresh_pki.numbered_crl(1).read_bytes() == first  # never overwritten
    assert fresh_pki.numbered_crl(3).read_bytes() == fresh_pki.crl.read_bytes()
    for number in (1, 2, 3):
        crl = x509.load_pem_x509_crl(fresh_pki.numbered_crl(number).read_bytes())
        assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == number
    assert oct(fresh_pki.numbered_crl(2).stat().st_mode & 0o777) == "0o644"


def test_a_replaced_ca_keeps_the_old_crl_history_aside(fresh_pki: PkiLayout) -> None:
    old = fresh_pki.numbered_crl(1).read_bytes()
    init_pki(fresh_pki, now=now(), force=True)
    kept = [p for p in fresh_pki.root.iterdir() if p.name.startswith("crl-before-")]
    assert len(kept) == 1
    assert (kept[0] / "1.pem").read_bytes() == old
    assert fresh_pki.numbered_crl(1).read_bytes() == fresh_pki.crl.read_bytes() != old


def test_a_damaged_registry_is_named(fresh_pki: PkiLayout) -> None:
    fresh_pki.registry.write_text('{"format": 2}')
    with pytest.raises(PkiError, match=r"serials.json is not a PKI registry: format 2"):
        load_registry(fresh_pki)
    fresh_pki.registry.write_text("not json")
    with pytest.raises(PkiError, match=r"is not a PKI registry"):
        write_crl(fresh_pki, now=now())


def test_a_root_key_that_does_not_match_is_refused(fresh_pki: PkiLayout) -> None:
    fresh_pki.root_key.write_bytes(fresh_pki.signing_key(LAMBETH).read_bytes())
    with pytest.raises(PkiError, match=r"root-ca.key is not the private key of .*root-ca.pem"):
        load_ca(fresh_pki)


def test_a_directory_without_a_ca(tmp_path: Path) -> None:
    with pytest.raises(PkiError, match=r"root-ca.pem is missing\); run init first"):
        reissue(PkiLayout(tmp_path), party=LAMBETH, kind="tls", now=now())
