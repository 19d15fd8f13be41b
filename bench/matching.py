"""Match latency and accuracy of a borough node's children's index, beside an identifier lookup.

Prints JSON. Builds a synthetic 100,000-child SQLite index of one borough
(``irthub node synth`` data, imported through ``adapters.index.replace.import_exports``),
then answers 10,000 corrupted queries with ground truth
(``adapters.synthetic.corrupted_queries``: typos, nicknames, swapped names,
date errors, moves, strangers) through ``adapters.matching.matcher.find``.

- ``latency_ms``: the whole ``find`` per query (blocking, scoring, decision,
  involvements for a known child), p50/p95/p99;
- ``baseline_ms``: a single indexed lookup by NHS number on the same index in
  the same run (``candidates`` with identifiers only), the floor any match
  costs;
- ``accuracy``: recall = right ``known`` answers / queries about indexed
  children; precision = right ``known`` / all ``known``. ``ambiguous`` answers
  are counted apart: neither a false match nor a recall hit.
- ``match_threshold_curve``: precision and recall of ``known`` as the match
  threshold moves from 5 to 16 points (``bench._curve``), not timed.

Goals (issue 3): p95 < 10 ms; recall >= 0.97 at precision >= 0.995.

    python -m bench.matching [--children N] [--queries N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from adapters.index.blocking import BlockingKeys
from adapters.index.replace import import_exports
from adapters.index.sqlite import SqliteChildIndex
from adapters.matching.matcher import find, rank
from adapters.synthetic import (
    corrupted_queries,
    generate_children,
    generate_involvements,
    write_csv,
)
from bench._curve import threshold_curve

AUTHORITY = "E09000022"


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50": round(cuts[49] * 1000, 3),
        "p95": round(cuts[94] * 1000, 3),
        "p99": round(cuts[98] * 1000, 3),
        "max": round(ordered[-1] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    children = generate_children(AUTHORITY, args.children, args.seed)
    involvements = generate_involvements(children, args.seed, authority=AUTHORITY)
    queries = corrupted_queries(children, args.queries, args.seed + 1)
    generated = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as directory:
        paths = write_csv(Path(directory), children, involvements)
        path = Path(directory) / "index.sqlite"
        started = time.perf_counter()
        counts = import_exports(path, *paths, now=datetime.now(UTC)).counts
        imported = time.perf_counter() - started
        assert counts is not None  # written, not a dry run
        with SqliteChildIndex(path) as index:
            rng = random.Random(args.seed)
            numbers = [c.nhs_number for c in children if c.nhs_number is not None]
            baseline = []
            for number in rng.sample(numbers, min(len(numbers), args.queries)):
                keys = BlockingKeys(nhs_numbers=frozenset((number,)))
                started = time.perf_counter()
                index.candidates(keys, limit=0)
                baseline.append(time.perf_counter() - started)

            latency = []
            outcome: Counter[str] = Counter()
            for subject, expected in queries:
                started = time.perf_counter()
                result = find(subject, index=index)
                latency.append(time.perf_counter() - started)
                side = "present" if expected is not None else "absent"
                if result.status == "known":
                    found = result.record is not None and result.record.local_id == expected
                    outcome[f"{side}-known-{'right' if found else 'wrong'}"] += 1
                else:
                    outcome[f"{side}-{result.status}"] += 1
            # the curve: the same queries ranked once more, decided at each threshold
            ranked = [
                (expected, subject, rank(subject, index=index)) for subject, expected in queries
            ]
            curve = threshold_curve(ranked)

    present = sum(n for key, n in outcome.items() if key.startswith("present"))
    right = outcome["present-known-right"]
    known = right + outcome["present-known-wrong"] + outcome["absent-known-wrong"]
    recall = right / present if present else 0.0
    precision = right / known if known else 1.0
    latencies = _percentiles(latency)
    print(
        json.dumps(
            {
                "index": {
                    "children": counts.children,
                    "involvements": counts.involvements,
                    "name_code_rows": counts.name_codes,
                    "import_seconds": round(imported, 2),
                    "generate_seconds": round(generated, 2),
                },
                "queries": len(queries),
                "latency_ms": latencies,
                "baseline_ms": {"nhs_number_lookup": _percentiles(baseline)},
                "accuracy": {
                    "recall": round(recall, 4),
                    "precision": round(precision, 4),
                    "ambiguous_present": outcome["present-ambiguous"],
                    "ambiguous_absent": outcome["absent-ambiguous"],
                    "not_known_present": outcome["present-not-known"],
                    "false_known": outcome["present-known-wrong"] + outcome["absent-known-wrong"],
                    "outcomes": dict(sorted(outcome.items())),
                },
                "match_threshold_curve": curve,
                "goals": {
                    "p95_under_10ms": latencies["p95"] < 10,
                    "recall_at_least_0.97": recall >= 0.97,
                    "precision_at_least_0.995": precision >= 0.995,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
