"""Serving an aiohttp application over mutual TLS until interrupted.

Shared by ``irthub hub run`` and ``irthub node run``: binds, reports the
address, looks for a new CRL on SIGHUP, and on SIGINT or SIGTERM stops
accepting, lets requests in flight finish (up to a grace period) and runs every cleanup step.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
import sys
from collections.abc import Callable
from typing import Final

from aiohttp import web

from hub.pki.crl_watch import CRL_WATCH_KEY
from hub.transport.tls import ServerTls, TlsFiles

__all__ = [
    "KEEPALIVE_SECONDS",
    "SHUTDOWN_GRACE_SECONDS",
    "run_until_stopped",
    "serve_forever",
    "server_tls_for",
]

SHUTDOWN_GRACE_SECONDS: Final = 10.0
"""How long requests in flight may take to finish after a stop signal."""

KEEPALIVE_SECONDS: Final = 75.0
"""How long an idle or half-sent connection is kept: aiohttp's default of an
hour lets a peer that trickles a request head hold a connection for ever."""


def server_tls_for(app: web.Application, tls: TlsFiles) -> ssl.SSLContext:
    """The server TLS context for ``app``, reloaded by its CRL watcher when it has one.

    Raises ``InternalError`` when the TLS material cannot be loaded.
    """
    server_tls = ServerTls(tls)
    watcher = app.get(CRL_WATCH_KEY)
    if watcher is not None:
        watcher.attach_tls(server_tls)
    return server_tls.context


async def serve_forever(
    app: web.Application,
    *,
    host: str,
    port: int,
    tls: TlsFiles,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve ``app`` on ``host:port`` with mutual TLS until SIGINT or SIGTERM.

    When ``app`` watches its CRL (``CRL_WATCH_KEY``), the watcher reloads the
    server's TLS context too, and SIGHUP makes it look for a new CRL at once.
    """
    context = server_tls_for(app, tls)
    watcher = app.get(CRL_WATCH_KEY)
    runner = web.AppRunner(
        app,
        access_log=None,
        shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
        keepalive_timeout=KEEPALIVE_SECONDS,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, ssl_context=context)
        await site.start()
        bound = runner.addresses[0]
        announce(f"listening on https://{bound[0]}:{bound[1]}/v1/messages")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        if watcher is not None:
            loop.add_signal_handler(signal.SIGHUP, watcher.wake)
        await stop.wait()
        announce("stopping: finishing requests in flight")
    finally:
        await runner.cleanup()


def run_until_stopped(
    build: Callable[[], web.Application], *, host: str, port: int, tls: TlsFiles, name: str
) -> None:
    """Build the application inside a new event loop and serve it until stopped.

    Built inside the loop because HTTPS clients and background tasks belong
    to the loop that runs them. Progress goes to standard error as
    ``<name>: <line>``, with log records at INFO and above.
    """
    logging.basicConfig(level=logging.INFO, format=f"{name}: %(levelname)s %(name)s: %(message)s")

    async def main() -> None:
        await serve_forever(
            build(),
            host=host,
            port=port,
            tls=tls,
            announce=lambda line: print(f"{name}: {line}", file=sys.stderr, flush=True),
        )

    asyncio.run(main())
