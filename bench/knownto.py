"""Known-to latency and CPU across 33 local nodes, beside the bare signxml floor.

Starts the demo world (hub and 33 nodes over mutual TLS on loopback, in this
process), then sends "all of London" queries at 1, 8 and 32 concurrent
queries and prints JSON: latency p50/p95/p99 and CPU per query.

The floor is what one query needs from signxml alone, measured in the same
run on a query-sized message (the smallest kind, so the floor is low and
the ratio conservative): 66 signatures (query, 32 forwards,
32 responses, result) and 130 verifications (hub: query and 32 responses;
nodes: 32 forwards and 32 originals; requester: result and 32 responses).
Goal (issue 3): CPU per query ≤ 1.3 × that floor.

    python bench/knownto.py [--queries N] [--children N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner
from signxml.verifier import XMLVerifier

from hub.client import KnownToClient
from hub.demo.scenario import QUERIES, REQUESTER
from hub.demo.world import DemoOptions, DemoWorld, prepare
from hub.envelope import Header, Party, Practitioner, Recipient, build_envelope
from hub.identifiers import HUB
from hub.signing import Signer

SIGNATURES_PER_QUERY = 66
VERIFICATIONS_PER_QUERY = 130


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _run(client: KnownToClient, queries: int, concurrency: int) -> dict[str, float]:
    child = QUERIES[0].child
    practitioner = Practitioner("bench", "Social worker", "social-care")
    latencies: list[float] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with semaphore:
            started = time.perf_counter()
            await client.ask(
                child,
                practitioner=practitioner,
                purpose="child-protection-s47",
                consent="not-required",
                scope="london",
                deadline=timedelta(seconds=30),
            )
            latencies.append(time.perf_counter() - started)

    cpu_started = time.process_time()
    wall_started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(queries)))
    wall = time.perf_counter() - wall_started
    cpu = time.process_time() - cpu_started
    return {
        "concurrency": concurrency,
        "queries": queries,
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "queries_per_s": round(queries / wall, 2),
        "cpu_ms_per_query": round(cpu / queries * 1000, 1),
    }


def _median_us(action: Callable[[], object], runs: int = 200) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def _floor_ms(options: DemoOptions, sample_message: bytes) -> dict[str, float]:
    layout = options.pki
    signer = Signer.from_files(layout.signing_key(REQUESTER), layout.signing_cert(REQUESTER))
    root = etree.fromstring(sample_message)
    root.remove(root[-1])  # unsigned copy of a typical forward
    bare = XMLSigner(
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = etree.tostring(bare.sign(root, key=signer.key, cert=list(signer.chain)))
    sign_us = _median_us(lambda: bare.sign(root, key=signer.key, cert=list(signer.chain)))
    verify_us = _median_us(lambda: XMLVerifier().verify(signed, x509_cert=signer.certificate))
    floor = (SIGNATURES_PER_QUERY * sign_us + VERIFICATIONS_PER_QUERY * verify_us) / 1000
    return {"sign_us": round(sign_us, 1), "verify_us": round(verify_us, 1), "ms": round(floor, 1)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=48, help="queries per concurrency level")
    parser.add_argument("--children", type=int, default=500, help="children per borough index")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        options = DemoOptions(
            workdir=Path(folder), children_per_authority=arguments.children, deadline_seconds=30
        )
        prepare(options)
        async with DemoWorld(options) as world:
            client = world.client(REQUESTER)
            await _run(client, 4, 1)  # warm caches and connections
            levels = [await _run(client, arguments.queries, c) for c in (1, 8, 32)]
            sample = _sample_forward(options)
        floor = _floor_ms(options, sample)
    for level in levels:
        level["cpu_vs_floor"] = round(level["cpu_ms_per_query"] / floor["ms"], 3)
    print(
        json.dumps(
            {"nodes": 33, "levels": levels, "signxml_floor_per_query": floor,
             "goal": "cpu_vs_floor <= 1.3"},
            indent=2,
        )
    )  # fmt: skip


def _sample_forward(options: DemoOptions) -> bytes:
    # A query-sized message, the smallest of the five kinds: forwards and the
    # result are larger, so this floor is low and the ratio conservative.
    layout = options.pki
    signer = Signer.from_files(layout.signing_key(HUB), layout.signing_cert(HUB))
    body = QUERIES[0].child.body()
    header = Header(
        message_class="KnownToQuery",
        qualifier="request",
        sender=Party(REQUESTER),
        recipients=(Recipient(authority=HUB),),
        created=datetime.now(UTC),
        on_behalf_of=Practitioner("bench", "Social worker", "social-care"),
        purpose="child-protection-s47",
        consent="not-required",
    )
    return signer.sign(build_envelope(header, body))


if __name__ == "__main__":
    asyncio.run(main())
