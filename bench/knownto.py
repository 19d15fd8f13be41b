"""Known-to latency and CPU across 33 local nodes, beside the bare signxml floor.

Starts the demo world (hub and 33 nodes over mutual TLS on loopback, in this
process), then sends "all of London" queries at 1, 8 and 32 concurrent
queries and prints JSON: latency p50/p95/p99 and CPU per query.

The floor is what one query needs from signxml alone, measured in the same
run on a real message of each class taken from the hub's log: 66 signatures
(query, 32 forwards, 32 responses, result) and 130 verifications (hub: query
and 32 responses; nodes: 32 forwards and 32 originals; requester: result
and 32 responses). What the floor leaves out is ours to justify: hardened
parsing, XSDs, chains, replay and log writes, TLS, HTTP and 32 index matches.
Goal (issue 3): CPU per query ≤ 1.3 × that floor.

    python -m bench.knownto [--queries N] [--children N]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import tempfile
import time
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TypedDict

from cryptography import x509
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner
from signxml.verifier import XMLVerifier

from adapters.client.knownto import KnownToClient
from bench._timing import median_us
from hub.envelope import Practitioner
from hub.identifiers import HUB
from hub.log.message_log import MessageLog
from hub.log.routes import LOG_KEY
from hub.signing import Signer
from irthub.demo.scenario import QUERIES, REQUESTER
from irthub.demo.world import DemoOptions, DemoWorld, prepare
from tests.support.parties import party_signer


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


_PER_QUERY: dict[str, tuple[int, int]] = {
    # class: (signatures, verifications) one query needs
    "KnownToQuery": (1, 33),  # verified by the hub and by each of 32 nodes
    "KnownToForward": (32, 32),
    "KnownToResponse": (32, 64),  # verified by the hub and by the requester
    "KnownToResult": (1, 1),
}


class _Floor(TypedDict):
    per_class: dict[str, dict[str, float]]
    ms: float


def _verify(message: bytes, certificate: x509.Certificate) -> object:
    return XMLVerifier().verify(message, x509_cert=certificate)


def _floor_ms(log: MessageLog, signer: Signer) -> _Floor:
    """signxml alone on one real message of each class, times the counts above."""
    samples: dict[str, bytes] = {}
    for index in range(log.size() - 1, -1, -1):
        entry = log.entry(index)
        if entry.message_class in _PER_QUERY and entry.message_class not in samples:
            message = log.message(index)
            if isinstance(message, bytes):
                samples[entry.message_class] = message
        if len(samples) == len(_PER_QUERY):
            break
    bare = XMLSigner(
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    total_us = 0.0
    per_class: dict[str, dict[str, float]] = {}
    for name, message in samples.items():
        signed = etree.fromstring(message)
        certificate = x509.load_der_x509_certificate(
            base64.b64decode("".join(signed.findtext(".//{*}X509Certificate", "").split()))
        )
        unsigned = etree.fromstring(message)
        unsigned.remove(unsigned[-1])
        signing = partial(bare.sign, unsigned, key=signer.key, cert=list(signer.chain))
        sign_us = median_us(signing, 60)
        verify_us = median_us(partial(_verify, message, certificate), 60)
        signatures, verifications = _PER_QUERY[name]
        total_us += signatures * sign_us + verifications * verify_us
        per_class[name] = {"bytes": len(message), "sign_us": round(sign_us, 1),
                           "verify_us": round(verify_us, 1)}  # fmt: skip
    return {"per_class": per_class, "ms": round(total_us / 1000, 1)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=48, help="queries per concurrency level")
    parser.add_argument("--children", type=int, default=500, help="children per borough index")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        options = DemoOptions(
            workdir=Path(folder),
            children_per_authority=arguments.children,
            deadline_seconds=30,
            witness_interval_seconds=600,  # no background cosigning during the runs
        )
        prepare(options)
        async with DemoWorld(options) as world:
            client = world.client(REQUESTER)
            await _run(client, 4, 1)  # warm caches and connections
            levels = [await _run(client, arguments.queries, c) for c in (1, 8, 32)]
            layout = options.pki
            floor = _floor_ms(
                world.apps[HUB][LOG_KEY],
                party_signer(layout, HUB),
            )
    for level in levels:
        level["cpu_vs_floor"] = round(level["cpu_ms_per_query"] / float(floor["ms"]), 3)
    print(
        json.dumps(
            {"nodes": 33, "levels": levels, "signxml_floor_per_query": floor,
             "goal": "cpu_vs_floor <= 1.3"},
            indent=2,
        )
    )  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
