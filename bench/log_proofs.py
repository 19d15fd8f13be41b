"""Benchmark the verifiable-log core on SQLite: batched appends and proofs at 1M leaves.

Prints one JSON object. Goals (issue 5): appends >= 10,000 leaf hashes/s in
batches of 1,000, and inclusion and consistency proofs (generation plus
verification) < 1 ms at 1,000,000 leaves. The baseline, measured in the same
run, is the floor for verifying one proof in Python: ``hashlib.sha256`` of
64 bytes, log2(n) times.

Usage: ``python -m bench.log_proofs [--leaves N] [--samples K]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from hub.log.merkle import leaf_hash, verify_consistency, verify_inclusion
from hub.log.tree import append_leaves, consistency_proof, inclusion_proof, root
from hub.storage.sqlite.merkle_nodes import SqliteNodeStore

T = TypeVar("T")

BATCH = 1_000
GOAL_APPENDS_PER_S = 10_000
GOAL_PROOF_US = 1_000


def _median_us(samples_ns: list[int]) -> float:
    return round(statistics.median(samples_ns) / 1_000, 1)


def _timed(call: Callable[[], T]) -> tuple[int, T]:
    start = time.perf_counter_ns()
    result = call()
    return time.perf_counter_ns() - start, result


def _baseline_ns(size: int, samples: int) -> list[int]:
    block = bytes(64)
    rounds = math.ceil(math.log2(size))
    timings = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        for _ in range(rounds):
            hashlib.sha256(block).digest()
        timings.append(time.perf_counter_ns() - start)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2_000)
    args = parser.parse_args()
    size: int = args.leaves
    rng = random.Random(9162)

    with tempfile.TemporaryDirectory() as folder:
        store = SqliteNodeStore(Path(folder) / "nodes.sqlite")
        append_ns = 0
        for start in range(0, size, BATCH):
            batch = [
                leaf_hash(i.to_bytes(8, "big")) for i in range(start, min(start + BATCH, size))
            ]
            elapsed, _ = _timed(partial(append_leaves, store, batch))
            append_ns += elapsed
        db_bytes = sum(path.stat().st_size for path in Path(folder).iterdir())

        root_ns, top = _timed(partial(root, store, size))
        inclusion_gen: list[int] = []
        inclusion_ver: list[int] = []
        consistency_gen: list[int] = []
        consistency_ver: list[int] = []
        for _ in range(args.samples):
            index = rng.randrange(size)
            elapsed, proof = _timed(partial(inclusion_proof, store, index, size))
            inclusion_gen.append(elapsed)
            leaf = leaf_hash(index.to_bytes(8, "big"))
            elapsed, _ = _timed(partial(verify_inclusion, leaf, index, size, proof, top))
            inclusion_ver.append(elapsed)
        for _ in range(args.samples // 4):
            old = rng.randrange(1, size)
            old_root = root(store, old)
            elapsed, proof = _timed(partial(consistency_proof, store, old, size))
            consistency_gen.append(elapsed)
            elapsed, _ = _timed(partial(verify_consistency, old, size, proof, old_root, top))
            consistency_ver.append(elapsed)
        store.close()

    appends_per_s = round(size / (append_ns / 1e9))
    inclusion_total = _median_us([g + v for g, v in zip(inclusion_gen, inclusion_ver, strict=True)])
    consistency_total = _median_us(
        [g + v for g, v in zip(consistency_gen, consistency_ver, strict=True)]
    )
    report = {
        "leaves": size,
        "store": "sqlite (WAL, synchronous=NORMAL)",
        "database_mb": round(db_bytes / 1e6, 1),
        "append": {
            "batch_size": BATCH,
            "leaf_hashes_per_s": appends_per_s,
            "seconds": round(append_ns / 1e9, 2),
        },
        "root_us": round(root_ns / 1_000, 1),
        "inclusion_median_us": {
            "generate": _median_us(inclusion_gen),
            "verify": _median_us(inclusion_ver),
            "total": inclusion_total,
            "samples": len(inclusion_gen),
        },
        "consistency_median_us": {
            "generate": _median_us(consistency_gen),
            "verify": _median_us(consistency_ver),
            "total": consistency_total,
            "samples": len(consistency_gen),
        },
        "baseline_median_us": {
            "sha256_64_bytes_x_log2_n": _median_us(_baseline_ns(size, args.samples)),
            "rounds": math.ceil(math.log2(size)),
        },
        "goals": {
            "appends_per_s_at_least": GOAL_APPENDS_PER_S,
            "proof_us_below": GOAL_PROOF_US,
            "appends_met": appends_per_s >= GOAL_APPENDS_PER_S,
            "proofs_met": max(inclusion_total, consistency_total) < GOAL_PROOF_US,
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
