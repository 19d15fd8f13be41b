"""The demo world: a working directory with PKI, indexes and configs, and the servers running.

``prepare`` makes what is missing in the working directory (idempotent, so a
second run starts at once): a development PKI, a synthetic children's index
per authority with the scenario's children planted, the 33 ISPs each signed
with its authority's key into ``protocols/``, and one TOML file per node.
``DemoWorld`` then starts the 33 nodes and the hub on loopback over mutual
TLS, all in this process, and stops them cleanly.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Final

from aiohttp import web

from adapters.client.knownto import KnownToClient
from adapters.config import DEFAULT_INDEX_MAX_AGE_HOURS, load_node_config
from adapters.index.replace import ShrinkGuard, import_exports
from adapters.index.sqlite import SqliteChildIndex
from adapters.node.app import build_node_app
from adapters.node.readiness import check_index
from adapters.synthetic.catalogues import write_demo_catalogue
from adapters.synthetic.children import generate_children, generate_involvements
from adapters.synthetic.csvfiles import write_csv
from hub.app.build import build_hub_app
from hub.clock import SystemClock
from hub.config import load_hub_config
from hub.directory import default_directory
from hub.errors import InternalError, IrtError
from hub.identifiers import ALL_AUTHORITIES, HUB, AuthorityCode
from hub.log.keyfiles import DEFAULT_LOG_ORIGIN, write_key_pair
from hub.pki.issuing import init_pki
from hub.pki.layout import PkiLayout
from hub.policy.engine import protocol_files
from hub.policy.sign import SHIPPED_PROTOCOLS, sign_folder
from hub.serve import KEEPALIVE_SECONDS, server_tls_for
from hub.transport.tls import TlsFiles
from irthub.demo.scenario import PLANTED

__all__ = ["DemoOptions", "DemoWorld", "prepare"]

_HOST: Final = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """How big and how broken the demo world is."""

    workdir: Path
    children_per_authority: int = 400
    seed: int = 2026
    deadline_seconds: float = 5.0
    down: tuple[AuthorityCode, ...] = ()
    """Authorities whose node is not started."""
    slow: tuple[AuthorityCode, ...] = ()
    """Authorities whose node answers after ``slow_delay_seconds``."""
    slow_delay_seconds: float = 8.0
    witness_interval_seconds: float = 2.0
    """How often each node cosigns the hub's log (and the hub checkpoints it)."""
    authorities: tuple[AuthorityCode, ...] = ALL_AUTHORITIES
    hub_tables: str = ""
    """Further TOML tables for the hub's file (e.g. ``[fanout]``), for benchmarks."""
    hub_process: bool = False
    """Run the hub as a process of its own (``irthub hub run``), as in production,
    rather than in this one beside the nodes; for benchmarks of the hub alone.
    ``DemoWorld.apps`` then holds no hub."""

    @property
    def pki(self) -> PkiLayout:
        """The working directory's PKI."""
        return PkiLayout(self.workdir / "pki")

    @property
    def log_dir(self) -> Path:
        """The hub's message log (and its key, made before the hub first starts)."""
        return self.workdir / "hub" / "state" / "log"

    def node_dir(self, code: AuthorityCode) -> Path:
        """One node's folder: its index, config and state."""
        return self.workdir / "nodes" / code


def prepare(options: DemoOptions, *, progress: Callable[[str], None] = lambda _: None) -> None:
    """Create whatever the working directory lacks; raise ``IrtError`` on failure."""
    layout = options.pki
    if not layout.root_cert.exists():
        progress("creating the development PKI (root CA, 33 authorities, hub)")
        init_pki(layout, now=SystemClock().now() - timedelta(minutes=10))
    for number, code in enumerate(options.authorities, start=1):
        index = options.node_dir(code) / "index.sqlite"
        if _fit_to_answer(index):
            continue
        progress(f"building the children's index of {code} ({number}/{len(options.authorities)})")
        children = generate_children(code, options.children_per_authority, options.seed + number)
        involvements = generate_involvements(children, options.seed + number, authority=code)
        planted_children, planted_involvements = PLANTED.get(code, ([], []))
        csv_dir = options.node_dir(code) / "csv"
        paths = write_csv(
            csv_dir, [*children, *planted_children], [*involvements, *planted_involvements]
        )
        # The same synthetic children again: the shrink guard has nothing to guard.
        import_exports(index, *paths, now=SystemClock().now(), guard=ShrinkGuard(unsafe_force=True))
    for code in options.authorities:
        catalogue = options.node_dir(code) / "services.xml"
        if not catalogue.exists():  # published by the node at start, dated then
            write_demo_catalogue(code, catalogue, published=SystemClock().now(), seed=options.seed)
    _prepare_log_keys(options, progress)
    signed = options.workdir / "protocols"
    if not _protocols_signed(signed, layout):
        progress("signing the 33 information sharing protocols, each with its authority's key")
        list(sign_folder(SHIPPED_PROTOCOLS, signed, pki=layout, directory=default_directory()))


