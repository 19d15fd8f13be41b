"""``irthub audit verify`` on a real log, and every tampering it must name precisely."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hub.log.audit import AuditTrust, audit_log
from hub.log.checkpoint import Checkpoint, sign_checkpoint
from hub.log.cosignature import cosign
from hub.log.evidence import CrlTimeline, MessageChecker
from hub.log.keyfiles import load_verifier
from hub.log.message_log import MessageLog
from hub.log.note import NoteSigner, generate_log_key, parse_note, signature_line
from hub.pki.layout import PkiLayout
from hub.storage.log_folder import open_sqlite_log
from hub.storage.sqlite.log import SqliteLogStorage
from irthub.cli import main
from tests.support.audited_log import Audited, build_audited_log, rebuild_tree, resign_checkpoints
from tests.support.signed_messages import SignerFor


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, signer_for: SignerFor, dev_pki: PkiLayout
) -> Audited:
    return build_audited_log(tmp_path_factory.mktemp("audited"), signer_for, dev_pki)


@pytest.fixture
def audited(built: Audited, tmp_path: Path) -> Audited:
    """A private copy of the built log, free to tamper with."""
    shutil.copytree(built.log_dir, tmp_path / "log")
    return built.moved_to(tmp_path / "log")


def _verify(audited: Audited, *, quorum: int = 1) -> Result:
    args = ["audit", "verify", "--log", str(audited.log_dir), *audited.trust_args(quorum=quorum)]
    return CliRunner().invoke(main, args)


def _sql(audited: Audited, *statements: tuple[str, tuple[object, ...]]) -> None:
    connection = sqlite3.connect(audited.db)
    with connection:
        for statement, parameters in statements:
            connection.execute(statement, parameters)
    connection.close()


def _one(audited: Audited, query: str, *parameters: object) -> bytes:
    connection = sqlite3.connect(audited.db)
    (value,) = connection.execute(query, parameters).fetchone()
    connection.close()
    return bytes(value)


def test_an_untouched_log_verifies_with_a_summary(audited: Audited) -> None:
    result = _verify(audited, quorum=2)
    assert result.exit_code == 0, result.output
    assert "leaves:               30" in result.stdout
    assert "messages verified:    30" in result.stdout
    assert "checkpoints verified: 3 (latest covers 30)" in result.stdout
    assert "cosignatures:         3 verified" in result.stdout
    assert "witnessed by quorum:  leaves 0..29" in result.stdout
    assert result.stdout.endswith("log verified: OK\n")


def test_a_folder_of_crls_is_the_crl_history(audited: Audited, dev_pki: PkiLayout) -> None:
    args = audited.trust_args(quorum=2)
    args[args.index("--crl") + 1] = str(dev_pki.crl_history)
    result = CliRunner().invoke(main, ["audit", "verify", "--log", str(audited.log_dir), *args])
    assert result.exit_code == 0, result.output
    assert "messages verified:    30" in result.stdout


def test_a_folder_without_crls_is_refused(audited: Audited, tmp_path: Path) -> None:
    args = audited.trust_args()
    args[args.index("--crl") + 1] = str(tmp_path)
    result = CliRunner().invoke(main, ["audit", "verify", "--log", str(audited.log_dir), *args])
    assert result.exit_code == 2
    assert f"{tmp_path} holds no CRL (*.pem)" in result.output


def test_pruned_messages_are_reported_as_pruned_not_as_failures(audited: Audited) -> None:
    log = open_sqlite_log(audited.log_dir)
    log.prune(range(0, 4), "R-90-DAYS")
    log.close()
    result = _verify(audited)
    assert result.exit_code == 0, result.output
    assert "messages verified:    26" in result.stdout
    assert "messages pruned:      4 (4 by rule R-90-DAYS)" in result.stdout


def test_leaves_after_the_latest_checkpoint_are_reported(audited: Audited) -> None:
    log = open_sqlite_log(audited.log_dir)
    log.append_many([(log.entry(0), _raw(log, 0)), (log.entry(1), _raw(log, 1))])
    log.close()
    result = _verify(audited)
    assert result.exit_code == 0, result.output
    assert "not yet checkpointed: 2 newest leaves" in result.stdout


def _raw(log: MessageLog, index: int) -> bytes:
    raw = log.message(index)
    assert isinstance(raw, bytes)
    return raw


def test_export_log_makes_a_copy_the_auditor_can_verify(audited: Audited, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    made = CliRunner().invoke(
        main, ["audit", "export-log", "--db", str(audited.db), "--out", str(out)]
    )
    assert made.exit_code == 0, made.output
    assert {p.name for p in out.iterdir()} == {"log.sqlite"}
    result = _verify(audited.moved_to(out))
    assert result.exit_code == 0, result.output


# ------------------------------------------------------------------ tampering


def _flip_message_byte(audited: Audited) -> None:
    raw = bytearray(_one(audited, "SELECT raw FROM log_message WHERE idx = 12"))
    raw[len(raw) // 2] ^= 0x01
    _sql(audited, ("UPDATE log_message SET raw = ? WHERE idx = 12", (bytes(raw),)))


def _delete_message(audited: Audited) -> None:
    _sql(audited, ("DELETE FROM log_message WHERE idx = 7", ()))


def _delete_leaf(audited: Audited) -> None:
    _sql(
        audited,
        ("DELETE FROM log_leaf WHERE idx = 15", ()),
        ("DELETE FROM log_message WHERE idx = 15", ()),
    )


def _swap_leaves(audited: Audited) -> None:
    # Leaves and their messages trade places: each message still matches its leaf.
    _sql(
        audited,
        ("UPDATE log_leaf SET idx = -1 WHERE idx = 3", ()),
        ("UPDATE log_leaf SET idx = 3 WHERE idx = 4", ()),
        ("UPDATE log_leaf SET idx = 4 WHERE idx = -1", ()),
        ("UPDATE log_message SET idx = -1 WHERE idx = 3", ()),
        ("UPDATE log_message SET idx = 3 WHERE idx = 4", ()),
        ("UPDATE log_message SET idx = 4 WHERE idx = -1", ()),
    )


def _swap_leaves_and_rebuild_tree(audited: Audited) -> None:
    _swap_leaves(audited)
    rebuild_tree(audited.db)


def _swap_leaves_rebuild_and_resign(audited: Audited) -> None:
    # Even the log's own key cannot make the witnesses' cosignatures fit.
    _swap_leaves_and_rebuild_tree(audited)
    resign_checkpoints(audited.db, audited.log_signer)


def _rewrite_leaf_metadata(audited: Audited) -> None:
    leaf = _one(audited, "SELECT leaf FROM log_leaf WHERE idx = 5")
    _sql(
        audited,
        (
            "UPDATE log_leaf SET leaf = ? WHERE idx = 5",
            (leaf.replace(b'"qualifier":"request"', b'"qualifier":"notification"'),),
        ),
    )
    rebuild_tree(audited.db)
    resign_checkpoints(audited.db, audited.log_signer)
    _sql(audited, ("DELETE FROM log_cosignature", ()))


def _truncate(audited: Audited) -> None:
    _sql(
        audited,
        ("DELETE FROM log_leaf WHERE idx >= 25", ()),
        ("DELETE FROM log_message WHERE idx >= 25", ()),
    )
    rebuild_tree(audited.db)


def _truncate_leaves_only(audited: Audited) -> None:
    _sql(
        audited,
        ("DELETE FROM log_leaf WHERE idx >= 25", ()),
        ("DELETE FROM log_message WHERE idx >= 25", ()),
    )


def _add_leaf_outside_the_tree(audited: Audited) -> None:
    leaf = _one(audited, "SELECT leaf FROM log_leaf WHERE idx = 29")
    raw = _one(audited, "SELECT raw FROM log_message WHERE idx = 29")
    _sql(
        audited,
        ("INSERT INTO log_leaf VALUES (30, ?, 'urn:uuid:x')", (leaf,)),
        ("INSERT INTO log_message VALUES (30, ?)", (raw,)),
    )


def _forge_checkpoint_signature(audited: Audited) -> None:
    impostor = NoteSigner.from_key_text(generate_log_key(audited.log_signer.name)[0])
    log = open_sqlite_log(audited.log_dir)
    forged = sign_checkpoint(Checkpoint(impostor.name, 20, log.root(20)), impostor)
    log.close()
    _sql(audited, ("UPDATE log_checkpoint SET note = ? WHERE size = 20", (forged,)))


def _flip_checkpoint_signature(audited: Audited) -> None:
    note = parse_note(_one(audited, "SELECT note FROM log_checkpoint WHERE size = 10"))
    (signature,) = note.signatures
    flipped = bytes([signature.signature[0] ^ 1]) + signature.signature[1:]
    forged = note.text + b"\n" + signature_line(signature.name, signature.key_id, flipped)
    _sql(audited, ("UPDATE log_checkpoint SET note = ? WHERE size = 10", (forged,)))


def _replace_cosignature(audited: Audited) -> None:
    witness = audited.witness_signers[1]
    note = _one(audited, "SELECT note FROM log_checkpoint WHERE size = 20")
    line = cosign(parse_note(note).text, witness, timestamp=1_800_000_000)
    _sql(
        audited,
        (
            "UPDATE log_cosignature SET line = ? WHERE size = 30 AND witness = ?",
            (line, witness.name),
        ),
    )


def _truncate_and_drop_checkpoints(audited: Audited) -> None:
    _truncate(audited)
    _sql(
        audited,
        ("DELETE FROM log_checkpoint WHERE size = 30", ()),
        ("DELETE FROM log_cosignature WHERE size = 30", ()),
    )


TAMPERING: dict[str, tuple[Callable[[Audited], None], str, int]] = {
    "one-stored-byte-changed": (
        _flip_message_byte,
        r"leaf 12: stored message bytes do not match the leaf's SHA-256 \(tampered or replaced\)",
        1,
    ),
    "message-deleted": (
        _delete_message,
        r"leaf 7: message bytes are missing and no retention rule pruned them \(deleted\)",
        1,
    ),
    "leaf-deleted": (
        _delete_leaf,
        r"leaf 15: missing from the log \(deleted; the next stored leaf is 16\)",
        1,
    ),
    "two-leaves-reordered": (
        _swap_leaves,
        r"leaf 3: its bytes hash to [0-9a-f]{64}, but the tree recorded [0-9a-f]{64} when it "
        r"was appended \(leaf rewritten or moved\)",
        1,
    ),
    "two-leaves-reordered-tree-rebuilt": (
        _swap_leaves_and_rebuild_tree,
        r"checkpoint of size 10: signed root [0-9a-f]{64}, but leaves 0\.\.9 hash to "
        r"[0-9a-f]{64}: a leaf in 0\.\.9 was changed, removed or reordered",
        1,
    ),
    "two-leaves-reordered-resigned-with-the-log-key": (
        _swap_leaves_rebuild_and_resign,
        r"checkpoint of size 20: cosignature by 'w0\.irt\.london\.example' \(key [0-9a-f]{8}\) "
        r"at time 1800000000 does not verify",
        1,
    ),
    "leaf-metadata-rewritten-and-resigned": (
        _rewrite_leaf_metadata,
        r"leaf 5: the leaf says Qualifier 'notification' but the signed message says 'request'",
        1,
    ),
    "log-truncated": (
        _truncate,
        r"checkpoint of size 30: the log holds only 25 leaves; leaves 25\.\.29 were removed "
        r"\(log truncated\)",
        1,
    ),
    "leaves-deleted-from-the-end": (
        _truncate_leaves_only,
        r"leaf 25: missing from the log \(deleted; the log's tree holds 30 leaves\)",
        1,
    ),
    "leaf-added-outside-the-tree": (
        _add_leaf_outside_the_tree,
        r"leaf 30: not in the log's tree, which holds 30 leaves \(added outside the tree\)",
        1,
    ),
    "log-truncated-with-its-checkpoints": (
        _truncate_and_drop_checkpoints,
        r"no checkpoint is cosigned by 2 of the 2 configured witnesses",
        2,
    ),
    "checkpoint-signed-by-another-key": (
        _forge_checkpoint_signature,
        r"checkpoint of size 20: checkpoint carries no signature by the log key "
        r"'london-irt\.hub/log'",
        1,
    ),
    "checkpoint-signature-altered": (
        _flip_checkpoint_signature,
        r"checkpoint of size 10: signature by 'london-irt\.hub/log' \(key [0-9a-f]{8}\) "
        r"does not verify",
        1,
    ),
    "cosignature-for-another-checkpoint": (
        _replace_cosignature,
        r"checkpoint of size 30: cosignature by 'w1\.irt\.london\.example' \(key [0-9a-f]{8}\) "
        r"at time 1800000000 does not verify",
        1,
    ),
}


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_tampering_is_detected_and_named(audited: Audited, name: str) -> None:
    tamper, reason, quorum = TAMPERING[name]
    tamper(audited)
    result = _verify(audited, quorum=quorum)
    assert result.exit_code == 1, result.output
    assert "log verified: OK" not in result.stdout
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith("error: signature-invalid: ")
    assert re.search(reason, line), line


def test_witness_keys_the_quorum_cannot_meet_are_refused(audited: Audited) -> None:
    result = _verify(audited, quorum=3)
    assert result.exit_code == 1
    assert "a quorum of 3 cannot be met by 2 witness keys" in result.stderr


def test_a_wrong_log_key_fails_at_the_first_checkpoint(audited: Audited, tmp_path: Path) -> None:
    other = tmp_path / "other.pub"
    other.write_text(generate_log_key("london-irt.hub/log")[1] + "\n")
    args = audited.trust_args()
    args[args.index("--log-key") + 1] = str(other)
    result = CliRunner().invoke(main, ["audit", "verify", "--log", str(audited.log_dir), *args])
    assert result.exit_code == 1
    assert "checkpoint of size 10: checkpoint carries no signature by the log key" in result.stderr


def test_a_log_growing_during_the_audit_is_audited_up_to_its_size_at_the_start(
    audited: Audited,
) -> None:
    writer = open_sqlite_log(audited.log_dir)
    reader = SqliteLogStorage(audited.db, read_only=True)
    trust = AuditTrust(
        checker=MessageChecker(CrlTimeline.from_files(audited.root, [audited.crl])),
        log_key=load_verifier(audited.log_key),
    )
    seen: list[int] = []

    def append_while_auditing(step: int) -> None:
        seen.append(step)
        if len(seen) == 10:
            writer.append_many([(writer.entry(n), _raw(writer, n)) for n in range(2)])

    summary = audit_log(reader, trust, progress=append_while_auditing)
    assert summary.leaves == 30
    assert summary.appended_since == 2
    assert "appended during audit: 2 leaves, not audited" in summary.lines()
    reader.close()
    writer.close()
