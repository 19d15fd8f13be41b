"""Known-to and referral throughput with 1, 2 and 3 hub processes on PostgreSQL.

Each hub is a real ``irthub hub run`` process; every configuration starts
from empty storage. Beside them, in the same run and with the same load, one
hub on SQLite (the embedded default). Three borough nodes (Lambeth asks and
refers; Southwark and Croydon answer, with empty indexes) and the load
generator run in this process. Load is spread round robin over the hubs, as a
load balancer would. Prints JSON, per configuration:

- ``knownto_per_s``: known-to queries (two targets each) answered per second;
- ``referrals_accepted_per_s``: referrals receipted (202) per second;
- ``referrals_delivered_per_s``: referrals delivered to their node (node
  receipt stored at the hub) per second, end to end from the first post.

PostgreSQL is a throwaway cluster on loopback (``fsync=off``: its commits
cost less than on a production server; SQLite keeps ``synchronous=FULL``),
or ``$IRT_BENCH_PG_DSN``'s server. All processes share this machine's CPUs,
so more hubs than cores measure contention, not scaling.

    python -m bench.postgres [--queries N] [--referrals N] [--concurrency N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import asyncpg

from adapters.client.knownto import ChildQuery, KnownToClient
from hub.directory.model import default_directory
from hub.errors import IrtError
from hub.log.keyfiles import DEFAULT_LOG_ORIGIN, write_key_pair
from hub.pki.issuing import init_pki
from hub.pki.layout import PkiLayout
from hub.policy.sign import SHIPPED_PROTOCOLS, sign_folder
from tests.support.hub_process import HubProcess
from tests.support.loopback import free_port, message_url
from tests.support.parties import (
    CROYDON,
    LAMBETH,
    SOCIAL_WORKER,
    SOUTHWARK,
)
from tests.support.pg_cluster import pg_bin_dir, throwaway_cluster
from tests.support.referral_world import (
    ReferralWorld,
    camhs_referral,
    hub_toml,
    wait_until,
)

TARGETS = {SOUTHWARK: "southwark-camhs", CROYDON: "croydon-camhs"}
CONFIGURATIONS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 3))


def _hub_tables(name: str, storage: str, log_key: Path) -> str:
    return f"""{storage}
[log]
key = "{log_key}"

[referrals]
worker_name = "hub-{name}"
poll_seconds = 0.05
"""


async def _pace(work: Sequence[Callable[[], Awaitable[object]]], concurrency: int) -> float:
    queue = list(reversed(work))
    started = time.perf_counter()

    async def worker() -> None:
        while queue:
            await queue.pop()()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def _create_database(server: str, name: str) -> str:
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{server.rpartition('/')[0]}/{name}"


@contextlib.contextmanager
def _server() -> Iterator[str]:
    given = os.environ.get("IRT_BENCH_PG_DSN")
    if given:
        yield given
        return
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed; set IRT_BENCH_PG_DSN or install it")
    with throwaway_cluster(bin_dir) as dsn:
        yield dsn


async def _run(world: ReferralWorld, tmp: Path, backend: str, hubs: int, server: str,
               run: int, args: argparse.Namespace) -> dict[str, object]:  # fmt: skip
    folder = tmp / f"run-{run}"
    folder.mkdir()
    storage = ""
    if backend == "postgresql":
        dsn = await _create_database(server, f"irt_bench_{os.getpid()}_{run}")
        storage = f'[storage]\nbackend = "postgresql"\ndsn = "{dsn}"\n' \
                  "catalogue_refresh_seconds = 0.5\n"  # fmt: skip
    keys = write_key_pair(folder / "log-key", DEFAULT_LOG_ORIGIN)
    processes: list[HubProcess] = []
    urls: list[str] = []
    try:
        for n in range(hubs):
            port = free_port()  # each hub is a process that binds its own port
            urls.append(message_url(port))
            config = folder / f"hub-{n}.toml"
            config.write_text(
                hub_toml(world.pki, world.protocols, folder / f"hub-{n}", port, world.node_urls,
                         tables=_hub_tables(str(n), storage, keys.signer))
            )  # fmt: skip
            processes.append(HubProcess(config, folder / f"hub-{n}.log", urls[-1]))
            await processes[-1].start(timeout=60)
        world.hub_url = urls[0]
        await world.publish_catalogues(list(TARGETS))
        await asyncio.sleep(1.0 if hubs > 1 else 0)  # the others reload the catalogues
        knownto, referrals = [], []
        for url in urls:
            world.hub_url = url
            knownto.append(KnownToClient(world.exchange(LAMBETH)))
            referrals.append(world.referrals(LAMBETH))

        child = ChildQuery(("Amara",), "Okafor", date(2015, 3, 14))
        failures: list[str] = []

        async def ask(client: KnownToClient) -> None:
            try:
                await client.ask(child, practitioner=SOCIAL_WORKER, purpose="child-protection-s47",
                                 consent="not-required", targets=list(TARGETS),
                                 deadline=timedelta(seconds=30))  # fmt: skip
            except IrtError as error:
                failures.append(error.code)

        asks = [partial(ask, knownto[n % hubs]) for n in range(args.queries)]
        knownto_seconds = await _pace(asks, args.concurrency)

        items = list(TARGETS.items())
        prepared = [
            (referrals[n % hubs], referrals[0].prepare(
                camhs_referral(to=items[n % 2][0], service_id=items[n % 2][1]),
                practitioner=SOCIAL_WORKER, purpose="child-in-need-s17"))
            for n in range(args.referrals)
        ]  # fmt: skip
        stores = [world.node_store(code) for code in TARGETS]
        before = sum(len(store.received()) for store in stores)
        started = time.perf_counter()
        accept_seconds = await _pace([partial(c.submit, r) for c, r in prepared], args.concurrency)
        await wait_until(
            lambda: sum(len(s.received()) for s in stores) - before >= args.referrals,
            timeout=600,
        )
        delivered_seconds = time.perf_counter() - started
    finally:
        for process in processes:
            process.stop(timeout=30)
    return {
        "backend": backend,
        "hubs": hubs,
        "knownto_per_s": round((args.queries - len(failures)) / knownto_seconds, 1),
        "knownto_failed": len(failures),
        "referrals_accepted_per_s": round(args.referrals / accept_seconds, 1),
        "referrals_delivered_per_s": round(args.referrals / delivered_seconds, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--referrals", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="irt-bench-pg-") as name, _server() as server:
        tmp = Path(name)
        pki = PkiLayout(tmp / "pki")
        init_pki(pki, now=datetime.now(UTC) - timedelta(days=1))
        protocols = tmp / "protocols"
        list(sign_folder(SHIPPED_PROTOCOLS, protocols, pki=pki, directory=default_directory()))
        world = ReferralWorld(pki, protocols, tmp, authorities=(LAMBETH, *TARGETS))
        await world.start_nodes()
        results = []
        try:
            for run, (backend, hubs) in enumerate(CONFIGURATIONS):
                results.append(await _run(world, tmp, backend, hubs, server, run, args))
        finally:
            await world.stop()
    print(
        json.dumps(
            {
                "setup": {
                    "processes": "each hub its own process; nodes and load in this one",
                    "cpus": os.cpu_count(),
                    "concurrency": args.concurrency,
                    "queries": args.queries,
                    "referrals": args.referrals,
                    "postgresql": "IRT_BENCH_PG_DSN"
                    if os.environ.get("IRT_BENCH_PG_DSN")
                    else "throwaway loopback cluster, fsync=off",
                },
                "runs": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
