"""Referral throughput with durable storage, and draining a large queue after a restart.

Runs the hub and three borough nodes (Lambeth refers to Southwark and
Croydon) over mutual TLS on loopback, all in this process, with the real
SQLite stores (WAL, ``synchronous=FULL``). Prints JSON:

- ``sustained``: referrals signed in advance by Lambeth's system, posted
  with ``--concurrency`` in flight; accepted (the hub's 202 receipt) and
  delivered (the node's receipt recorded at the hub) per second, end to end;
- ``drain``: ``--queued`` referrals accepted while the receiving nodes hang,
  then a hub restart; time until every one is delivered;
- baselines measured in the same run: a signed ``ServiceSearch`` round trip
  (the protocol with no storage) at the same concurrency, and raw SQLite
  commits per second (one insert per transaction, referral-sized rows), the
  durable-storage floor a referral pays twice at the hub.

    python bench/referrals.py [--referrals N] [--queued N] [--concurrency N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from aiohttp import web

from adapters.client.exchange import HubExchange, Signed
from adapters.client.knownto import ChildQuery
from adapters.client.referrals import ReferralClient, ReferralDraft
from adapters.client.services import DirectoryClient
from adapters.config import NodeConfig
from adapters.index.memory import MemoryChildIndex
from adapters.node.app import build_node_app
from adapters.synthetic.catalogues import demo_catalogue
from hub.app.build import build_hub_app
from hub.app.referrals import REFERRALS_KEY
from hub.clock import SystemClock
from hub.config import HubConfig, SigningFiles
from hub.directory.model import default_directory
from hub.envelope import Practitioner
from hub.identifiers import HUB, AuthorityCode
from hub.pki.issuing import init_pki
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.policy.sign import SHIPPED_PROTOCOLS, sign_folder
from hub.referral.settings import ReferralSettings
from hub.replay.guard import ReplayGuard
from hub.services.search import ServiceQuery
from hub.signing import Signer
from hub.storage.memory.seen import MemorySeenStore
from hub.transport.delivery import Answer, Delivery, HttpsDelivery
from hub.transport.tls import TlsFiles, client_context, server_context
from hub.verify import EnvelopeVerifier

HOST = "127.0.0.1"
LAMBETH, SOUTHWARK, CROYDON = (AuthorityCode(c) for c in ("E09000022", "E09000028", "E09000008"))
WORKER = Practitioner("bench-sw", "Social worker", "social-care")
CHILD = ChildQuery(("Amara",), "Okafor", datetime(2012, 3, 9, tzinfo=UTC).date(), "female",
                   "SW2 1RW", "9434765919")  # fmt: skip
SETTINGS = ReferralSettings(poll_seconds=0.2, batch_size=64)


class Hanging:
    """A delivery whose posts never return: nodes that accept connections and hang."""

    def __init__(self) -> None:
        self._never = asyncio.Event()

    async def post(self, url: str, envelope: bytes, *, timeout: float) -> Answer:
        await self._never.wait()
        raise AssertionError("unreachable")

    async def close(self) -> None:
        """Nothing to release."""


class Interchange:
    """The hub and three nodes, started and stopped by the benchmark."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pki = PkiLayout(workdir / "pki")
        init_pki(self.pki, now=datetime.now(UTC) - timedelta(days=1))
        list(sign_folder(SHIPPED_PROTOCOLS, workdir / "protocols", pki=self.pki,
                         directory=default_directory()))  # fmt: skip
        self.hub_url = f"https://{HOST}:{_free_port()}/v1/messages"
        self.node_urls: dict[AuthorityCode, str] = {}
        self.runners: list[web.AppRunner] = []
        self.hub: web.AppRunner | None = None
        self.hub_app: web.Application | None = None

    def tls(self, code: AuthorityCode) -> TlsFiles:
        pki = self.pki
        return TlsFiles(pki.tls_cert(code), pki.tls_key(code), pki.root_cert, pki.crl)

    async def start_nodes(self) -> None:
        for code in (LAMBETH, SOUTHWARK, CROYDON):
            port = _free_port()
            self.node_urls[code] = f"https://{HOST}:{port}/v1/messages"
            config = NodeConfig(
                authority=code, node_id=f"{code.lower()}-irt", listen_host=HOST, listen_port=port,
                index=self.workdir / "unused", hub_url=self.hub_url, tls=self.tls(code),
                signing=SigningFiles(self.pki.signing_cert(code), self.pki.signing_key(code)),
                data_dir=self.workdir / "nodes" / code,
            )  # fmt: skip
            app = build_node_app(config, index=MemoryChildIndex([]))
            self.runners.append(await _serve(app, config.tls, port))

    async def start_hub(self, delivery: Delivery | None = None) -> None:
        port = int(self.hub_url.rsplit(":", 1)[1].split("/")[0])
        config = HubConfig(
            listen_host=HOST, listen_port=port, data_dir=self.workdir / "hub",
            tls=self.tls(HUB), signing=SigningFiles(self.pki.signing_cert(HUB),
            self.pki.signing_key(HUB)), node_urls=self.node_urls,
            protocols_dir=self.workdir / "protocols", referrals=SETTINGS,
        )  # fmt: skip
        outbound = delivery or HttpsDelivery(client_context(config.tls), connections_per_host=16)
        self.hub_app = build_hub_app(config, delivery=outbound)
        self.hub = await _serve(self.hub_app, config.tls, port)

    async def stop_hub(self) -> None:
        if self.hub is not None:
            await self.hub.cleanup()

    async def stop(self) -> None:
        await self.stop_hub()
        for runner in self.runners:
            await runner.cleanup()

    def delivered(self) -> int:
        assert self.hub_app is not None
        return self.hub_app[REFERRALS_KEY].store.counts().get("done", 0)

    def exchange(self, code: AuthorityCode) -> HubExchange:
        clock = SystemClock()
        return HubExchange(
            authority=code, node_id=f"{code.lower()}-irt",
            signer=Signer.from_files(self.pki.signing_key(code), self.pki.signing_cert(code)),
            verifier=EnvelopeVerifier(
                trust=TrustStore.from_files(self.pki.root_cert, self.pki.crl), clock=clock,
                replay=ReplayGuard(store=MemorySeenStore(), clock=clock),
            ),
            delivery=HttpsDelivery(client_context(self.tls(code)), connections_per_host=64),
            hub_url=self.hub_url, clock=clock,
        )  # fmt: skip


