"""Import throughput of a borough's children's index, beside a bare SQLite ``executemany``.

Prints one JSON object. Writes synthetic exports of ``--children`` children
(default 100,000, ``adapters.synthetic``) and their involvements, then, in
one run:

- ``first``: ``import_exports`` into an empty folder (no index to guard);
- ``replace``: ``import_exports`` again over that index while a reader
  (``SqliteChildIndex``, as a running node holds one) is open: the shrink
  guard counts the children in place, the new index is written beside it,
  the old one kept as ``.previous`` and the new one renamed into place; the
  reader is then asked for its status, and must see the new import time;
- ``phases_seconds``: the same work taken apart: reading and checking the
  CSV (``read_exports``), writing the index file (``write_index``: rows,
  name codes, frequencies, indexes, fsync), and the guard and swap;
- ``baseline``: the children's rows alone inserted with one ``executemany``
  into an unindexed SQLite table in one transaction: the floor any import
  into SQLite costs, without checking a field, blocking keys or indexes.

Throughput is children per second of the whole import (CSV to a served
index), and of the baseline.

    python bench/import.py [--children N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.index.csvimport import read_exports
from adapters.index.model import ChildRecord
from adapters.index.replace import IndexFiles, import_exports
from adapters.index.sqlite import SqliteChildIndex
from adapters.index.sqlite_build import write_index
from adapters.index.sqlite_schema import SCHEMA, child_row
from adapters.synthetic import generate_children, generate_involvements, write_csv

AUTHORITY = "E09000022"


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    children = generate_children(AUTHORITY, args.children, args.seed)
    involvements = generate_involvements(children, args.seed, authority=AUTHORITY)
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        paths = write_csv(folder / "csv", children, involvements)
        csv_bytes = sum(path.stat().st_size for path in paths)
        index = folder / "index.sqlite"

        now = datetime.now(UTC)
        started = time.perf_counter()
        first = import_exports(index, *paths, now=now - timedelta(hours=1))
        first_seconds = time.perf_counter() - started

        reader = SqliteChildIndex(index)
        before = reader.status()
        started = time.perf_counter()
        second = import_exports(index, *paths, now=now)
        replace_seconds = time.perf_counter() - started
        after = reader.status()
        reader.close()
        kept = IndexFiles(index).previous.exists()

        started = time.perf_counter()
        exports = read_exports(*paths, today=now.date())
        read_seconds = time.perf_counter() - started
        started = time.perf_counter()
        write_index(folder / "again.sqlite", exports, imported_at=now)
        write_seconds = time.perf_counter() - started

        baseline_seconds = _bare_executemany(folder / "bare.sqlite", exports.children)

    count = len(children)
    print(
        json.dumps(
            {
                "children": count,
                "involvements": len(involvements),
                "csv_megabytes": round(csv_bytes / 1e6, 1),
                "import": {
                    "first": _rate(count, first_seconds) | {"before": first.before},
                    "replace": _rate(count, replace_seconds)
                    | {
                        "before": second.before,
                        "previous_kept": kept,
                        "reader_switched": before.refreshed_at != after.refreshed_at
                        and after.refreshed_at == now,
                    },
                },
                "phases_seconds": {
                    "read_and_check_csv": round(read_seconds, 2),
                    "write_index": round(write_seconds, 2),
                    "guard_and_swap": round(
                        max(0.0, replace_seconds - read_seconds - write_seconds), 2
                    ),
                },
                "baseline": {"bare_executemany": _rate(count, baseline_seconds)},
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            },
            indent=2,
        )
    )


def _bare_executemany(path: Path, children: Sequence[ChildRecord]) -> float:
    """Seconds to insert the children's rows alone, one ``executemany``, one transaction."""
    rows = [child_row(n, child) for n, child in enumerate(children, start=1)]
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.executescript(SCHEMA)
        started = time.perf_counter()
        db.execute("BEGIN")
        db.executemany("INSERT INTO child VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
        return time.perf_counter() - started


def _rate(count: int, seconds: float) -> dict[str, object]:
    return {"seconds": round(seconds, 2), "children_per_s": round(count / seconds)}


if __name__ == "__main__":
    main()