def _fit_to_answer(index: Path) -> bool:
    """An index a node would start on: present, readable, not empty, imported lately."""
    if not index.exists():
        return False
    try:
        with SqliteChildIndex(index) as opened:
            check_index(opened, max_age=timedelta(hours=DEFAULT_INDEX_MAX_AGE_HOURS),
                        now=SystemClock().now())  # fmt: skip
    except IrtError:
        return False
    return True


def _protocols_signed(folder: Path, layout: PkiLayout) -> bool:
    """True when ``folder`` holds every shipped ISP, signed since the PKI was made."""
    expected = protocol_files(SHIPPED_PROTOCOLS)
    found = [folder / path.name for path in expected]
    made = layout.root_cert.stat().st_mtime
    return all(path.exists() and path.stat().st_mtime >= made for path in found)


@dataclass
class DemoWorld:
    """The hub and nodes of ``options``, running while inside ``async with``."""

    options: DemoOptions
    hub_url: str = ""
    node_urls: dict[AuthorityCode, str] = field(default_factory=dict)
    _runners: list[web.AppRunner] = field(default_factory=list)
    _indexes: list[SqliteChildIndex] = field(default_factory=list)
    apps: dict[AuthorityCode, web.Application] = field(default_factory=dict)
    """The running applications by authority (``HUB`` for the hub), for inspection."""
    _clients: list[KnownToClient] = field(default_factory=list)
    _hub_port: int = 0
    _hub_process: subprocess.Popen[bytes] | None = None
    _held: list[socket.socket] = field(default_factory=list)
    """Sockets that hold ports for the whole run: the hub's (listening from the
    start, so no node can be given its port) and the down nodes' (bound but
    never listening, so connections are refused and no one else gets them)."""

    async def __aenter__(self) -> DemoWorld:
        # The hub's port is chosen first so that every node's config names it.
        hub_socket = self._hold(listening=True)
        self._hub_port = int(hub_socket.getsockname()[1])
        self.hub_url = f"https://{_HOST}:{self._hub_port}/v1/messages"
        try:
            await self._start_nodes()
            await self._start_hub()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop every server and release every resource, most recent first."""
        for client in self._clients:
            await client.close()
        if self._hub_process is not None:
            self._hub_process.terminate()
            await asyncio.to_thread(self._hub_process.wait, 30)
            self._hub_process = None
        for runner in reversed(self._runners):
            await runner.cleanup()
        for index in self._indexes:
            index.close()
        self._runners.clear()
        for held in self._held:
            held.close()
        self._held.clear()
        self._indexes.clear()
        self._clients.clear()

    def client(self, authority: AuthorityCode) -> KnownToClient:
        """A known-to client acting for ``authority``, as its borough system would run it."""
        config = load_node_config(self.options.node_dir(authority) / "node.toml")
        client = KnownToClient.from_node_config(config, hub_url=self.hub_url)
        self._clients.append(client)
        return client

    async def _start_nodes(self) -> None:
        for code in self.options.authorities:
            if code in self.options.down:
                # A port nobody listens on: connections are refused.
                port = self._hold(listening=False).getsockname()[1]
                self.node_urls[code] = f"https://{_HOST}:{port}/v1/messages"
                continue
            path = self._write_node_config(code)
            config = load_node_config(path)
            index = SqliteChildIndex(config.index)
            self._indexes.append(index)
            app = build_node_app(config, index=index)
            self.apps[code] = app
            port = await self._serve(app, config.tls)
            self.node_urls[code] = f"https://{_HOST}:{port}/v1/messages"

    async def _start_hub(self) -> None:
        path = self._write_hub_config()
        if self.options.hub_process:
            await self._start_hub_process(path)
            return
        config = load_hub_config(path)
        self.apps[HUB] = build_hub_app(config)
        await self._serve(self.apps[HUB], config.tls, sock=self._held[0])

    async def _start_hub_process(self, path: Path) -> None:
        """``irthub hub run`` on the held port; raise ``InternalError`` if it never listens."""
        self._held.pop(0).close()  # the hub process binds the port itself
        log = (self.options.workdir / "hub" / "hub.log").open("ab")
        self._hub_process = subprocess.Popen(
            [sys.executable, "-c", "from irthub.cli import main; main()", "hub", "run",
             "--config", str(path)],
            stdout=log,
            stderr=log,
        )  # fmt: skip
        log.close()
        for _ in range(600):
            if self._hub_process.poll() is not None:
                break
            try:
                with socket.create_connection((_HOST, self._hub_port), timeout=1):
                    return
            except OSError:
                await asyncio.sleep(0.1)
        raise InternalError("the hub process did not start listening; see hub/hub.log")

    async def _serve(
        self, app: web.Application, tls: TlsFiles, *, sock: socket.socket | None = None
    ) -> int:
        runner = web.AppRunner(app, access_log=None, keepalive_timeout=KEEPALIVE_SECONDS)
        await runner.setup()
        self._runners.append(runner)
        context = server_tls_for(app, tls)
        site = (
            web.SockSite(runner, sock, ssl_context=context)
            if sock is not None
            else web.TCPSite(runner, _HOST, 0, ssl_context=context)
        )
        await site.start()
        address = runner.addresses[0]
        return int(address[1])

    def _hold(self, *, listening: bool) -> socket.socket:
        held = socket.socket()
        held.bind((_HOST, 0))
        if listening:
            held.listen(128)
        self._held.append(held)
        return held

    def _write_node_config(self, code: AuthorityCode) -> Path:
        folder = self.options.node_dir(code)
        delay = self.options.slow_delay_seconds if code in self.options.slow else 0.0
        text = f"""# Borough node of {code}: see docs/configuration.md for every option.
