"""The SQLite index answers exactly as the in-memory reference does, from any thread."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.index.blocking import BlockingKeys, subject_keys
from adapters.index.memory import MemoryChildIndex
from adapters.index.model import ChildRecord
from adapters.index.sqlite import SqliteChildIndex
from adapters.matching.matcher import find
from adapters.synthetic import corrupted_queries, generate_children, generate_involvements
from adapters.synthetic.csvfiles import write_csv
from hub.errors import InternalError

AUTHORITY = "E09000028"


@dataclass(frozen=True)
class World:
    sqlite: SqliteChildIndex
    memory: MemoryChildIndex
    children: list[ChildRecord]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    children = generate_children(AUTHORITY, 3000, seed=5)
    involvements = generate_involvements(children, seed=5, authority=AUTHORITY)
    directory = tmp_path_factory.mktemp("sqlite")
    sqlite = SqliteChildIndex(directory / "index.sqlite")
    sqlite.import_csv(*write_csv(directory, children, involvements))
    yield World(sqlite, MemoryChildIndex(children, involvements), children)
    sqlite.close()


def test_candidates_equal_the_reference_implementation(world: World) -> None:
    sqlite, memory, children = world.sqlite, world.memory, world.children
    for subject, _ in corrupted_queries(children, 150, seed=6):
        keys = subject_keys(subject)
        expected = [r.local_id for r in memory.candidates(keys, limit=25)]
        assert [r.local_id for r in sqlite.candidates(keys, limit=25)] == expected


def test_identifier_holders_come_whatever_the_limit(world: World) -> None:
    sqlite, children = world.sqlite, world.children
    child = next(c for c in children if c.nhs_number and c.upn)
    other = next(c for c in children if c.upn and c.local_id != child.local_id)
    keys = BlockingKeys(
        nhs_numbers=frozenset({child.nhs_number or ""}), upns=frozenset({other.upn or ""})
    )
    found = sqlite.candidates(keys, limit=0)
    assert {r.local_id for r in found} == {child.local_id, other.local_id}
    assert child in found


def test_name_frequencies_count_each_child_once(world: World) -> None:
    sqlite, memory, children = world.sqlite, world.memory, world.children
    frequencies = sqlite.name_frequencies()
    assert frequencies == memory.name_frequencies()
    assert frequencies.children == len(children)
    smiths = sum("SMITH" in c.family_name.upper().split("-") for c in children)
    assert frequencies.family.get("SMITH", 0) >= smiths > 0


def test_involvements_come_back_in_file_order(world: World) -> None:
    sqlite, memory, children = world.sqlite, world.memory, world.children
    for child in children[:50]:
        assert sqlite.involvements(child.local_id) == memory.involvements(child.local_id)


def test_matching_from_many_threads_agrees(world: World) -> None:
    sqlite, memory, children = world.sqlite, world.memory, world.children
    queries = [subject for subject, _ in corrupted_queries(children, 40, seed=8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda s: find(s, index=sqlite), queries))
    assert threaded == [find(s, index=memory) for s in queries]


def test_a_file_that_is_not_a_database_is_an_internal_error(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InternalError, match=r"index .*\.sqlite: file is not a database"):
        SqliteChildIndex(path)


def test_an_index_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    SqliteChildIndex(path).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '0')")
    with pytest.raises(InternalError, match="has schema version 0, this node reads 1"):
        SqliteChildIndex(path)
