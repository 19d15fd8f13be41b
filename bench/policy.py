"""Benchmark the policy engine; prints one JSON object.

    python -m bench.policy [--naive-stride N]

Measured on one core, in one run, over the shipped protocols:
- compiled: decisions/s over the full space of 33 × 32 authority pairs ×
  purposes × consent values × agency types (228,096 requests, level
  ``details``), requests built beforehand so only ``decide`` is timed;
- naive: the same with ``hub.policy.scan.scan_decide`` (rule scan), over every
  Nth request of the same space (default every 8th) because it is slow;
- load: parsing, validating and compiling the 33 documents;
- diff: ``diff_documents`` plus grouping for two versions of one document
  (goal < 2 s), and the number of changes it found.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import time
from datetime import UTC, datetime

from hub.clock import FixedClock
from hub.directory import default_directory
from hub.identifiers import AGENCY_TYPES, ALL_AUTHORITIES, CONSENT_VALUES, PURPOSES
from hub.policy.diff import diff_documents, group_changes
from hub.policy.engine import PolicyEngine
from hub.policy.model import parse_isp
from hub.policy.request import PolicyRequest
from hub.policy.scan import scan_decide
from hub.policy.signed import UnsafeUnsignedIspReader
from tests.support.paths import PROTOCOLS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive-stride", type=int, default=8)
    args = parser.parse_args()
    directory = default_directory()

    started = time.perf_counter()
    engine = PolicyEngine(
        directory=directory,
        reader=UnsafeUnsignedIspReader(),  # the committed texts are unsigned
        clock=FixedClock(datetime(2026, 11, 24, tzinfo=UTC)),
    )
    report = engine.load_folder(PROTOCOLS)
    load_s = time.perf_counter() - started
    assert report.ok, report.text()

    requests = [
        PolicyRequest(a, b, p, c, g)
        for a, b in itertools.permutations(ALL_AUTHORITIES, 2)
        for p, c, g in itertools.product(PURPOSES, CONSENT_VALUES, AGENCY_TYPES)
    ]
    decide = engine.decide
    for request in requests[:1000]:  # warm the memo the way a running hub would be
        decide(request)
    started = time.perf_counter()
    permits = sum(decide(r).permitted for r in requests)
    compiled_s = time.perf_counter() - started

    docs = dict(engine.documents)
    sample = requests[:: args.naive_stride]
    started = time.perf_counter()
    naive_permits = sum(scan_decide(r, docs, directory=directory).permitted for r in sample)
    naive_s = time.perf_counter() - started

    old_bytes = (PROTOCOLS / "E09000022.xml").read_bytes()
    head, tail = old_bytes.rsplit(b"<MaxLevel>existence</MaxLevel>", 1)
    new_bytes = head.replace(b"<Version>1</Version>", b"<Version>2</Version>")
    new_bytes += b"<MaxLevel>agencies</MaxLevel>" + tail
    old = parse_isp(old_bytes, source="E09000022.xml", directory=directory)
    new = parse_isp(new_bytes, source="E09000022-v2.xml", directory=directory)
    started = time.perf_counter()
    changes = diff_documents(old, new, directory=directory)
    groups = group_changes(changes)
    diff_s = time.perf_counter() - started

    print(
        json.dumps(
            {
                "python": platform.python_version(),
                "machine": platform.machine(),
                "documents": len(docs),
                "load_and_compile_s": round(load_s, 4),
                "compiled": {
                    "requests": len(requests),
                    "permits": permits,
                    "seconds": round(compiled_s, 4),
                    "decisions_per_s": round(len(requests) / compiled_s),
                },
                "naive_scan": {
                    "requests": len(sample),
                    "stride": args.naive_stride,
                    "permits": naive_permits,
                    "seconds": round(naive_s, 4),
                    "decisions_per_s": round(len(sample) / naive_s),
                },
                "speedup": round((len(requests) / compiled_s) / (len(sample) / naive_s), 1),
                "diff": {
                    "requests_enumerated": 2 * 32 * 6 * 4 * 9 * 4,
                    "changes": len(changes),
                    "groups": len(groups),
                    "seconds": round(diff_s, 4),
                    "goal_s": 2.0,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
