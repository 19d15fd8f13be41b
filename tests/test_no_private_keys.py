"""No private key is ever committed (certs/README.md).

Development keys live in ``certs/dev/`` or a ``--dir`` of the developer's
choosing, as ``*.key`` files that ``.gitignore`` ignores; test keys are made
in temporary folders. This guard reads every tracked file, text or binary,
for a PEM private key block (PKCS#8, traditional RSA/EC, encrypted, OpenSSH)
and refuses key-store file names and anything under ``certs/dev/``.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.support.paths import REPO

# A BEGIN line naming a private key, then base64 within a few header lines
# (encrypted traditional PEM has Proc-Type and DEK-Info first). A PEM marker
# quoted in code is followed by a quote, not by a key.
_PEM_KEY = re.compile(
    rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----\r?\n[\s\S]{0,200}?[A-Za-z0-9+/]{40}"
)
_KEY_STORES = (".key", ".p12", ".pfx", ".jks", ".p8")


def _holds_private_key(data: bytes) -> bool:
    return _PEM_KEY.search(data) is not None


@pytest.fixture(scope="module")
def tracked() -> list[str]:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    return [name for name in listed.split("\0") if name]


def test_no_tracked_file_holds_a_private_key(tracked: list[str]) -> None:
    offenders = [
        name
        for name in tracked
        if (REPO / name).is_file() and _holds_private_key((REPO / name).read_bytes())
    ]
    assert offenders == []


def test_no_key_store_or_development_pki_is_tracked(tracked: list[str]) -> None:
    offenders = [
        name for name in tracked if name.endswith(_KEY_STORES) or name.startswith("certs/dev/")
    ]
    assert offenders == []


def test_git_ignores_what_irthub_pki_writes() -> None:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    paths = ["certs/dev/root-ca.pem", "certs/dev/E09000022/signing.key", "dev-pki/root-ca.key"]
    # check-ignore exits 1 when nothing is ignored; the assertion says which.
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *paths],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert ignored == paths


def _pkcs8(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.mark.parametrize(
    "pem",
    [
        _pkcs8(ec.generate_private_key(ec.SECP256R1())),
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
        rsa.generate_private_key(65537, 2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.BestAvailableEncryption(b"passphrase"),
        ),
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        ),
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        ),
    ],
    ids=["pkcs8", "traditional-ec", "encrypted-rsa", "encrypted-pkcs8", "openssh"],
)
def test_the_guard_finds_every_kind_of_pem_key(pem: bytes) -> None:
    # Embedded in other text too: a key pasted into a document is still a key.
    assert _holds_private_key(pem)
    assert _holds_private_key(b"notes\r\n" + pem.replace(b"\n", b"\r\n") + b"more notes")


def test_the_guard_ignores_a_quoted_pem_marker() -> None:
    quoted = b'assert key.startswith(b"-----BEGIN PRIVATE KEY-----")\n' + b"A" * 80
    assert not _holds_private_key(quoted)
