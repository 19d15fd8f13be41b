"""A borough witnessing the hub's log over HTTP: honest growth, forks, rollbacks, forgeries."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.witness.client import (
    ALARM_KIND,
    HttpLogFetch,
    LogFetch,
    WitnessClient,
    WitnessStateFile,
)
from adapters.witness.cosigning import Witness, WitnessState
from hub.clock import FixedClock
from hub.errors import RecipientUnavailable
from hub.log.checkpointer import Checkpointer
from hub.log.entry import LogEntry
from hub.log.errors import CheckpointInconsistent, LogStoreError, NoteSignatureInvalid
from hub.log.message_log import MessageLog
from hub.log.note import NoteSigner, generate_log_key
from hub.log.routes import WitnessKeys, setup_log
from hub.metrics import Metrics
from hub.storage.log_folder import open_sqlite_log
from tests.support.signed_messages import SignerFor, sample_messages

CREATED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
Serve = Callable[[MessageLog], Awaitable[HttpLogFetch]]


@pytest.fixture(scope="module")
def messages(signer_for: SignerFor) -> list[tuple[LogEntry, bytes]]:
    return sample_messages(signer_for, CREATED)


@pytest.fixture
async def serve(witness_signer: NoteSigner) -> AsyncIterator[Serve]:
    """``serve(log)``: a hub log endpoint for ``log``, and a fetch pointed at it."""
    session = aiohttp.ClientSession()
    servers: list[TestServer] = []

    async def start(log: MessageLog) -> HttpLogFetch:
        app = web.Application()
        setup_log(app, log, witnesses=WitnessKeys((witness_signer.verifier,)))
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        return HttpLogFetch(session, str(server.make_url("")).rstrip("/"))

    yield start
    for server in servers:
        await server.close()
    await session.close()


@dataclass
class _Alarms:
    metrics: Metrics

    def __call__(self, kind: str, reason: str) -> None:
        self.metrics.alarms.labels(kind).inc()

    def count(self) -> float:
        value = self.metrics.registry.get_sample_value("irt_alarms_total", {"kind": ALARM_KIND})
        return value or 0.0


def _log(
    path: Path, signer: NoteSigner, items: list[tuple[LogEntry, bytes]]
) -> tuple[MessageLog, Checkpointer]:
    log = open_sqlite_log(path)
    log.append_many(items)
    checkpointer = Checkpointer(log=log, signer=signer)
    checkpointer.sign_now()
    return log, checkpointer


def _client(
    fetch: LogFetch, state: Path, log_signer: NoteSigner, witness_signer: NoteSigner
) -> tuple[WitnessClient, _Alarms]:
    alarms = _Alarms(Metrics())
    witness = Witness(
        signer=witness_signer, log=log_signer.verifier, clock=FixedClock(datetime.now(UTC))
    )
    client = WitnessClient(
        witness=witness,
        fetch=fetch,
        state_file=WitnessStateFile(state),
        origin=log_signer.name,
        on_alarm=alarms,
    )
    return client, alarms


@dataclass
class Witnessing:
    """One test's hub logs, served over HTTP, and the borough's witness client of them."""

    folder: Path
    serve: Serve
    log_signer: NoteSigner
    witness_signer: NoteSigner
    messages: list[tuple[LogEntry, bytes]]

    @property
    def state(self) -> Path:
        """The witness's state file."""
        return self.folder / "w.json"

    def state_size(self) -> int:
        return int(json.loads(self.state.read_text())["size"])

    def log(
        self, name: str, items: list[tuple[LogEntry, bytes]], *, signer: NoteSigner | None = None
    ) -> tuple[MessageLog, Checkpointer]:
        """A hub log of ``items`` with a checkpoint signed by ``signer`` (the log key)."""
        return _log(self.folder / name, signer or self.log_signer, items)

    def client(self, fetch: LogFetch) -> tuple[WitnessClient, _Alarms]:
        """The witness client reading through ``fetch``, and its alarms."""
        return _client(fetch, self.state, self.log_signer, self.witness_signer)


@pytest.fixture
def witnessing(
    tmp_path: Path,
    serve: Serve,
    log_signer: NoteSigner,
    witness_signer: NoteSigner,
    messages: list[tuple[LogEntry, bytes]],
) -> Witnessing:
    return Witnessing(tmp_path, serve, log_signer, witness_signer, messages)


async def test_an_honest_log_is_cosigned_as_it_grows(
    witnessing: Witnessing,
) -> None:
    log, checkpointer = witnessing.log("hub", witnessing.messages[:3])
    client, alarms = witnessing.client(await witnessing.serve(log))
    assert await client.witness_once() == 3
    assert [c.witness for c in log.cosignatures(3)] == [witnessing.witness_signer.name]
    assert witnessing.state_size() == 3
    assert await client.witness_once() is None
    log.append_many(witnessing.messages[3:10])
    checkpointer.sign_now()
    assert await client.witness_once() == 10
    assert len(log.cosignatures(10)) == 1
    assert not client.alarm
    assert alarms.count() == 0


