"""The hub's message log (SPEC §8) in the application: its routes, witnesses and checkpoints.

The log itself is opened over the storage's ``LogStorage``; ``attach_log``
mounts the log routes, accepts cosignatures from ``[log] witnesses``, and
runs the checkpointer, which signs with ``[log] key`` (or a key generated
under the data folder on first start).
"""

from __future__ import annotations

from aiohttp import web

from hub.config import HubConfig
from hub.log.checkpointer import Checkpointer
from hub.log.keyfiles import DEFAULT_LOG_ORIGIN, load_signer, load_witness_keys, write_key_pair
from hub.log.message_log import MessageLog
from hub.log.note import NoteSigner
from hub.log.routes import WitnessKeys, setup_log

__all__ = ["attach_log", "log_signer"]


def attach_log(app: web.Application, log: MessageLog, *, config: HubConfig) -> None:
    """Mount ``log``'s routes on ``app`` and run its checkpointer; close it at shutdown.

    At shutdown the checkpointer signs a last checkpoint, then the log
    commits what is queued and closes. Raises ``LogKeyInvalid`` if the log
    key or a witness key cannot be read.
    """
    witnesses = load_witness_keys(config.log.witnesses) if config.log.witnesses else ()
    setup_log(
        app,
        log,
        witnesses=WitnessKeys(witnesses),
        checkpointer=Checkpointer(
            log=log, signer=log_signer(config), interval=config.log.checkpoint_seconds
        ),
    )


def log_signer(config: HubConfig) -> NoteSigner:
    """The log key: configured, or generated under the data folder on first start.

    Raises ``LogKeyInvalid`` if it cannot be read or written.
    """
    if config.log.key is not None:
        return load_signer(config.log.key)
    folder = config.data_dir / "log"
    key = folder / "log.key"
    if not key.exists():
        write_key_pair(folder, DEFAULT_LOG_ORIGIN)
    return load_signer(key)