[node]
authority = "{code}"
id = "{code.lower()}-irt"
listen_host = "{_HOST}"
listen_port = 0
index = "index.sqlite"
hub_url = "{self.hub_url}"
data_dir = "state"
answer_delay_seconds = {delay}
catalogue = "services.xml"

{_key_tables(self.options.pki, code, folder)}

[witness]
key = "witness/witness.key"
log_key = "{os.path.relpath(self.options.log_dir / "log.pub", folder)}"
interval_seconds = {self.options.witness_interval_seconds}
"""
        path = folder / "node.toml"
        path.write_text(text)
        return path

    def _write_hub_config(self) -> Path:
        folder = self.options.workdir / "hub"
        folder.mkdir(parents=True, exist_ok=True)
        nodes = "\n".join(f'{code} = "{url}"' for code, url in sorted(self.node_urls.items()))
        text = f"""# The hub: see docs/configuration.md for every option.
[hub]
listen_host = "{_HOST}"
listen_port = {self._hub_port}
data_dir = "state"
protocols = "../protocols"

{_key_tables(self.options.pki, HUB, folder)}

[log]
witnesses = "witnesses.txt"
checkpoint_seconds = {self.options.witness_interval_seconds}

[limits]
query_deadline_seconds = {self.options.deadline_seconds}

[nodes]
{nodes}

{self.options.hub_tables}
"""
        path = folder / "hub.toml"
        path.write_text(text)
        return path


def _prepare_log_keys(options: DemoOptions, progress: Callable[[str], None]) -> None:
    """The hub's log key and a witness key per node, and the hub's list of witnesses."""
    if not (options.log_dir / "log.key").exists():
        progress("making the hub's log key and a witness key for each borough node")
        write_key_pair(options.log_dir, DEFAULT_LOG_ORIGIN)
    public_keys = []
    for code in options.authorities:
        folder = options.node_dir(code) / "witness"
        if not (folder / "witness.key").exists():
            write_key_pair(folder, f"{code.lower()}.witness.london-irt.example", witness=True)
        public_keys.append((folder / "witness.pub").read_text().strip())
    witnesses = options.workdir / "hub" / "witnesses.txt"
    witnesses.write_text(
        "# Borough nodes whose cosignatures the hub accepts.\n" + "\n".join(public_keys) + "\n"
    )


def _key_tables(layout: PkiLayout, code: AuthorityCode, folder: Path) -> str:
    def rel(path: Path) -> str:
        return os.path.relpath(path, folder)

    return f"""[tls]
cert = "{rel(layout.tls_cert(code))}"
key = "{rel(layout.tls_key(code))}"
root = "{rel(layout.root_cert)}"
crl = "{rel(layout.crl)}"

[signing]
cert = "{rel(layout.signing_cert(code))}"
key = "{rel(layout.signing_key(code))}\""""