async def _serve(app: web.Application, tls: TlsFiles, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, port, ssl_context=server_context(tls)).start()
    return runner


def _free_port() -> int:
    import socket  # noqa: PLC0415 - only here

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _prepare(client: ReferralClient, count: int) -> list[Signed]:
    targets = ((SOUTHWARK, "southwark-camhs"), (CROYDON, "croydon-camhs"))
    return [
        client.prepare(
            ReferralDraft(
                to=targets[i % 2][0], service_id=targets[i % 2][1], child=CHILD, concern_level=2,
                categories=("involvement", "mental-health"), reason="Benchmark referral.",
                consent="given",
            ),
            practitioner=WORKER, purpose="child-in-need-s17",
        )
        for i in range(count)
    ]  # fmt: skip


async def _pace(work: Sequence[Callable[[], Awaitable[object]]], concurrency: int) -> float:
    """Run ``work`` with ``concurrency`` in flight; return the seconds taken."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[object]]) -> None:
        async with semaphore:
            await job()

    started = time.perf_counter()
    await asyncio.gather(*(one(job) for job in work))
    return time.perf_counter() - started


async def _until(check: Callable[[], bool]) -> None:
    while not check():
        await asyncio.sleep(0.05)


def _sqlite_commits_per_second(path: Path, rows: int = 2000) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
    payload = os.urandom(6000)  # a signed referral and its forward
    started = time.perf_counter()
    for _ in range(rows):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (body) VALUES (?)", (payload,))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return rows / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=1000)
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="irt-bench-") as tmp:
        world = Interchange(Path(tmp))
        await world.start_nodes()
        await world.start_hub()
        lambeth = world.exchange(LAMBETH)
        client = ReferralClient(lambeth)
        for code in (SOUTHWARK, CROYDON):
            exchange = world.exchange(code)
            await DirectoryClient(exchange).publish(
                demo_catalogue(code, published=datetime.now(UTC))
            )
            await exchange.close()

        # baseline: a signed request/response round trip, no storage
        directory = DirectoryClient(lambeth)
        query = ServiceQuery(types=frozenset({"camhs"}), authority=LAMBETH, max_results=5)
        searches = [
            (lambda: directory.search(query, practitioner=WORKER, purpose="early-help",
                                      consent="given"))
            for _ in range(args.referrals)
        ]  # fmt: skip
        search_seconds = await _pace(searches, args.concurrency)

        # sustained: accept and deliver, end to end
        prepared = _prepare(client, args.referrals)
        started = time.perf_counter()
        accept_seconds = await _pace(
            [partial(client.submit, r) for r in prepared], args.concurrency
        )
        await _until(lambda: world.delivered() >= args.referrals)
        end_to_end = time.perf_counter() - started

        # drain: queue while the nodes hang, restart, deliver everything
        await world.stop_hub()
        await world.start_hub(delivery=Hanging())
        queued = _prepare(client, args.queued)
        queue_seconds = await _pace([partial(client.submit, r) for r in queued], args.concurrency)
        await world.stop_hub()
        restarted = time.perf_counter()
        await world.start_hub()
        await _until(lambda: world.delivered() >= args.referrals + args.queued)
        drain_seconds = time.perf_counter() - restarted
        await lambeth.close()
        await world.stop()
        commits = _sqlite_commits_per_second(Path(tmp) / "floor.sqlite")
    print(
        json.dumps(
            {
                "setup": {
                    "processes": "hub, 3 nodes and the client in one process",
                    "cpus": os.cpu_count(),
                    "concurrency": args.concurrency,
                    "storage": "SQLite WAL, synchronous=FULL",
                },
                "sustained": {
                    "referrals": args.referrals,
                    "accepted_per_second": round(args.referrals / accept_seconds, 1),
                    "delivered_per_second_end_to_end": round(args.referrals / end_to_end, 1),
                },
                "drain": {
                    "queued": args.queued,
                    "queued_per_second": round(args.queued / queue_seconds, 1),
                    "seconds_to_drain_after_restart": round(drain_seconds, 1),
                    "drained_per_second": round(args.queued / drain_seconds, 1),
                },
                "baselines": {
                    "signed_search_round_trips_per_second": round(
                        args.referrals / search_seconds, 1
                    ),
                    "sqlite_commits_per_second": round(commits, 1),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