@pytest.mark.parametrize(
    ("fork_size", "reason"),
    [(3, "log has forked"), (5, "not proven to extend the accepted size 3")],
)
async def test_a_forked_checkpoint_raises_the_alarm_and_is_never_cosigned(
    witnessing: Witnessing,
    fork_size: int,
    reason: str,
) -> None:
    honest, _ = witnessing.log("hub", witnessing.messages[:3])
    client, alarms = witnessing.client(await witnessing.serve(honest))
    assert await client.witness_once() == 3
    # The same hub key signs a different history: leaves in another order.
    forked, _ = witnessing.log("fork", witnessing.messages[fork_size - 1 :: -1][:fork_size])
    client.fetch = await witnessing.serve(forked)
    with pytest.raises(CheckpointInconsistent, match=reason):
        await client.witness_once()
    assert client.alarm
    assert client.alarm_reason is not None
    assert reason in client.alarm_reason
    assert alarms.count() == 1
    assert forked.cosignatures(fork_size) == []
    assert witnessing.state_size() == 3
    client.clear_alarm()
    assert not client.alarm


async def test_a_rolled_back_log_raises_the_alarm(
    witnessing: Witnessing,
) -> None:
    grown, _ = witnessing.log("hub", witnessing.messages[:6])
    client, alarms = witnessing.client(await witnessing.serve(grown))
    assert await client.witness_once() == 6
    truncated, _ = witnessing.log("truncated", witnessing.messages[:4])
    client.fetch = await witnessing.serve(truncated)
    with pytest.raises(CheckpointInconsistent, match="rolls back the log from size 6"):
        await client.witness_once()
    assert alarms.count() == 1


async def test_a_checkpoint_with_a_forged_log_signature_raises_the_alarm(
    witnessing: Witnessing,
) -> None:
    impostor = NoteSigner.from_key_text(generate_log_key(witnessing.log_signer.name)[0])
    forged, _ = witnessing.log("hub", witnessing.messages[:3], signer=impostor)
    client, alarms = witnessing.client(await witnessing.serve(forged))
    with pytest.raises(NoteSignatureInvalid, match="no signature by the log key"):
        await client.witness_once()
    assert client.alarm
    assert alarms.count() == 1
    assert not witnessing.state.exists()


@dataclass
class _LyingProofs:
    """A hub that sends a wrong consistency proof (first hash flipped)."""

    inner: LogFetch

    async def get(self, path_and_query: str) -> bytes:
        answer = await self.inner.get(path_and_query)
        if not path_and_query.startswith("/v1/log/consistency"):
            return answer
        data = json.loads(answer)
        first = bytearray(base64.b64decode(data["hashes"][0]))
        first[0] ^= 1
        data["hashes"][0] = base64.b64encode(first).decode()
        return json.dumps(data).encode()

    async def post(self, path: str, body: bytes) -> bytes:
        return await self.inner.post(path, body)


async def test_a_consistency_proof_that_does_not_verify_raises_the_alarm(
    witnessing: Witnessing,
) -> None:
    log, checkpointer = witnessing.log("hub", witnessing.messages[:3])
    fetch = await witnessing.serve(log)
    client, alarms = witnessing.client(fetch)
    assert await client.witness_once() == 3
    log.append_many(witnessing.messages[3:7])
    checkpointer.sign_now()
    client.fetch = _LyingProofs(fetch)
    with pytest.raises(CheckpointInconsistent, match="is not proven to extend"):
        await client.witness_once()
    assert alarms.count() == 1
    assert log.cosignatures(7) == []


async def test_an_unreachable_hub_is_not_an_alarm(
    tmp_path: Path, log_signer: NoteSigner, witness_signer: NoteSigner
) -> None:
    async with aiohttp.ClientSession() as session:
        fetch = HttpLogFetch(session, "http://127.0.0.1:9", timeout=2)
        client, alarms = _client(fetch, tmp_path / "w.json", log_signer, witness_signer)
        with pytest.raises(RecipientUnavailable, match="cannot reach"):
            await client.witness_once()
    assert not client.alarm
    assert alarms.count() == 0


def test_the_state_file_is_checked_when_loaded(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    assert WitnessStateFile(path).load("log.example").size == 0
    path.write_text("{not json")
    with pytest.raises(LogStoreError, match="is unreadable"):
        WitnessStateFile(path).load("log.example")
    path.write_text(json.dumps({"origin": "other.example", "size": 1, "root_hash": "AA=="}))
    with pytest.raises(LogStoreError, match=r"is for log 'other\.example'"):
        WitnessStateFile(path).load("log.example")


def test_a_state_that_cannot_be_written_leaves_the_last_one_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.json"
    state_file = WitnessStateFile(path)
    first = WitnessState.first("log.example")
    state_file.save(first)

    def full_disk(_descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(LogStoreError, match=r"cannot write witness state .*No space left"):
        state_file.save(replace(first, size=7))
    monkeypatch.undo()
    assert state_file.load("log.example") == first
    assert [p.name for p in tmp_path.iterdir()] == ["w.json"]
