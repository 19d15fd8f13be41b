"""The SQLite index answers exactly as the in-memory reference does, from any thread,
partial records included; it opens only an index that exists, and follows a new one."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.index.base import IndexStatus
from adapters.index.blocking import BlockingKeys, record_keys, subject_keys
from adapters.index.fields import LocalId
from adapters.index.memory import MemoryChildIndex
from adapters.index.model import ChildRecord, Subject
from adapters.index.replace import import_exports
from adapters.index.sqlite import SqliteChildIndex
from adapters.matching.matcher import find
from adapters.synthetic import corrupted_queries, generate_children, generate_involvements
from adapters.synthetic.csvfiles import write_csv
from hub.errors import InternalError

AUTHORITY = "E09000028"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    sqlite: SqliteChildIndex
    memory: MemoryChildIndex
    children: list[ChildRecord]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    complete = generate_children(AUTHORITY, 3000, seed=5)
    # Every 40th child again, without identifiers, as partial records:
    # undated, not yet named, known by a given name only.
    partial = [
        replace(child, local_id=LocalId(f"P{n:03d}-{k}"), nhs_number=None, upn=None, **change)  # type: ignore[arg-type]
        for n, child in enumerate(complete[::40])
        for k, change in enumerate(
            ({"birth_date": None}, {"given_names": ()}, {"family_name": None})
        )
    ]
    children = [*complete, *partial]
    involvements = generate_involvements(children, seed=5, authority=AUTHORITY)
    directory = tmp_path_factory.mktemp("sqlite")
    import_exports(
        directory / "index.sqlite", *write_csv(directory, children, involvements), now=NOW
    )
    sqlite = SqliteChildIndex(directory / "index.sqlite")
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
    smiths = sum("SMITH" in (c.family_name or "").upper().split("-") for c in children)
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


def test_partial_records_come_back_as_they_went_in(world: World) -> None:
    for record in world.children[3000:3006]:
        assert record in world.sqlite.candidates(record_keys(record), limit=200)


def test_an_undated_record_is_a_candidate_for_a_query_by_name_and_birth_date(
    world: World,
) -> None:
    original, undated = world.children[0], world.children[3000]
    assert (undated.birth_date, undated.given_names) == (None, original.given_names)
    subject = Subject.create(
        given_names=original.given_names,
        family_name=original.family_name,
        birth_date=original.birth_date,
    )
    keys = subject_keys(subject)
    assert keys.undated
    for index in (world.sqlite, world.memory):
        assert undated.local_id in {r.local_id for r in index.candidates(keys, limit=60)}


def test_status_is_the_number_of_children_and_the_import_time(world: World) -> None:
    assert world.sqlite.status() == IndexStatus(children=len(world.children), refreshed_at=NOW)


def test_a_missing_index_is_refused_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "indx.sqlite"
    with pytest.raises(
        InternalError,
        match=r"children's index .*indx\.sqlite does not exist: import the exports into it "
        r"\(irthub node import\) or correct the path",
    ):
        SqliteChildIndex(path)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_database_is_an_internal_error(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InternalError, match=r"index .*\.sqlite: file is not a database"):
        SqliteChildIndex(path)


def test_an_empty_sqlite_file_is_not_an_index(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    sqlite3.connect(path).close()
    with pytest.raises(InternalError, match=r"no such table: meta; is it an index written by"):
        SqliteChildIndex(path)


def test_an_index_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    _import_one(path, "C1,Ann,Lee,,2015-01-01,F,,,,")
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '0')")
    with pytest.raises(InternalError, match="has schema version 0, this node reads 2"):
        SqliteChildIndex(path)


def test_an_index_without_an_import_time_cannot_say_how_old_it_is(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    _import_one(path, "C1,Ann,Lee,,2015-01-01,F,,,,")
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DELETE FROM meta WHERE key = 'imported_at'")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with (
        SqliteChildIndex(path) as index,
        pytest.raises(InternalError, match="does not record when it was imported"),
    ):
        index.status()


def test_a_new_index_put_in_place_is_read_from_the_next_call(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    _import_one(path, "C1,Ann,Lee,,2015-01-01,F,,,,")
    with SqliteChildIndex(path) as index:
        assert index.name_frequencies().family == {"LEE": 1}
        replacement = tmp_path / "other.sqlite"
        _import_one(replacement, "C1,Ann,Okafor,,2015-01-01,F,,,,")
        replacement.replace(path)
        assert index.name_frequencies().family == {"OKAFOR": 1}
        path.unlink()
        with pytest.raises(InternalError, match=r"index\.sqlite is gone .*irthub node rollback"):
            index.status()
        path.write_bytes(b"not an index")
        with pytest.raises(InternalError, match="still reading the index it replaced"):
            index.status()
        assert index.name_frequencies().family == {"OKAFOR": 1}


def _import_one(path: Path, row: str) -> None:
    folder = path.parent / f"{path.stem}-csv"
    folder.mkdir()
    (folder / "c.csv").write_text(
        "local_id,given_names,family_name,other_names,birth_date,sex,postcode,address,"
        f"nhs_number,upn\n{row}\n",
        encoding="utf-8",
    )
    (folder / "i.csv").write_text(
        "local_id,agency,service,category,status,start_date,end_date,lead_professional,caf,"
        "practitioner_name,practitioner_role,practitioner_phone,practitioner_email\n",
        encoding="utf-8",
    )
    import_exports(path, folder / "c.csv", folder / "i.csv", now=NOW)
