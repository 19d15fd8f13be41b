"""The ``/v1/log/*`` endpoints through aiohttp's test client: proofs, checkpoint, cosignatures."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub.log.checkpoint import open_note
from hub.log.checkpointer import Checkpointer
from hub.log.cosignature import cosign
from hub.log.entry import LogEntry
from hub.log.merkle import leaf_hash, verify_consistency, verify_inclusion
from hub.log.message_log import MessageLog
from hub.log.note import NoteSigner, generate_cosigner_key, parse_note
from hub.log.routes import MAX_COSIGNATURE_BYTES, WitnessKeys, setup_log
from hub.storage.log_folder import open_sqlite_log
from tests.support.signed_messages import SignerFor, sample_messages

CREATED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
Client = TestClient[web.Request, web.Application]


@pytest.fixture(scope="module")
def messages(signer_for: SignerFor) -> list[tuple[LogEntry, bytes]]:
    return sample_messages(signer_for, CREATED)


@pytest.fixture(scope="module")
def witness_keys() -> list[NoteSigner]:
    return [NoteSigner.from_key_text(generate_cosigner_key(f"w{n}.example")[0]) for n in range(2)]


@pytest.fixture
def log(tmp_path: Path) -> MessageLog:
    # The application's cleanup closes it.
    return open_sqlite_log(tmp_path / "log")


@pytest.fixture
async def client(log: MessageLog, witness_keys: list[NoteSigner]) -> AsyncIterator[Client]:
    app = web.Application()
    setup_log(app, log, witnesses=WitnessKeys(tuple(w.verifier for w in witness_keys)))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def _hashes(answer: dict[str, object]) -> list[bytes]:
    hashes = answer["hashes"]
    assert isinstance(hashes, list)
    return [base64.b64decode(h) for h in hashes]


async def test_no_checkpoint_yet_is_404_json(client: Client) -> None:
    answer = await client.get("/v1/log/checkpoint")
    assert answer.status == 404
    assert (await answer.json())["error"] == "no-checkpoint"


async def test_proofs_verify_against_the_signed_checkpoint(
    client: Client,
    log: MessageLog,
    log_signer: NoteSigner,
    messages: list[tuple[LogEntry, bytes]],
) -> None:
    log.append_many(messages[:6])
    Checkpointer(log=log, signer=log_signer).sign_now()
    log.append_many(messages[6:])
    Checkpointer(log=log, signer=log_signer).sign_now()
    answer = await client.get("/v1/log/checkpoint")
    assert answer.status == 200
    assert answer.content_type == "text/plain"
    checkpoint = open_note(await answer.read(), required=log_signer.verifier).checkpoint
    size = checkpoint.size
    assert size == len(messages)
    inclusion = await (await client.get(f"/v1/log/inclusion?index=3&size={size}")).json()
    assert (inclusion["index"], inclusion["tree_size"]) == (3, size)
    leaf = leaf_hash(log.leaf(3))
    verify_inclusion(leaf, 3, size, _hashes(inclusion), checkpoint.root_hash)
    consistency = await (await client.get(f"/v1/log/consistency?first=6&second={size}")).json()
    verify_consistency(6, size, _hashes(consistency), log.root(6), checkpoint.root_hash)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("inclusion?size=4", "'index' must be given exactly once"),
        ("inclusion?index=1&index=2&size=4", "'index' must be given exactly once"),
        ("inclusion?index=-1&size=4", "without sign or leading zeros"),
        ("inclusion?index=01&size=4", "without sign or leading zeros"),
        ("inclusion?index=abc&size=4", "without sign or leading zeros"),
        ("inclusion?index=1&size=99999999999999999999", "without sign or leading zeros"),
        ("inclusion?index=1&size=9999999999999999999", "exceeds"),
        ("inclusion?index=4&size=4", "not inside a tree of 4"),
        ("inclusion?index=0&size=5", "outside the log of 4 leaves"),
        ("consistency?first=3&second=2", "cannot extend a tree of 3"),
        ("consistency?first=1&second=5", "outside the log of 4 leaves"),
        ("consistency?first=1", "'second' must be given exactly once"),
    ],
)
async def test_bad_parameters_are_400_with_a_json_reason(
    client: Client,
    log: MessageLog,
    messages: list[tuple[LogEntry, bytes]],
    query: str,
    reason: str,
) -> None:
    log.append_many(messages[:4])
    answer = await client.get(f"/v1/log/{query}")
    assert answer.status == 400
    error = await answer.json()
    assert error["error"] == "schema-invalid"
    assert reason in error["reason"]


async def test_witness_cosignatures_are_verified_stored_and_served(
    client: Client,
    log: MessageLog,
    log_signer: NoteSigner,
    witness_keys: list[NoteSigner],
    messages: list[tuple[LogEntry, bytes]],
) -> None:
    log.append_many(messages[:3])
    note = Checkpointer(log=log, signer=log_signer).sign_now().note
    text = parse_note(note).text
    cosigned = text + b"\n" + cosign(text, witness_keys[0], timestamp=1_800_000_000)
    stored = await client.post("/v1/log/cosignature", data=cosigned)
    assert stored.status == 200
    assert await stored.json() == {"size": 3, "stored": 1, "already_held": 0}
    again = await client.post("/v1/log/cosignature", data=cosigned)
    assert (await again.json())["already_held"] == 1
    served = await (await client.get("/v1/log/checkpoint")).read()
    opened = open_note(served, [w.verifier for w in witness_keys], required=log_signer.verifier)
    assert [c.name for c in opened.cosignatures] == [witness_keys[0].name]


async def test_cosignatures_that_do_not_hold_are_refused(
    client: Client,
    log: MessageLog,
    log_signer: NoteSigner,
    witness_keys: list[NoteSigner],
    messages: list[tuple[LogEntry, bytes]],
) -> None:
    log.append_many(messages[:3])
    text = parse_note(Checkpointer(log=log, signer=log_signer).sign_now().note).text
    stranger = NoteSigner.from_key_text(generate_cosigner_key("stranger.example")[0])
    line = cosign(text, witness_keys[1], timestamp=5)
    forged = line[:-10] + (b"A" if line[-10:-9] != b"A" else b"B") + line[-9:]
    other = text.replace(text.splitlines()[2], base64.b64encode(bytes(32)))
    cases = [
        (text + b"\n" + cosign(text, stranger, timestamp=5), 403, "no cosignature by a configured"),
        (text + b"\n" + forged, 403, "does not verify"),
        (other + b"\n" + cosign(other, witness_keys[1], timestamp=5), 403, "is not the one"),
        (b"not a note", 403, "no blank line"),
        (text.replace(b"\n3\n", b"\n2\n") + b"\n" + line, 400, "no checkpoint of size 2"),
        (b"x" * (MAX_COSIGNATURE_BYTES + 1), 413, "at most"),
    ]
    for body, status, reason in cases:
        answer = await client.post("/v1/log/cosignature", data=body)
        assert answer.status == status, (reason, await answer.text())
        assert reason in (await answer.json())["reason"]
    assert log.cosignatures(3) == []


async def test_setup_log_runs_the_checkpointer_with_the_app(
    tmp_path: Path, log_signer: NoteSigner, messages: list[tuple[LogEntry, bytes]]
) -> None:
    log = open_sqlite_log(tmp_path / "app-log")
    app = web.Application()
    checkpointer = Checkpointer(log=log, signer=log_signer, interval=60)
    setup_log(app, log, witnesses=WitnessKeys(), checkpointer=checkpointer)
    async with TestClient(TestServer(app)) as test_client:
        first = await (await test_client.get("/v1/log/checkpoint")).read()
        assert open_note(first, required=log_signer.verifier).checkpoint.size == 0
        await log.append(*messages[0])
    # Shutdown signed a last checkpoint covering the append, then closed the log.
    reopened = open_sqlite_log(tmp_path / "app-log", read_only=True)
    latest = reopened.latest_checkpoint()
    assert latest is not None
    assert latest.size == 1
    signed = open_note(latest.note, required=log_signer.verifier).checkpoint
    assert signed.root_hash == reopened.root(1)
    reopened.close()
