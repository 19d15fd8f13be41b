"""London-wide known-to under overload: admitted throughput, refusals, latency against the deadline.

Starts the demo world (33 nodes over mutual TLS on loopback in this process,
the hub as a process of its own, as in production; ``--in-process`` puts it
beside the nodes, sharing their interpreter) with the hub's ``[fanout]``
admission control, then, in one run, keeps 1, 8, 32 and 64 London-wide
queries requested in flight for ``--seconds`` each. Every requester loop
asks for the next borough in turn (so 33 authorities share the hub), with
``Expires`` ``--deadline`` seconds ahead, and, refused ``busy``, waits the
``Retry-After`` it was given before asking again, as a well-behaved borough
system does.

Prints JSON, per level: queries sent; admitted (a signed ``KnownToResult``)
and admitted per second; refusals by code and HTTP status; other failures;
p50/p95/p99/max latency of admitted answers in ms and as a share of the
deadline, and how many arrived after it; refusal latency; the share of
per-authority entries that were ``timeout``, and the entries answered (not
``timeout``) per second, the throughput a practitioner can use; and the
hub's own counters (deadline misses, rejections). Latency runs from the post to the arrival of
the answer's bytes; the requester's verification of the answer is not in it.

    python -m bench.overload [--seconds S] [--deadline D] [--children N]
                             [--max-in-flight N] [--per-authority N] [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from adapters.client.exchange import HubExchange
from adapters.client.knownto import KnownToClient
from hub.disclosure import KNOWNTO_NS
from hub.envelope import Practitioner, Recipient
from hub.errors import DeliveryFailure, IrtError
from hub.identifiers import ALL_AUTHORITIES, AuthorityCode
from hub.transport.tls import TlsFiles, client_context
from irthub.demo.scenario import QUERIES
from irthub.demo.world import DemoOptions, DemoWorld, prepare

LEVELS = (1, 8, 32, 64)
_PRACTITIONER = Practitioner("bench", "Social worker", "social-care")
_ENTRY = f"{{{KNOWNTO_NS}}}Entry"


@dataclass
class _Level:
    """What one level observed."""

    in_flight: int
    deadline: float
    sent: int = 0
    admitted: list[float] = field(default_factory=list)
    refusals: list[float] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    entries: Counter[str] = field(default_factory=Counter)


async def _ask(exchange: HubExchange, level: _Level) -> float:
    """One London-wide query; returns the seconds to wait before the next."""
    signed = exchange.sign(
        QUERIES[1].child.body(),  # a child no borough knows: 32 full answers
        qualifier="request",
        recipients=(Recipient(scope="london"),),
        expires=exchange.clock.now() + timedelta(seconds=level.deadline),
        practitioner=_PRACTITIONER,
        purpose="child-protection-s47",
        consent="not-required",
    )
    level.sent += 1
    started = time.perf_counter()
    try:
        answer = await exchange.delivery.post(
            exchange.hub_url, signed.raw, timeout=level.deadline + 30
        )
    except DeliveryFailure as failure:
        level.failed[failure.code] += 1
        return 0.5
    seconds = time.perf_counter() - started
    try:
        message = await asyncio.to_thread(exchange.verifier.verify_envelope, answer.body)
    except IrtError as error:
        level.failed[f"unverifiable answer ({error.code})"] += 1
        return 0.0
    if message.header.message_class == "KnownToResult":
        level.admitted.append(seconds)
        level.entries.update(e.get("status", "?") for e in message.body.iter(_ENTRY))
        return 0.0
    code = message.body.get("code", "?")
    if code == "busy":
        level.refused[f"busy {answer.status}"] += 1
        level.refusals.append(seconds)
        return float(answer.retry_after or 1)
    level.failed[f"{code} {answer.status}"] += 1
    return 0.0


async def _run_level(
    exchanges: dict[AuthorityCode, HubExchange],
    world: DemoWorld,
    metrics: aiohttp.ClientSession,
    in_flight: int,
    seconds: float,
    deadline: float,
) -> dict[str, object]:
    level = _Level(in_flight=in_flight, deadline=deadline)
    turn = itertools.cycle(ALL_AUTHORITIES)
    before = await _hub_counters(world, metrics)
    stop = time.perf_counter() + seconds

    async def requester() -> None:
        while time.perf_counter() < stop:
            wait = await _ask(exchanges[next(turn)], level)
            if wait:
                await asyncio.sleep(min(wait, max(stop - time.perf_counter(), 0.0)))

    started = time.perf_counter()
    await asyncio.gather(*(requester() for _ in range(in_flight)))
    wall = time.perf_counter() - started
    after = await _hub_counters(world, metrics)
    admitted = level.admitted
    entries = sum(level.entries.values()) or 1
    return {
        "requested_in_flight": in_flight,
        "seconds": round(wall, 1),
        "sent": level.sent,
        "admitted": len(admitted),
        "admitted_per_s": round(len(admitted) / wall, 2),
        "refused": dict(level.refused),
        "failed": dict(level.failed),
        "admitted_latency_ms": _percentiles(admitted, 1000),
        "admitted_latency_vs_deadline": _percentiles([a / deadline for a in admitted], 1, 3),
        "admitted_after_deadline": sum(1 for a in admitted if a > deadline),
        "refusal_latency_ms": _percentiles(level.refusals, 1000),
        "entry_timeout_share": round(level.entries["timeout"] / entries, 3),
        "entries_answered_per_s": round(
            (sum(level.entries.values()) - level.entries["timeout"]) / wall, 1
        ),
        "entry_statuses": dict(level.entries),
        "hub": {name: after[name] - before[name] for name in after},
    }


def _percentiles(samples: list[float], scale: float, digits: int = 1) -> dict[str, float]:
    if not samples:
        return {}
    ordered = sorted(samples)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * scale, digits)

    return {
        "p50": round(statistics.median(ordered) * scale, digits),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1] * scale, digits),
    }


async def _hub_counters(world: DemoWorld, session: aiohttp.ClientSession) -> dict[str, float]:
    """The hub's counters, read from its ``GET /metrics`` like any operator's."""
    async with session.get(world.hub_url.removesuffix("/v1/messages") + "/metrics") as answer:
        text = await answer.text()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }

    def sample(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    return {
        "deadline_misses": sample("irt_deadline_misses_total", message_class="KnownToQuery"),
        "rejected_hub_busy": sample("irt_fanout_rejections_total", reason="hub-busy"),
        "rejected_requester_busy": sample("irt_fanout_rejections_total", reason="requester-busy"),
        "rejected_too_late": sample("irt_fanout_rejections_total", reason="too-late"),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per level")
    parser.add_argument("--deadline", type=float, default=5.0, help="each query's Expires, s")
    parser.add_argument("--children", type=int, default=200, help="children per borough index")
    parser.add_argument("--max-in-flight", type=int, default=None, help="[fanout] max_in_flight")
    parser.add_argument(
        "--per-authority", type=int, default=None, help="[fanout] max_in_flight_per_authority"
    )
    parser.add_argument(
        "--in-process", action="store_true", help="run the hub in this process, beside the nodes"
    )
    arguments = parser.parse_args()
    fanout = {
        "max_in_flight": arguments.max_in_flight,
        "max_in_flight_per_authority": arguments.per_authority,
    }
    table = "\n".join(f"{k} = {v}" for k, v in fanout.items() if v is not None)
    with tempfile.TemporaryDirectory() as folder:
        options = DemoOptions(
            workdir=Path(folder),
            children_per_authority=arguments.children,
            deadline_seconds=min(arguments.deadline, 30.0),
            witness_interval_seconds=600,  # no background cosigning during the runs
            hub_tables=f"[fanout]\n{table}\n" if table else "",
            hub_process=not arguments.in_process,
        )
        prepare(options)
        layout = options.pki
        operator = TlsFiles(
            layout.tls_cert(ALL_AUTHORITIES[0]),
            layout.tls_key(ALL_AUTHORITIES[0]),
            layout.root_cert,
        )
        async with (
            DemoWorld(options) as world,
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=client_context(operator))
            ) as metrics,
        ):
            exchanges = {code: world.client(code).exchange for code in ALL_AUTHORITIES}
            await _warm(world.client(ALL_AUTHORITIES[0]))
            levels = [
                await _run_level(
                    exchanges, world, metrics, n, arguments.seconds, arguments.deadline
                )
                for n in LEVELS
            ]
    print(
        json.dumps(
            {
                "nodes": 33,
                "query": "London-wide known-to (32 targets), one borough after another",
                "deadline_s": arguments.deadline,
                "fanout": {k: v for k, v in fanout.items() if v is not None} or "defaults",
                "hub": "in this process" if arguments.in_process else "a process of its own",
                "levels": levels,
            },
            indent=2,
        )
    )


async def _warm(client: KnownToClient) -> None:
    """Caches and connections, before anything is measured."""
    for _ in range(2):
        await client.ask(
            QUERIES[1].child,
            practitioner=_PRACTITIONER,
            purpose="child-protection-s47",
            consent="not-required",
            scope="london",
            deadline=timedelta(seconds=10),
        )


if __name__ == "__main__":
    asyncio.run(main())
