"""A borough node witnessing the hub's log: fetch, check, cosign, remember, return.

``WitnessClient.witness_once`` steps:

(1) load the last state this witness accepted (``WitnessStateFile``);
(2) ``GET /v1/log/checkpoint`` from the hub;
(3) if the tree grew, ``GET /v1/log/consistency?first=<old>&second=<new>``;
(4) ``Witness.cosign``: the log's signature, no rollback, no fork, the
    RFC 9162 consistency proof (``adapters.witness.cosigning``);
(5) store the new state atomically *before* the cosignature leaves the node;
(6) ``POST /v1/log/cosignature`` with the checkpoint and the cosignature line.

A checkpoint refused in (4) — a bad log signature, a rollback, a fork, a
proof that does not verify — is never cosigned; the client logs an error,
raises its ``alarm`` (for the node's health status; it stays raised until an
operator clears it) and calls ``on_alarm`` (e.g. to count it in
``irt_alarms_total``). A hub that cannot be reached is not an alarm: the
exception propagates and the next round tries again.

The hub is reached through ``LogFetch``, two async methods; ``HttpLogFetch``
is the aiohttp implementation.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

import aiohttp

from adapters.witness.cosigning import Witness, WitnessState
from hub.errors import DeliveryTimeout, IrtError, RecipientUnavailable
from hub.files import UMASK_MODE, write_file
from hub.log.checkpoint import open_note
from hub.log.errors import (
    CheckpointInconsistent,
    LogStoreError,
    NoteMalformed,
    NoteSignatureInvalid,
)
from hub.log.merkle import RootHash
from hub.transport.delivery import read_capped

__all__ = [
    "ALARM_KIND",
    "MAX_PROOF_HASHES",
    "HttpLogFetch",
    "LogFetch",
    "WitnessClient",
    "WitnessStateFile",
]

ALARM_KIND: Final = "log-checkpoint-inconsistent"
"""The ``kind`` passed to ``on_alarm`` (and the ``irt_alarms_total`` label)."""

MAX_PROOF_HASHES: Final = 128
"""A consistency proof between trees of up to 2^63 leaves has at most 2·63
hashes; a longer list is hostile."""

_MAX_ANSWER_BYTES: Final = 64 * 1024
"""A checkpoint note (``MAX_NOTE_BYTES``) or a proof of 128 hashes fits."""

_REFUSED: Final = (CheckpointInconsistent, NoteSignatureInvalid, NoteMalformed)
"""What makes a witness refuse a checkpoint and raise its alarm."""

_LOG = logging.getLogger(__name__)


class LogFetch(Protocol):
    """How a witness talks to the hub's log endpoints."""

    async def get(self, path_and_query: str) -> bytes:
        """The body of a 200 answer; raise an ``IrtError`` for anything else."""
        ...

    async def post(self, path: str, body: bytes) -> bytes:
        """POST ``body``; the body of a 200 answer, else raise an ``IrtError``."""
        ...


@dataclass(frozen=True)
class HttpLogFetch:
    """``LogFetch`` over an aiohttp session (mutual TLS is the session's business)."""

    session: aiohttp.ClientSession
    base_url: str
    """E.g. ``https://hub.irt.london.example``, without a trailing slash."""
    timeout: float = 10.0

    async def get(self, path_and_query: str) -> bytes:
        """See ``LogFetch.get``."""
        return await self._call("GET", path_and_query, None)

    async def post(self, path: str, body: bytes) -> bytes:
        """See ``LogFetch.post``."""
        return await self._call("POST", path, body)

    async def _call(self, method: str, path: str, body: bytes | None) -> bytes:
        url = f"{self.base_url}{path}"
        try:
            async with asyncio.timeout(self.timeout):
                async with self.session.request(method, url, data=body) as response:
                    data = await read_capped(response.content, _MAX_ANSWER_BYTES)
                    status = response.status
        except TimeoutError as exc:
            raise DeliveryTimeout(f"{url} did not answer within {self.timeout:.0f} s") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise RecipientUnavailable(f"cannot reach {url}: {exc}") from exc
        if data is None:
            raise RecipientUnavailable(f"{url} answered more than {_MAX_ANSWER_BYTES} bytes")
        if status != 200:
            raise RecipientUnavailable(f"{url} answered HTTP {status}: {data[:200]!r}")
        return data


