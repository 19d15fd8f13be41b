"""A node as a witness of the hub's log (SPEC §8): cosign what is consistent, alarm otherwise.

``attach_witness`` runs ``adapters.witness.client.WitnessClient`` in the
background of a node application: every few seconds it fetches the hub's
checkpoint over mutual TLS, checks it against the last one this node
accepted, stores the new state and returns a cosignature. A checkpoint that
is not consistent is never cosigned; the node logs it, counts it in
``irt_alarms_total`` and reports ``alarm`` on ``/healthz`` until an operator
clears it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Final

import aiohttp
from aiohttp import web

from adapters.config import NodeConfig
from adapters.witness.client import HttpLogFetch, WitnessClient, WitnessStateFile
from adapters.witness.cosigning import Witness
from hub.clock import Clock
from hub.log.keyfiles import load_signer, load_verifier
from hub.metrics import Metrics
from hub.transport.tls import client_context

__all__ = ["WITNESS_KEY", "attach_witness"]

WITNESS_KEY: Final = web.AppKey("irt.witness", WitnessClient)


def attach_witness(
    app: web.Application, *, config: NodeConfig, metrics: Metrics, clock: Clock
) -> None:
    """Witness the hub's log while ``app`` runs, if ``config`` has a ``[witness]`` table.

    Raises ``LogKeyInvalid`` when a key file cannot be used.
    """
    settings = config.witness
    if settings is None:
        return
    log_key = load_verifier(settings.log_key)
    witness = Witness(
        signer=load_signer(settings.key),
        log=log_key,
        clock=clock,
    )
    base_url = config.hub_url.removesuffix("/v1/messages")

    async def run(app: web.Application) -> AsyncIterator[None]:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=client_context(config.tls))
        )
        client = WitnessClient(
            witness=witness,
            fetch=HttpLogFetch(session=session, base_url=base_url),
            state_file=WitnessStateFile(config.data_dir / "witness-state.json"),
            origin=log_key.name,
            on_alarm=lambda kind, _reason: metrics.alarms.labels(kind).inc(),
        )
        app[WITNESS_KEY] = client
        task = asyncio.create_task(_after_first_interval(client, settings.interval_seconds))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await session.close()

    app.cleanup_ctx.append(run)


async def _after_first_interval(client: WitnessClient, interval: float) -> None:
    # The hub may start after its nodes; the first round waits one interval.
    await asyncio.sleep(interval)
    await client.run(interval)
