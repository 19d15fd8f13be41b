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

    python -m bench.referrals [--referrals N] [--queued N] [--concurrency N]
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

from adapters.client.exchange import Signed
from adapters.client.referrals import ReferralClient, ReferralDraft
from adapters.client.services import CatalogueClient
from hub.directory.model import default_directory
from hub.envelope import Practitioner
from hub.pki.issuing import init_pki
from hub.pki.layout import PkiLayout
from hub.policy.sign import SHIPPED_PROTOCOLS, sign_folder
from hub.referral.settings import ReferralSettings
from hub.services.search import ServiceQuery
from hub.transport.delivery import Answer, Delivery
from tests.support.parties import CROYDON, LAMBETH, SOUTHWARK
from tests.support.referral_world import AMARA, ReferralWorld

WORKER = Practitioner("bench-sw", "Social worker", "social-care")
SETTINGS = ReferralSettings(poll_seconds=0.2, batch_size=64)


class Hanging:
    """A delivery whose posts never return: nodes that accept connections and hang."""

    def __init__(self, inner: Delivery) -> None:
        self._inner = inner
        self._never = asyncio.Event()

    async def post(self, url: str, envelope: bytes, *, timeout: float) -> Answer:
        await self._never.wait()
        raise AssertionError("unreachable")

    async def close(self) -> None:
        """Close the real delivery it stands in for."""
        await self._inner.close()


def _prepare(client: ReferralClient, count: int) -> list[Signed]:
    targets = ((SOUTHWARK, "southwark-camhs"), (CROYDON, "croydon-camhs"))
    return [
        client.prepare(
            ReferralDraft(
                to=targets[i % 2][0], service_id=targets[i % 2][1], child=AMARA, concern_level=2,
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


def _delivered(world: ReferralWorld) -> int:
    """Referrals whose node receipt the hub has stored."""
    return world.hub.store.counts().get("done", 0)


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
        workdir = Path(tmp)
        pki = PkiLayout(workdir / "pki")
        init_pki(pki, now=datetime.now(UTC) - timedelta(days=1))
        protocols = workdir / "protocols"
        list(sign_folder(SHIPPED_PROTOCOLS, protocols, pki=pki, directory=default_directory()))
        world = ReferralWorld(
            pki, protocols, workdir, authorities=(LAMBETH, SOUTHWARK, CROYDON), settings=SETTINGS,
            hub_connections_per_node=16, client_connections=64,
        )  # fmt: skip
        await world.start()
        lambeth = world.exchange(LAMBETH)
        client = ReferralClient(lambeth)
        await world.publish_catalogues([SOUTHWARK, CROYDON])

        # baseline: a signed request/response round trip, no storage
        directory = CatalogueClient(lambeth)
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
        await _until(lambda: _delivered(world) >= args.referrals)
        end_to_end = time.perf_counter() - started

        # drain: queue while the nodes hang, restart, deliver everything
        await world.stop_hub()
        world.wrap_delivery = Hanging
        await world.start_hub()
        queued = _prepare(client, args.queued)
        queue_seconds = await _pace([partial(client.submit, r) for r in queued], args.concurrency)
        await world.stop_hub()
        world.wrap_delivery = None
        restarted = time.perf_counter()
        await world.start_hub()
        await _until(lambda: _delivered(world) >= args.referrals + args.queued)
        drain_seconds = time.perf_counter() - restarted
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
