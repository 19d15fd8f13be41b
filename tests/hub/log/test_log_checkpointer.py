"""Signing checkpoints on demand and on a schedule; the key files and ``irthub log``."""

from __future__ import annotations

import asyncio
import contextlib
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.log.checkpoint import open_note
from hub.log.checkpointer import Checkpointer
from hub.log.entry import LogEntry
from hub.log.errors import LogKeyInvalid
from hub.log.keyfiles import (
    DEFAULT_LOG_ORIGIN,
    load_signer,
    load_verifier,
    load_witness_keys,
    write_key_pair,
)
from hub.log.message_log import MessageLog
from hub.log.note import NoteSigner, SignatureType, generate_cosigner_key, generate_log_key
from hub.storage.log_folder import open_sqlite_log
from irthub.cli import main
from tests.support.signed_messages import SignerFor, sample_messages

CREATED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture(scope="module")
def messages(signer_for: SignerFor) -> list[tuple[LogEntry, bytes]]:
    return sample_messages(signer_for, CREATED)


@pytest.fixture
def log(tmp_path: Path) -> Iterator[MessageLog]:
    opened = open_sqlite_log(tmp_path / "log")
    yield opened
    opened.close()


def test_sign_now_signs_only_when_the_log_grew(
    log: MessageLog, log_signer: NoteSigner, messages: list[tuple[LogEntry, bytes]]
) -> None:
    checkpointer = Checkpointer(log=log, signer=log_signer)
    empty = checkpointer.sign_now()
    assert empty.size == 0
    assert checkpointer.sign_now() == empty
    log.append_many(messages[:5])
    five = checkpointer.sign_now()
    opened = open_note(five.note, required=log_signer.verifier)
    assert opened.checkpoint.origin == log_signer.name
    assert opened.checkpoint.size == 5
    assert opened.checkpoint.root_hash == log.root(5)
    assert [c.size for c in log.checkpoints()] == [0, 5]


async def test_run_covers_new_leaves_within_an_interval(
    log: MessageLog, log_signer: NoteSigner, messages: list[tuple[LogEntry, bytes]]
) -> None:
    checkpointer = Checkpointer(log=log, signer=log_signer, interval=0.02)
    task = asyncio.create_task(checkpointer.run())
    await log.append(*messages[0])
    await log.append(*messages[1])
    for _ in range(200):
        latest = log.latest_checkpoint()
        if latest is not None and latest.size == 2:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()
    latest = log.latest_checkpoint()
    assert latest is not None
    assert latest.size == 2


def test_only_an_ed25519_log_key_and_a_sane_interval_are_accepted(log: MessageLog) -> None:
    witness_key = NoteSigner.from_key_text(generate_cosigner_key("w.example")[0])
    with pytest.raises(LogKeyInvalid, match="not an Ed25519 note key"):
        Checkpointer(log=log, signer=witness_key)
    log_key = NoteSigner.from_key_text(generate_log_key("l.example")[0])
    with pytest.raises(LogKeyInvalid, match="interval"):
        Checkpointer(log=log, signer=log_key, interval=0)


def test_key_pair_files_are_private_and_never_overwritten(tmp_path: Path) -> None:
    files = write_key_pair(tmp_path / "keys", DEFAULT_LOG_ORIGIN)
    assert stat.S_IMODE(files.signer.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.verifier.stat().st_mode) == 0o644
    signer = load_signer(files.signer)
    assert signer.name == DEFAULT_LOG_ORIGIN
    assert load_verifier(files.verifier) == signer.verifier
    with pytest.raises(LogKeyInvalid, match="refusing to overwrite"):
        write_key_pair(tmp_path / "keys", DEFAULT_LOG_ORIGIN)
    with pytest.raises(LogKeyInvalid, match="not COSIGNATURE_V1"):
        load_verifier(files.verifier, sig_type=SignatureType.COSIGNATURE_V1)
    with pytest.raises(LogKeyInvalid, match="cannot read key file"):
        load_signer(tmp_path / "missing.key")
    # No temporary file is left behind.
    assert {p.name for p in (tmp_path / "keys").iterdir()} == {"log.key", "log.pub"}


def test_witness_lists_name_the_bad_line(tmp_path: Path) -> None:
    one = generate_cosigner_key("one.example")[1]
    two = generate_cosigner_key("two.example")[1]
    listing = tmp_path / "witnesses.txt"
    listing.write_text(f"# boroughs\n{one}\n\n{two}\n")
    assert [k.name for k in load_witness_keys(listing)] == ["one.example", "two.example"]
    listing.write_text(f"{one}\n{one}\n")
    with pytest.raises(LogKeyInvalid, match=r"line 2: witness 'one\.example' is listed twice"):
        load_witness_keys(listing)
    listing.write_text(f"{one}\n{generate_log_key('log.example')[1]}\n")
    with pytest.raises(LogKeyInvalid, match=r"line 2: 'log\.example' is not a witness key"):
        load_witness_keys(listing)
    listing.write_text("garbage\n")
    with pytest.raises(LogKeyInvalid, match="line 1: a verifier key has the form"):
        load_witness_keys(listing)


def test_cli_keygen_and_checkpoint(tmp_path: Path, messages: list[tuple[LogEntry, bytes]]) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["log", "keygen", "--out", str(tmp_path / "keys")])
    assert made.exit_code == 0, made.output
    verifier = load_verifier(tmp_path / "keys" / "log.pub")
    assert verifier.key_text() in made.output
    again = runner.invoke(main, ["log", "keygen", "--out", str(tmp_path / "keys")])
    assert again.exit_code == 1
    assert "refusing to overwrite" in again.stderr
    witness = runner.invoke(
        main, ["log", "keygen", "--witness", "--name", "lambeth.example/w", "--out", str(tmp_path)]
    )
    assert witness.exit_code == 0, witness.output
    assert load_verifier(tmp_path / "witness.pub", sig_type=SignatureType.COSIGNATURE_V1)
    log = open_sqlite_log(tmp_path / "log")
    log.append_many(messages[:3])
    log.close()
    signed = runner.invoke(
        main,
        [
            "log",
            "checkpoint",
            "--log",
            str(tmp_path / "log"),
            "--key",
            str(tmp_path / "keys/log.key"),
        ],
    )
    assert signed.exit_code == 0, signed.output
    opened = open_note(signed.stdout.encode(), required=verifier)
    assert opened.checkpoint.size == 3
