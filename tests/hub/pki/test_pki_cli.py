"""``irthub pki`` through click's runner: exit codes, messages, and the files it leaves."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID

from hub.errors import CertificateExpired, CertificateRevoked
from hub.pki.issuing import load_registry
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from irthub.cli import main
from tests.support.pki_builders import LAMBETH, now


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["pki", *args])


def _ok(*args: str) -> str:
    result = _run(*args)
    assert result.exit_code == 0, result.output
    return result.output


def _refused(*args: str, code: int = 1) -> str:
    result = _run(*args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    return result.output


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture(scope="module")
def cli_pki(tmp_path_factory: pytest.TempPathFactory) -> PkiLayout:
    """One PKI made by ``irthub pki init`` for the tests that only read it."""
    directory = tmp_path_factory.mktemp("cli") / "pki"
    output = _ok("init", "--dir", str(directory))
    assert "[ 2/68] E09000001 City of London" in output
    assert "[68/68] HUB       London IRT Hub" in output
    return PkiLayout(directory)


def test_init_summary_names_what_it_wrote(cli_pki: PkiLayout) -> None:
    output = _ok("init", "--dir", str(cli_pki.root / "second"))
    assert "root CA" in output
    assert "ECDSA P-256" in output
    assert "CRL       " in output
    assert "number 1, no revocations" in output
    assert "(69 certificates)" in output
    assert "never commit them" in output


def test_init_refuses_an_existing_ca_without_force(cli_pki: PkiLayout) -> None:
    output = _refused("init", "--dir", str(cli_pki.root))
    assert "Error: " in output
    assert "already holds a CA" in output
    assert "pass --force" in output


def test_init_rsa_below_2048_is_refused_before_writing(tmp_path: Path) -> None:
    output = _refused("init", "--dir", str(tmp_path), "--key-type", "rsa", "--rsa-bits", "1024")
    assert "RSA keys of 1024 bits are refused" in output
    assert list(tmp_path.iterdir()) == []


def test_force_replaces_the_ca(tmp_path: Path) -> None:
    _ok("init", "--dir", str(tmp_path))
    old = _cert(PkiLayout(tmp_path).root_cert)
    _ok("init", "--dir", str(tmp_path), "--force")
    assert _cert(PkiLayout(tmp_path).root_cert) != old


def test_show_lists_every_certificate(cli_pki: PkiLayout) -> None:
    output = _ok("show", "--dir", str(cli_pki.root))
    lines = output.splitlines()
    assert lines[0].split() == ["SERIAL", "KIND", "PARTY", "NOT", "AFTER", "REVOKED"]
    lambeth = f"{_cert(cli_pki.signing_cert(LAMBETH)).serial_number:x}"
    row = next(line for line in lines if line.startswith(lambeth))
    assert row.split()[1:3] == ["signing", LAMBETH]
    assert row.endswith("  -")
    assert lines[-1] == "69 certificates, 0 revoked, last CRL number 1"


def test_rotation_then_revocation(tmp_path: Path) -> None:
    layout = PkiLayout(tmp_path)
    _ok("init", "--dir", str(tmp_path))
    old = _cert(layout.signing_cert(LAMBETH))
    output = _ok("issue", "--dir", str(tmp_path), "--authority", LAMBETH, "--kind", "signing")
    new = _cert(layout.signing_cert(LAMBETH))
    assert f"Issued signing certificate {new.serial_number:x} for E09000022 (Lambeth)" in output
    assert f"previous certificate {old.serial_number:x} stays valid until revoked" in output

    output = _ok(
        "revoke", "--dir", str(tmp_path), f"{old.serial_number:x}", "--reason", "superseded"
    )
    assert f"Revoked {old.serial_number:x} (signing certificate of E09000022, superseded)" in output
    assert "Wrote CRL number 2" in output
    store = TrustStore.from_files(layout.root_cert, layout.crl)
    with pytest.raises(CertificateRevoked, match=r"is revoked by the CRL .*superseded"):
        store.validate_chain(old, at=now(), now=now())
    assert store.validate_chain(new, at=now(), now=now()).authority == LAMBETH
    shown = _ok("show", "--dir", str(tmp_path))
    assert re.search(rf"^{old.serial_number:x} .* superseded$", shown, re.M)

    output = _ok("crl", "--dir", str(tmp_path), "--next-update-days", "2")
    assert "Wrote CRL number 3" in output
    assert f"revoked      {old.serial_number:x}" in output
    crl = x509.load_pem_x509_crl(layout.crl.read_bytes())
    assert crl.next_update_utc is not None
    assert crl.next_update_utc - crl.last_update_utc == timedelta(days=2)


def test_issue_an_expired_test_certificate(cli_pki: PkiLayout, tmp_path: Path) -> None:
    before = cli_pki.signing_cert(LAMBETH).read_bytes()
    output = _ok(
        "issue", "--dir", str(cli_pki.root), "--authority", LAMBETH, "--kind", "signing",
        "--not-before", "2020-01-01T00:00:00Z", "--not-after", "2021-01-01",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert "valid     2020-01-01T00:00:00+00:00 to 2021-01-01T00:00:00+00:00" in output
    assert cli_pki.signing_cert(LAMBETH).read_bytes() == before
    store = TrustStore.from_files(cli_pki.root_cert, cli_pki.crl)
    with pytest.raises(CertificateExpired, match=r"is not valid now .*it expired at 2021-01-01"):
        store.validate_chain(_cert(tmp_path / "signing.pem"), at=now(), now=now())


def test_issue_a_tls_certificate_with_names_and_rsa(cli_pki: PkiLayout, tmp_path: Path) -> None:
    _ok(
        "issue", "--dir", str(cli_pki.root), "--authority", "HUB", "--kind", "tls",
        "--host", "hub.irt.example", "--dns", "irt.london.example", "--days", "10",
        "--key-type", "rsa", "--rsa-bits", "2048", "--out", str(tmp_path),
    )  # fmt: skip
    cert = _cert(tmp_path / "tls.pem")
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [
        "localhost", "hub.irt.example", "irt.london.example",
    ]  # fmt: skip
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048
    assert load_registry(cli_pki).issued[-1].serial == cert.serial_number


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["issue", "--authority", "E09000034", "--kind", "tls"], 1,
         "'E09000034' is not a London authority code"),
        (["issue", "--authority", LAMBETH, "--kind", "tls", "--not-before", "soon"], 2,
         "'soon' is not an ISO 8601 time"),
        (["issue", "--authority", LAMBETH, "--kind", "tls", "--days", "5",
          "--not-after", "2030-01-01"], 1, "either a validity in days or an explicit notAfter"),
        (["issue", "--authority", LAMBETH, "--kind", "root"], 2, "'root' is not one of"),
        (["revoke", "abc123"], 1, "no certificate with serial abc123 was issued"),
        (["revoke", "not-hex"], 1, "'not-hex' is not a hexadecimal serial number"),
        (["revoke", "abc123", "--reason", "lost"], 2, "'lost' is not one of"),
        (["crl", "--next-update-days", "0"], 2, "0 is not in the range x>=1"),
    ],
    ids=["unknown-party", "bad-time", "days-and-not-after", "bad-kind", "unknown-serial",
         "bad-serial", "bad-reason", "zero-days"],
)  # fmt: skip
def test_refusals(cli_pki: PkiLayout, args: list[str], code: int, message: str) -> None:
    command, *rest = args
    assert message in _refused(command, "--dir", str(cli_pki.root), *rest, code=code)


def test_a_directory_without_a_ca(tmp_path: Path) -> None:
    assert "run init first" in _refused("show", "--dir", str(tmp_path))
    assert "run init first" in _refused("crl", "--dir", str(tmp_path))


@pytest.mark.parametrize("command", ["init", "issue", "revoke", "crl", "show"])
def test_every_command_has_help(command: str) -> None:
    output = _ok(command, "--help")
    assert "--dir" in output
    assert len(output.splitlines()) > 5


def test_the_group_help_lists_the_commands() -> None:
    output = _ok("--help")
    for command in ("init", "issue", "revoke", "crl", "show"):
        assert re.search(rf"^  {command} ", output, re.M), command


def test_the_pki_directory_defaults_to_certs_dev_in_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    output = _ok("init")
    assert "Wrote a development PKI to certs/dev:" in output
    layout = PkiLayout(tmp_path / "certs" / "dev")
    assert layout.root_cert.is_file()
    assert layout.signing_key(LAMBETH).stat().st_mode & 0o777 == 0o600
    assert _ok("show").splitlines()[-1] == "69 certificates, 0 revoked, last CRL number 1"
    # An explicit --dir still wins.
    _ok("init", "--dir", "elsewhere")
    assert PkiLayout(tmp_path / "elsewhere").root_cert.is_file()


@pytest.mark.parametrize("command", ["init", "show", "crl"])
def test_without_dir_outside_a_checkout_the_directory_must_be_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    output = _refused(command, code=2)
    assert "give --dir DIR: the default, certs/dev/, is used only from the root of a checkout" in (
        output
    )
    assert list(tmp_path.iterdir()) == []


def test_the_help_names_the_default_directory_and_the_profiles() -> None:
    assert "certs/dev in a checkout" in _ok("init", "--help")
    assert "certs/profiles/" in _ok("--help")


# ------------------------------------------------------------- CSR, encrypted keys


def _csr(key: PrivateKeyTypes, path: Path) -> Path:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "asks for anything")]))
        .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())  # type: ignore[arg-type]
    )
    path.write_bytes(request.public_bytes(serialization.Encoding.PEM))
    return path


def test_issue_from_a_csr_certifies_the_key_it_never_sees(
    fresh_pki: PkiLayout, tmp_path: Path
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = _csr(key, tmp_path / "lambeth.csr")
    out = tmp_path / "out"
    output = _ok(
        "issue", "--dir", str(fresh_pki.root), "--authority", LAMBETH, "--kind", "signing",
        "--csr", str(csr), "--out", str(out),
    )  # fmt: skip
    assert "the key stays with the holder of lambeth.csr" in output
    cert = _cert(out / "signing.pem")
    assert cert.public_key() == key.public_key()
    assert not (out / "signing.key").exists()
    # The profile, not the request, decides the subject.
    assert "asks for anything" not in cert.subject.rfc4514_string()
    trust = TrustStore.from_files(fresh_pki.root_cert, fresh_pki.crl)
    assert trust.validate_chain(cert, at=now(), now=now()).authority == LAMBETH


def test_a_csr_whose_signature_does_not_verify_is_refused(
    fresh_pki: PkiLayout, tmp_path: Path
) -> None:
    csr = _csr(ec.generate_private_key(ec.SECP256R1()), tmp_path / "forged.csr")
    der = bytearray(
        x509.load_pem_x509_csr(csr.read_bytes()).public_bytes(serialization.Encoding.DER)
    )
    der[-5] ^= 0x01  # inside the signature
    csr.write_bytes(bytes(der))
    output = _refused(
        "issue", "--dir", str(fresh_pki.root), "--authority", LAMBETH, "--kind", "signing",
        "--csr", str(csr), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert "does not verify with the key it carries: whoever made it does not hold" in output
    assert not (tmp_path / "out" / "signing.pem").exists()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505 (refused)
            "an RSA key of 1024 bits; at least 2048",
        ),
        (ed25519.Ed25519PrivateKey.generate(), "ECDSA or RSA keys only"),
    ],
    ids=["rsa-1024", "ed25519"],
)
def test_a_csr_for_a_key_the_profile_refuses_is_refused(
    fresh_pki: PkiLayout, tmp_path: Path, key: PrivateKeyTypes, message: str
) -> None:
    csr = _csr(key, tmp_path / "weak.csr")
    output = _refused(
        "issue", "--dir", str(fresh_pki.root), "--authority", LAMBETH, "--kind", "signing",
        "--csr", str(csr), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert message in output


def _encrypt_root_key(pki: PkiLayout, password: bytes) -> None:
    key = serialization.load_pem_private_key(pki.root_key.read_bytes(), password=None)
    pki.root_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )
    )


def test_an_encrypted_root_key_is_read_with_its_password(fresh_pki: PkiLayout) -> None:
    _encrypt_root_key(fresh_pki, b"correct horse")
    directory = str(fresh_pki.root)
    runner = CliRunner()
    by_env = runner.invoke(
        main,
        ["pki", "crl", "--dir", directory, "--key-password-env", "IRT_ROOT_PASSWORD"],
        env={"IRT_ROOT_PASSWORD": "correct horse"},
    )
    assert by_env.exit_code == 0, by_env.output
    assert "Wrote CRL number 2" in by_env.output
    asked = runner.invoke(main, ["pki", "crl", "--dir", directory], input="correct horse\n")
    assert asked.exit_code == 0, asked.output
    assert "Password of" in asked.output
    assert "Wrote CRL number 3" in asked.output


def test_a_wrong_or_missing_password_is_refused_plainly(fresh_pki: PkiLayout) -> None:
    _encrypt_root_key(fresh_pki, b"correct horse")
    directory = str(fresh_pki.root)
    wrong = CliRunner().invoke(
        main,
        ["pki", "crl", "--dir", directory, "--key-password-env", "IRT_ROOT_PASSWORD"],
        env={"IRT_ROOT_PASSWORD": "battery staple"},
    )
    assert wrong.exit_code == 1
    assert "is the password right?" in wrong.output
    unset = CliRunner().invoke(
        main, ["pki", "crl", "--dir", directory, "--key-password-env", "IRT_NOT_SET_ANYWHERE"]
    )
    assert unset.exit_code == 2
    assert "--key-password-env IRT_NOT_SET_ANYWHERE: that variable is not set" in unset.output
    assert "Traceback" not in wrong.output + unset.output
