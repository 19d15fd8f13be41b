"""The message log's HTTP endpoints (SPEC §4, §8), as plain aiohttp handlers.

- ``GET /v1/log/checkpoint``: the latest checkpoint note with the witnesses'
  cosignature lines appended, ``text/plain`` (404 before the first one);
- ``GET /v1/log/inclusion?index=I&size=N``: RFC 9162 §2.1.3 inclusion proof,
  JSON ``{"index", "tree_size", "hashes": [base64, …]}``;
- ``GET /v1/log/consistency?first=M&second=N``: RFC 9162 §2.1.4 consistency
  proof, JSON ``{"first", "second", "hashes": [base64, …]}``;
- ``POST /v1/log/cosignature``: a witness returns the checkpoint it cosigned,
  as a signed note — the checkpoint text, a blank line, its cosignature
  line(s) — and every line by a configured witness key is verified against
  the checkpoint the log signed at that size, then stored.

Bad parameters are 400 with a JSON ``{"error": <code>, "reason": <text>}``,
never 500. The handlers read the log from ``request.app[LOG_KEY]`` and the
accepted witness keys from ``request.app[WITNESS_KEYS]``; ``setup_log`` fills
both, mounts the routes and starts the checkpointer.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from hub.errors import IrtError, SchemaInvalid, TooLarge, for_peer
from hub.log.checkpoint import Checkpoint
from hub.log.checkpointer import Checkpointer
from hub.log.errors import (
    CheckpointInconsistent,
    LogKeyInvalid,
    LogRangeError,
    NoteSignatureInvalid,
)
from hub.log.merkle import MAX_TREE_SIZE
from hub.log.message_log import MessageLog
from hub.log.note import NoteVerifier, SignatureType, parse_note, signature_line
from hub.transport.delivery import read_capped

__all__ = [
    "LOG_KEY",
    "MAX_COSIGNATURE_BYTES",
    "WITNESS_KEYS",
    "WitnessKeys",
    "log_routes",
    "setup_log",
]

_LOG = logging.getLogger(__name__)

MAX_COSIGNATURE_BYTES: Final = 16 * 1024
"""A checkpoint text and a few signature lines are under 1 kB; a witness never
needs more, and nothing larger is read."""


@dataclass(frozen=True, slots=True)
class WitnessKeys:
    """The witnesses whose cosignatures the hub accepts and stores."""

    keys: tuple[NoteVerifier, ...] = ()

    def __post_init__(self) -> None:
        for key in self.keys:
            if key.sig_type is not SignatureType.COSIGNATURE_V1:
                raise LogKeyInvalid(f"{key.name!r} is not a cosignature/v1 witness key")


LOG_KEY: Final = web.AppKey("irt.log", MessageLog)
WITNESS_KEYS: Final = web.AppKey("irt.log.witnesses", WitnessKeys)

_DECIMAL: Final = re.compile(r"(?:0|[1-9][0-9]{0,18})\Z")


def log_routes() -> list[web.RouteDef]:
    """The four log endpoints, to mount on the hub application."""
    return [
        web.get("/v1/log/checkpoint", checkpoint_endpoint),
        web.get("/v1/log/inclusion", inclusion_endpoint),
        web.get("/v1/log/consistency", consistency_endpoint),
        web.post("/v1/log/cosignature", cosignature_endpoint),
    ]


def setup_log(
    app: web.Application,
    log: MessageLog,
    *,
    witnesses: WitnessKeys,
    checkpointer: Checkpointer | None = None,
) -> None:
    """Put ``log`` and ``witnesses`` in ``app``, mount the routes, run the checkpointer.

    At shutdown the checkpointer signs a last checkpoint, then the log
    commits what is queued and closes.
    """
    app[LOG_KEY] = log
    app[WITNESS_KEYS] = witnesses
    app.add_routes(log_routes())

    async def close_log(_app: web.Application) -> AsyncIterator[None]:
        yield
        await log.aclose()

    # cleanup_ctx unwinds in reverse: the checkpointer stops before the log closes.
    app.cleanup_ctx.append(close_log)
    if checkpointer is not None:
        app.cleanup_ctx.append(checkpointer.cleanup_ctx())


async def checkpoint_endpoint(request: web.Request) -> web.Response:
    """``GET /v1/log/checkpoint``."""
    note = request.app[LOG_KEY].checkpoint_note()
    if note is None:
        return _json_error(404, "no-checkpoint", "the log has not signed a checkpoint yet")
    return web.Response(body=note, content_type="text/plain", charset="utf-8")


async def inclusion_endpoint(request: web.Request) -> web.Response:
    """``GET /v1/log/inclusion?index=&size=``."""
    try:
        index, size = _number(request, "index"), _number(request, "size")
        proof = request.app[LOG_KEY].inclusion_proof(index, size)
    except IrtError as error:
        return _irt_error(error)
    return web.json_response({"index": index, "tree_size": size, "hashes": _b64(proof)})


async def consistency_endpoint(request: web.Request) -> web.Response:
    """``GET /v1/log/consistency?first=&second=``."""
    try:
        first, second = _number(request, "first"), _number(request, "second")
        proof = request.app[LOG_KEY].consistency_proof(first, second)
    except IrtError as error:
        return _irt_error(error)
    return web.json_response({"first": first, "second": second, "hashes": _b64(proof)})


async def cosignature_endpoint(request: web.Request) -> web.Response:
    """``POST /v1/log/cosignature``: verify and store a witness's cosignature lines."""
    log, witnesses = request.app[LOG_KEY], request.app[WITNESS_KEYS].keys
    try:
        body = await read_capped(request.content, MAX_COSIGNATURE_BYTES)
        if body is None:
            raise TooLarge(f"a cosigned checkpoint is at most {MAX_COSIGNATURE_BYTES} bytes")
        note = parse_note(body)
        size = Checkpoint.from_text(note.text).size
        stored = log.checkpoint_note(size)
        if stored is None:
            raise LogRangeError(f"the log signed no checkpoint of size {size}")
        if parse_note(stored).text != note.text:
            raise CheckpointInconsistent(
                f"the posted checkpoint of size {size} is not the one this log signed"
            )
        known = {(w.name, w.key_id) for w in witnesses}
        lines = [
            signature_line(s.name, s.key_id, s.signature)
            for s in note.signatures
            if (s.name, s.key_id) in known
        ]
        if not lines:
            raise NoteSignatureInvalid("the note carries no cosignature by a configured witness")
        added = [
            await asyncio.to_thread(log.add_cosignature, size, line, witnesses=witnesses)
            for line in lines
        ]
    except IrtError as error:
        return _irt_error(error)
    return web.json_response(
        {"size": size, "stored": sum(added), "already_held": added.count(False)}
    )


def _number(request: web.Request, name: str) -> int:
    values = request.query.getall(name, [])
    if len(values) != 1:
        raise SchemaInvalid(f"query parameter {name!r} must be given exactly once")
    if not _DECIMAL.match(values[0]):
        raise SchemaInvalid(
            f"query parameter {name!r} must be a decimal number without sign or leading zeros"
        )
    value = int(values[0])
    if value > MAX_TREE_SIZE:
        raise SchemaInvalid(f"query parameter {name!r} exceeds {MAX_TREE_SIZE}")
    return value


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def _irt_error(error: IrtError) -> web.Response:
    told = for_peer(error)
    if told is not error:
        _LOG.error("log endpoint answered internal-error: %s", error.reason)
    return _json_error(error.http_status, told.code, told.reason)


def _json_error(status: int, code: str, reason: str) -> web.Response:
    return web.json_response({"error": code, "reason": reason}, status=status)
