"""Serving on loopback, for tests and benchmarks: ports bound once, TLS sites.

A server in this process gets its port bound once: ``hold_port`` binds a
socket (not yet listening, so connections to it are refused) and
``serve_tls(..., sock=held)`` hands that very socket to the server. Nobody
can take the port between choosing and listening, and a URL can name the
port before its server starts.

A server that binds its own port (an ``irthub hub run`` process, PostgreSQL,
a node restarted on the port it had) cannot be handed a socket. For those
``free_port`` probes a port and remembers it, with every held port, so that
this process never hands the same port out twice; another process may still
take it in the moment before the server binds, which is the risk such tests
accept.
"""

from __future__ import annotations

import socket
import ssl
from typing import Final

from aiohttp import web

__all__ = ["HOST", "free_port", "hold_port", "message_url", "port_of", "serve_tls"]

HOST: Final = "127.0.0.1"
"""Every test server listens on loopback only."""

_HANDED_OUT: set[int] = set()


def hold_port() -> socket.socket:
    """A socket bound to a fresh loopback port, not listening; give it to ``serve_tls``."""
    held = socket.socket()
    held.bind((HOST, 0))
    _HANDED_OUT.add(port_of(held))
    return held


def free_port() -> int:
    """A loopback port nobody listens on yet, for a server that binds it itself.

    Never the same port twice in this process, nor a port ``hold_port`` gave.
    """
    while True:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            port = port_of(probe)
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def port_of(sock: socket.socket) -> int:
    """The port ``sock`` is bound to."""
    return int(sock.getsockname()[1])


def message_url(port: int) -> str:
    """The ``/v1/messages`` URL of a party served on loopback at ``port``."""
    return f"https://{HOST}:{port}/v1/messages"


async def serve_tls(
    app: web.Application,
    context: ssl.SSLContext,
    *,
    sock: socket.socket | None = None,
    port: int = 0,
    shutdown_timeout: float = 60.0,
) -> tuple[web.AppRunner, int]:
    """Serve ``app`` over TLS on ``sock`` (held), else on ``port`` (0: any); the runner and port.

    ``shutdown_timeout`` bounds how long ``runner.cleanup()`` waits for open
    requests (aiohttp's default is a minute).
    """
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site: web.BaseSite = (
        web.SockSite(runner, sock, ssl_context=context)
        if sock is not None
        else web.TCPSite(runner, HOST, port, ssl_context=context)
    )
    await site.start()
    return runner, int(runner.addresses[0][1])
