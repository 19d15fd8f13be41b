"""One message's evidence bundle: export, verify offline, and refuse every altered part."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.serialization import Encoding

from hub.pki.layout import PkiLayout
from hub.storage.log_folder import open_sqlite_log
from irthub.cli import main
from tests.support.audited_log import Audited, build_audited_log
from tests.support.signed_messages import SignerFor


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, signer_for: SignerFor, dev_pki: PkiLayout
) -> Audited:
    return build_audited_log(tmp_path_factory.mktemp("bundled"), signer_for, dev_pki)


@pytest.fixture
def audited(built: Audited, tmp_path: Path) -> Audited:
    shutil.copytree(built.log_dir, tmp_path / "log")
    return built.moved_to(tmp_path / "log")


def _message_id(audited: Audited, index: int) -> str:
    log = open_sqlite_log(audited.log_dir, read_only=True)
    message_id = log.entry(index).message_id
    log.close()
    return message_id


def _export(audited: Audited, index: int, out: Path) -> Result:
    args = ["audit", "export", _message_id(audited, index), "--log", str(audited.log_dir)]
    return CliRunner().invoke(main, [*args, "--out", str(out)])


def _verify(audited: Audited, bundle: Path, *, quorum: int = 1) -> Result:
    args = ["audit", "verify-bundle", str(bundle), *audited.trust_args(quorum=quorum)]
    return CliRunner().invoke(main, args)


def test_a_bundle_proves_its_message_offline(audited: Audited, tmp_path: Path) -> None:
    bundle = tmp_path / "evidence.zip"
    made = _export(audited, 12, bundle)
    assert made.exit_code == 0, made.output
    assert "(leaf 12)" in made.stdout
    with zipfile.ZipFile(bundle) as archive:
        assert set(archive.namelist()) == {
            "bundle.json",
            "leaf.json",
            "message.xml",
            "chain.pem",
            "checkpoint.txt",
        }
    result = _verify(audited, bundle, quorum=2)
    assert result.exit_code == 0, result.output
    assert "logged at:" in result.stdout
    assert "as leaf 12" in result.stdout
    assert "included in: checkpoint of size 30 signed by london-irt.hub/log" in result.stdout
    assert "cosigned by: w0.irt.london.example, w1.irt.london.example" in result.stdout
    assert "signature:   valid, by E09000022" in result.stdout
    assert result.stdout.endswith("bundle verified: OK\n")
    # The log directory was only read.
    shutil.rmtree(audited.log_dir)
    assert _verify(audited, bundle).exit_code == 0


def test_a_pruned_message_bundle_proves_the_leaf_and_says_why(
    audited: Audited, tmp_path: Path
) -> None:
    log = open_sqlite_log(audited.log_dir)
    log.prune(range(3, 4), "R-90-DAYS")
    log.close()
    bundle = tmp_path / "pruned.zip"
    assert _export(audited, 3, bundle).exit_code == 0
    with zipfile.ZipFile(bundle) as archive:
        assert "message.xml" not in archive.namelist()
    result = _verify(audited, bundle)
    assert result.exit_code == 0, result.output
    assert "pruned by retention rule R-90-DAYS" in result.stdout


def _rewrite(bundle: Path, name: str, change: Callable[[bytes], bytes], out: Path) -> Path:
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            data = source.read(item)
            target.writestr(item, change(data) if item == name else data)
        if name not in source.namelist():
            target.writestr(name, change(b""))
    return out


def _flip_middle(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]


def _other_index(data: bytes) -> bytes:
    manifest = json.loads(data)
    manifest["index"] = 11
    return json.dumps(manifest).encode()


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        ("message.xml", _flip_middle, "message.xml: "),
        (
            "leaf.json",
            lambda d: d.replace(b'"v":1', b'"v":1 '),
            "leaf.json: leaf is not in canonical",
        ),
        ("leaf.json", lambda d: d.replace(b"E09000028", b"E09000001"), "inclusion proof: "),
        ("bundle.json", _other_index, "inclusion proof: "),
        ("checkpoint.txt", _flip_middle, "checkpoint.txt: "),
        ("chain.pem", lambda _: b"", "chain.pem: "),
        ("extra.txt", lambda _: b"hello", "unexpected or repeated files"),
    ],
)
def test_every_altered_part_is_named(
    audited: Audited,
    tmp_path: Path,
    name: str,
    change: Callable[[bytes], bytes],
    reason: str,
) -> None:
    bundle = tmp_path / "evidence.zip"
    assert _export(audited, 12, bundle).exit_code == 0
    altered = _rewrite(bundle, name, change, tmp_path / "altered.zip")
    result = _verify(audited, altered)
    assert result.exit_code == 1, result.output
    assert reason in result.stderr


def test_a_chain_that_did_not_sign_the_message_is_refused(
    audited: Audited, tmp_path: Path, signer_for: SignerFor
) -> None:
    bundle = tmp_path / "evidence.zip"
    assert _export(audited, 12, bundle).exit_code == 0
    stranger = signer_for("E09000001").certificate.public_bytes(Encoding.PEM)
    altered = _rewrite(bundle, "chain.pem", lambda _: stranger, tmp_path / "altered.zip")
    result = _verify(audited, altered)
    assert result.exit_code == 1
    assert "chain.pem: its first certificate did not sign message.xml" in result.stderr


def test_a_quorum_the_checkpoint_lacks_is_refused(audited: Audited, tmp_path: Path) -> None:
    connection = sqlite3.connect(audited.db)
    with connection:
        connection.execute("DELETE FROM log_cosignature WHERE witness LIKE 'w1%'")
    connection.close()
    bundle = tmp_path / "evidence.zip"
    assert _export(audited, 0, bundle).exit_code == 0
    result = _verify(audited, bundle, quorum=2)
    assert result.exit_code == 1
    assert "cosigned by 1 configured witnesses, the quorum is 2" in result.stderr


def test_export_refuses_what_it_cannot_prove(audited: Audited, tmp_path: Path) -> None:
    unknown = CliRunner().invoke(
        main,
        [
            "audit", "export", "urn:uuid:00000000-0000-4000-8000-000000000000",
            "--log", str(audited.log_dir), "--out", str(tmp_path / "x.zip"),
        ],
    )  # fmt: skip
    assert unknown.exit_code == 1
    assert "is not in the log" in unknown.stderr
    log = open_sqlite_log(audited.log_dir)
    raw = log.message(0)
    assert isinstance(raw, bytes)
    log.append_many([(log.entry(0), raw)])
    log.close()
    uncovered = CliRunner().invoke(
        main,
        [
            "audit", "export", _message_id(audited, 0), "--index", "30",
            "--log", str(audited.log_dir), "--out", str(tmp_path / "y.zip"),
        ],
    )  # fmt: skip
    assert uncovered.exit_code == 1
    assert "no checkpoint covers leaf 30 yet" in uncovered.stderr
    bundle = tmp_path / "z.zip"
    bundle.write_bytes(b"")
    exists = _export(audited, 1, bundle)
    assert exists.exit_code == 1
    assert "already exists" in exists.stderr
