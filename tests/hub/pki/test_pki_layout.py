"""The on-disk layout of ``init`` and how files are written: paths, modes, atomicity."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hub.authorities import PARTIES
from hub.pki.errors import PkiError
from hub.pki.issuing import init_pki, load_ca
from hub.pki.layout import PkiLayout, write_private_key, write_public_file
from tests.support.pki_builders import LAMBETH, now


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_init_writes_every_file_of_the_layout(dev_pki: PkiLayout) -> None:
    expected = {"root-ca.pem", "root-ca.key", "crl.pem", "crl", "serials.json", *PARTIES}
    assert {p.name for p in dev_pki.root.iterdir()} == expected
    assert [p.name for p in dev_pki.crl_history.iterdir()] == ["1.pem"]
    assert dev_pki.numbered_crl(1).read_bytes() == dev_pki.crl.read_bytes()
    for code in PARTIES:
        files = {p.name for p in dev_pki.party_dir(code).iterdir()}
        assert files == {"signing.pem", "signing.key", "tls.pem", "tls.key"}, code
    assert dev_pki.signing_cert(LAMBETH) == dev_pki.root / "E09000022" / "signing.pem"
    assert dev_pki.tls_key(LAMBETH) == dev_pki.root / "E09000022" / "tls.key"


def test_keys_are_0600_and_certificates_0644(dev_pki: PkiLayout) -> None:
    keys = [dev_pki.root_key, *(dev_pki.key(c, p) for c in PARTIES for p in ("signing", "tls"))]
    public = [dev_pki.root_cert, dev_pki.crl, dev_pki.registry, dev_pki.signing_cert(LAMBETH)]
    assert {_mode(k) for k in keys} == {0o600}
    assert {_mode(p) for p in public} == {0o644}


def test_keys_are_unencrypted_pkcs8_pem_and_separate(dev_pki: PkiLayout) -> None:
    signing = dev_pki.signing_key(LAMBETH).read_bytes()
    tls = dev_pki.tls_key(LAMBETH).read_bytes()
    assert signing.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert signing != tls
    key = serialization.load_pem_private_key(signing, password=None)
    cert = x509.load_pem_x509_certificate(dev_pki.signing_cert(LAMBETH).read_bytes())
    assert key.public_key() == cert.public_key()


def test_init_refuses_to_overwrite_a_ca(fresh_pki: PkiLayout) -> None:
    before = fresh_pki.root_cert.read_bytes()
    with pytest.raises(PkiError, match=r"already holds a CA .*pass --force"):
        init_pki(fresh_pki, now=now())
    assert fresh_pki.root_cert.read_bytes() == before


def test_init_refuses_a_directory_with_only_a_registry(tmp_path: Path) -> None:
    layout = PkiLayout(tmp_path)
    layout.registry.write_text("{}")
    with pytest.raises(PkiError, match=r"already holds a CA"):
        init_pki(layout, now=now())


def test_force_replaces_the_ca_and_every_certificate(fresh_pki: PkiLayout) -> None:
    old_root, _ = load_ca(fresh_pki)
    old_leaf = fresh_pki.signing_cert(LAMBETH).read_bytes()
    init_pki(fresh_pki, now=now(), force=True)
    new_root, _ = load_ca(fresh_pki)
    assert new_root != old_root
    assert fresh_pki.signing_cert(LAMBETH).read_bytes() != old_leaf
    assert _mode(fresh_pki.root_key) == 0o600


@pytest.mark.usefixtures("umask")
def test_key_mode_is_0600_from_creation_even_over_a_wider_file(tmp_path: Path) -> None:
    path = tmp_path / "party.key"
    path.write_bytes(b"old")
    path.chmod(0o666)
    write_private_key(path, b"secret")
    assert (_mode(path), path.read_bytes()) == (0o600, b"secret")


def test_public_files_are_0644_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        write_public_file(tmp_path / "cert.pem", b"cert")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "cert.pem") == 0o644


def test_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    write_private_key(tmp_path / "a.key", b"k")
    write_public_file(tmp_path / "a.pem", b"c")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.key", "a.pem"]


def test_a_failed_write_removes_its_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "is-a-directory.key"
    target.mkdir()
    with pytest.raises(OSError, match=r"Is a directory"):
        write_private_key(target, b"k")
    assert [p.name for p in tmp_path.iterdir()] == ["is-a-directory.key"]
