"""``irthub policy sign``, ``sign-all`` and ``verify`` through the real ``irthub`` entry point."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hub.directory import default_directory
from hub.identifiers import AuthorityCode
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.policy.signed import SignedIspReader
from hub.verify import DocumentVerifier
from irthub.cli import main
from tests.support.paths import PROTOCOLS

LAMBETH_TEXT = PROTOCOLS / "E09000022.xml"
LAMBETH, SOUTHWARK = AuthorityCode("E09000022"), AuthorityCode("E09000028")


def irthub(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def keys(pki: PkiLayout, code: AuthorityCode) -> list[str | Path]:
    return ["--key", pki.signing_key(code), "--cert", pki.signing_cert(code)]


@pytest.mark.parametrize("command", ["sign", "sign-all", "verify"])
def test_help(command: str) -> None:
    result = irthub("policy", command, "--help")
    assert result.exit_code == 0
    assert "Usage: main policy " + command in result.output


def test_sign_writes_a_document_the_hub_accepts(
    dev_pki: PkiLayout, trust: TrustStore, tmp_path: Path
) -> None:
    out = tmp_path / "E09000022.xml"
    result = irthub("policy", "sign", LAMBETH_TEXT, *keys(dev_pki, LAMBETH), "--out", out)
    assert result.exit_code == 0, result.output
    signed = out.read_bytes()
    digest = hashlib.sha256(signed).hexdigest()
    assert f"isp-E09000022 version 1 for E09000022, sha256 {digest}" in result.stderr
    reader = SignedIspReader(DocumentVerifier(trust=trust))
    doc = reader.read(signed, source=str(out), directory=default_directory())
    assert (doc.authority, doc.digest) == (LAMBETH, digest)


def test_sign_to_standard_output(dev_pki: PkiLayout) -> None:
    result = irthub("policy", "sign", LAMBETH_TEXT, *keys(dev_pki, LAMBETH))
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"<?xml")
    assert result.stdout_bytes.rstrip().endswith(b"</ds:Signature></InformationSharingProtocol>")
    assert "signed: stdout: isp-E09000022" in result.stderr


def test_sign_refuses_another_authoritys_key(dev_pki: PkiLayout, tmp_path: Path) -> None:
    out = tmp_path / "x.xml"
    result = irthub("policy", "sign", LAMBETH_TEXT, *keys(dev_pki, SOUTHWARK), "--out", out)
    assert result.exit_code == 1
    assert "error: sender-mismatch: " in result.stderr
    assert "the ISP is for E09000022 but the key's certificate is E09000028's" in result.stderr
    assert not out.exists()


def test_sign_refuses_an_invalid_document_naming_line_and_rule(
    dev_pki: PkiLayout, tmp_path: Path
) -> None:
    bad = tmp_path / "E09000022.xml"
    bad.write_text(LAMBETH_TEXT.read_text().replace("<Consent>given", "<Consent>implied", 1))
    result = irthub("policy", "sign", bad, *keys(dev_pki, LAMBETH))
    assert result.exit_code == 1
    assert "error: schema-invalid: " in result.stderr
    assert "rule d-s47: line " in result.stderr
    assert "implied" in result.stderr
    assert result.stdout_bytes == b""


def test_sign_refuses_a_signed_document(dev_pki: PkiLayout, tmp_path: Path) -> None:
    once = tmp_path / "once.xml"
    assert (
        irthub("policy", "sign", LAMBETH_TEXT, *keys(dev_pki, LAMBETH), "--out", once).exit_code
        == 0
    )
    result = irthub("policy", "sign", once, *keys(dev_pki, LAMBETH))
    assert result.exit_code == 1
    assert "the document is already signed; sign the unsigned text" in result.stderr


def test_sign_all_then_verify_and_test_the_signed_folder(
    dev_pki: PkiLayout, tmp_path: Path
) -> None:
    out = tmp_path / "signed"
    result = irthub("policy", "sign-all", "--pki", dev_pki.root, "--out", out)
    assert result.exit_code == 0, result.output
    assert "33 documents signed into" in result.output
    assert len(list(out.glob("E09*.xml"))) == 33
    assert len(list((out / "fixtures").glob("E09*.toml"))) == 33
    verify: list[str | Path] = [
        "policy",
        "verify",
        out,
        "--root",
        dev_pki.root_cert,
        "--crl",
        dev_pki.crl,
    ]
    result = irthub(*verify)
    assert result.exit_code == 0, result.output
    assert "33 in force, 0 refused" in result.output
    digest = hashlib.sha256((out / "E09000022.xml").read_bytes()).hexdigest()
    assert f"isp-E09000022 version 1, signed by E09000022, sha256 {digest}" in result.output
    tested = irthub("policy", "test", out, "--on", "2026-11-24")
    assert tested.exit_code == 0, tested.output
    # One byte of policy changed after signing: that authority drops out.
    target = out / "E09000022.xml"
    target.write_bytes(
        target.read_bytes().replace(b"<MaxLevel>existence<", b"<MaxLevel>details<", 1)
    )
    result = irthub(*verify)
    assert result.exit_code == 1
    assert (
        f"refused: {target}: {target}: the signed content was changed after signing"
        in result.output
    )
    assert "32 in force, 1 refused" in result.output


def test_verify_refuses_the_unsigned_texts(dev_pki: PkiLayout) -> None:
    result = irthub("policy", "verify", PROTOCOLS, "--root", dev_pki.root_cert)
    assert result.exit_code == 1
    assert "0 in force, 33 refused" in result.output
    assert "E09000001.xml: document is not signed" in result.output


def test_sign_all_never_overwrites_the_texts(dev_pki: PkiLayout, tmp_path: Path) -> None:
    texts = tmp_path / "texts"
    shutil.copytree(PROTOCOLS, texts, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    before = (texts / "E09000022.xml").read_bytes()
    result = irthub(
        "policy", "sign-all", "--pki", dev_pki.root, "--protocols", texts, "--out", texts
    )
    assert result.exit_code == 2
    assert "would overwrite the unsigned texts" in result.output
    assert (texts / "E09000022.xml").read_bytes() == before