@dataclass(frozen=True)
class WitnessStateFile:
    """A ``WitnessState`` in a small JSON file, replaced atomically."""

    path: Path

    def load(self, origin: str) -> WitnessState:
        """The stored state, or the first state for ``origin`` if there is no file.

        Raises ``LogStoreError`` if the file is unreadable, malformed or for
        another log.
        """
        try:
            data = json.loads(self.path.read_bytes())
            state = WitnessState(
                origin=data["origin"],
                size=int(data["size"]),
                root_hash=RootHash(base64.b64decode(data["root_hash"], validate=True)),
            )
        except FileNotFoundError:
            return WitnessState.first(origin)
        except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise LogStoreError(f"witness state {self.path} is unreadable: {exc}") from exc
        if state.origin != origin:
            raise LogStoreError(f"witness state {self.path} is for log {state.origin!r}")
        return state

    def save(self, state: WitnessState) -> None:
        """Replace the file with ``state``, durably; raises ``LogStoreError``."""
        text = json.dumps(
            {
                "origin": state.origin,
                "size": state.size,
                "root_hash": base64.b64encode(state.root_hash).decode(),
            }
        )
        try:
            write_file(self.path, text.encode(), mode=UMASK_MODE, overwrite=True)
        except OSError as exc:
            raise LogStoreError(f"cannot write witness state {self.path}: {exc}") from exc


@dataclass
class WitnessClient:
    """One borough's witness of the hub's log; see the module docstring."""

    witness: Witness
    fetch: LogFetch
    state_file: WitnessStateFile
    origin: str
    """The witnessed log's origin line, e.g. ``london-irt.hub/log``."""
    on_alarm: Callable[[str, str], None] | None = None
    """Called with ``(ALARM_KIND, reason)`` when a checkpoint is refused."""
    alarm: bool = False
    """Raised when a checkpoint was refused; report it in the node's health."""
    alarm_reason: str | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def witness_once(self) -> int | None:
        """One round; return the size cosigned, or ``None`` if there was nothing new.

        Raises ``CheckpointInconsistent`` or ``NoteSignatureInvalid`` (after
        raising the alarm) for a refused checkpoint, and the fetch's
        ``IrtError`` when the hub cannot be reached.
        """
        async with self._lock:  # two rounds must not both advance the state
            state = self.state_file.load(self.origin)  # (1)
            note = await self.fetch.get("/v1/log/checkpoint")  # (2)
            try:
                size = open_note(note, required=self.witness.log).checkpoint.size
                proof: list[bytes] = []
                if 0 < state.size < size:  # (3)
                    answer = await self.fetch.get(
                        f"/v1/log/consistency?first={state.size}&second={size}"
                    )
                    proof = _proof_hashes(answer)
                if size == state.size and self.state_file.path.exists():
                    # Already cosigned this size: check for a fork, never resend.
                    self.witness.cosign(note, proof, state=state)
                    return None
                cosigned = self.witness.cosign(note, proof, state=state)  # (4)
            except _REFUSED as refused:
                self._raise_alarm(refused)
                raise
            self.state_file.save(cosigned.state)  # (5)
            body = cosigned.checkpoint.text + b"\n" + cosigned.line
            await self.fetch.post("/v1/log/cosignature", body)  # (6)
            return cosigned.state.size

    async def run(self, interval: float) -> None:
        """Witness every ``interval`` seconds until cancelled; failures are logged."""
        while True:
            try:
                await self.witness_once()
            except _REFUSED:
                pass  # already logged and alarmed by witness_once
            except IrtError as error:
                _LOG.warning("log witness round failed: %s", error)
            await asyncio.sleep(interval)

    def clear_alarm(self) -> None:
        """Lower the alarm after an operator has investigated it."""
        self.alarm, self.alarm_reason = False, None

    def _raise_alarm(self, refused: IrtError) -> None:
        self.alarm, self.alarm_reason = True, refused.reason
        _LOG.error("ALARM %s: refusing to cosign the hub's checkpoint: %s", ALARM_KIND, refused)
        if self.on_alarm is not None:
            self.on_alarm(ALARM_KIND, refused.reason)


def _proof_hashes(answer: bytes) -> list[bytes]:
    try:
        data = json.loads(answer)
        hashes = data["hashes"]
        if not isinstance(hashes, list) or len(hashes) > MAX_PROOF_HASHES:
            raise ValueError(f"'hashes' is not a list of at most {MAX_PROOF_HASHES}")
        return [base64.b64decode(item, validate=True) for item in hashes]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise CheckpointInconsistent(f"the hub's consistency proof is unreadable: {exc}") from exc
