"""Putting a new index in place: the shrink guard, dry runs, atomic swap and rollback."""

from __future__ import annotations

import fcntl
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import adapters.index.replace as replace_module
from adapters.index.csvimport import CHILDREN_COLUMNS, INVOLVEMENT_COLUMNS, read_exports
from adapters.index.model import Subject
from adapters.index.replace import (
    IndexFiles,
    ShrinkGuard,
    import_exports,
    rollback_index,
)
from adapters.index.sqlite import SqliteChildIndex
from adapters.index.sqlite_build import ImportCounts, write_index
from adapters.matching.matcher import find
from hub.errors import InternalError, SchemaInvalid

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _exports(folder: Path, count: int, family: str = "Okafor") -> tuple[Path, Path]:
    """``count`` children, all called Ann ``family``, born on different days of 2015."""
    folder.mkdir(parents=True, exist_ok=True)
    children = folder / "children.csv"
    involvements = folder / "involvements.csv"
    rows = [
        f"C{n},Ann,{family},,{(datetime(2015, 1, 1) + timedelta(days=n)).date()},F,,,,"
        for n in range(count)
    ]
    children.write_text("\n".join([",".join(CHILDREN_COLUMNS), *rows]) + "\n", encoding="utf-8")
    involvements.write_text(",".join(INVOLVEMENT_COLUMNS) + "\n", encoding="utf-8")
    return children, involvements


def _index(tmp_path: Path, count: int = 100) -> Path:
    path = tmp_path / "index.sqlite"
    import_exports(path, *_exports(tmp_path / "first", count), now=NOW)
    return path


def _children(path: Path) -> int:
    with SqliteChildIndex(path) as index:
        return index.status().children


def test_a_truncated_export_is_refused_and_the_index_kept(tmp_path: Path) -> None:
    path = _index(tmp_path)
    with pytest.raises(
        SchemaInvalid,
        match=r"the exports hold 2 children, 98 fewer than the 100 in .*index\.sqlite "
        r"\(a drop of 98\.0 %, more than the 10 % allowed\): nothing was imported\. Check that "
        r"the export is complete; if the children really left, import again with --force",
    ):
        import_exports(path, *_exports(tmp_path / "truncated", 2), now=NOW)
    assert _children(path) == 100
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "index.sqlite",
        "index.sqlite.lock",
    ]


def test_a_drop_within_the_share_or_forced_is_imported(tmp_path: Path) -> None:
    path = _index(tmp_path)
    import_exports(path, *_exports(tmp_path / "ninety", 90), now=NOW)
    assert _children(path) == 90
    guard = ShrinkGuard(max_share=0.5)
    with pytest.raises(SchemaInvalid, match=r"a drop of 66\.7 %, more than the 50 % allowed"):
        import_exports(path, *_exports(tmp_path / "thirty", 30), now=NOW, guard=guard)
    forced = import_exports(
        path, *_exports(tmp_path / "two", 2), now=NOW, guard=ShrinkGuard(unsafe_force=True)
    )
    assert (forced.before, forced.children, _children(path)) == (90, 2, 2)


def test_an_export_without_children_is_refused_even_forced(tmp_path: Path) -> None:
    path = _index(tmp_path)
    with pytest.raises(SchemaInvalid, match="the children's export holds no children; an empty"):
        import_exports(
            path, *_exports(tmp_path / "none", 0), now=NOW, guard=ShrinkGuard(unsafe_force=True)
        )
    assert _children(path) == 100


@pytest.mark.parametrize("share", [-0.1, 1.0, 1.5])
def test_the_shrink_share_must_be_a_share(share: float) -> None:
    with pytest.raises(SchemaInvalid, match="must be at least 0 and below 1"):
        ShrinkGuard(max_share=share)


def test_a_dry_run_reports_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    report = import_exports(path, *_exports(tmp_path / "csv", 5), now=NOW, dry_run=True)
    assert (report.written, report.children, report.before, report.counts) == (
        False,
        5,
        None,
        None,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["csv"]
    path = _index(tmp_path)
    with pytest.raises(SchemaInvalid, match=r"a drop of 95\.0 %"):
        import_exports(path, *_exports(tmp_path / "few", 5), now=NOW, dry_run=True)


def test_the_index_replaced_is_kept_and_a_rollback_serves_it_again(tmp_path: Path) -> None:
    path = _index(tmp_path, 100)
    report = import_exports(path, *_exports(tmp_path / "second", 95), now=NOW)
    assert (report.before, report.children) == (100, 95)
    files = IndexFiles(path)
    assert (_children(path), _children(files.previous)) == (95, 100)
    back = rollback_index(path)
    assert (back.children, back.replaced_children, back.imported_at) == (100, 95, NOW)
    assert (_children(path), _children(files.previous)) == (100, 95)
    rollback_index(path)
    assert (_children(path), _children(files.previous)) == (95, 100)
    assert not files.importing.exists()


def test_there_is_nothing_to_roll_back_to_before_a_second_import(tmp_path: Path) -> None:
    path = _index(tmp_path)
    with pytest.raises(InternalError, match=r"no previous index to roll back to \(.*previous"):
        rollback_index(path)
    assert _children(path) == 100


def test_a_running_reader_switches_only_when_the_new_index_is_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "index.sqlite"
    import_exports(path, *_exports(tmp_path / "old", 50, "Okafor"), now=NOW)
    reader = SqliteChildIndex(path)
    ann = Subject.create(given_names=["Ann"], family_name="Okafor", birth_date=NOW.date())
    seen_while_writing: list[int] = []
    real_write = write_index

    def observed(*args: Any, **kwargs: Any) -> ImportCounts:
        counts = real_write(*args, **kwargs)
        # The new file is complete but not yet in place: still the old index.
        seen_while_writing.append(reader.name_frequencies().family["OKAFOR"])
        return counts

    monkeypatch.setattr(replace_module, "write_index", observed)
    import_exports(path, *_exports(tmp_path / "new", 48, "Mensah"), now=NOW)
    assert seen_while_writing == [50]
    assert reader.name_frequencies().family == {"MENSAH": 48}
    assert reader.status().children == 48
    assert find(ann, index=reader).status == "not-known"
    reader.close()


def test_a_failed_write_leaves_the_old_index_serving_and_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _index(tmp_path)
    reader = SqliteChildIndex(path)

    def interrupted(target: Path, *args: object, **kwargs: object) -> object:
        target.write_bytes(b"half an index")
        raise KeyboardInterrupt

    monkeypatch.setattr(replace_module, "write_index", interrupted)
    with pytest.raises(KeyboardInterrupt):
        import_exports(path, *_exports(tmp_path / "new", 100, "Mensah"), now=NOW)
    assert reader.status().children == 100
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "index.sqlite",
        "index.sqlite.lock",
    ]
    reader.close()


def test_a_second_import_at_the_same_time_is_refused(tmp_path: Path) -> None:
    path = _index(tmp_path)
    files = IndexFiles(path)
    with files.lock.open("a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(InternalError, match=r"another import or rollback of .* is running"):
            import_exports(path, *_exports(tmp_path / "new", 100), now=NOW)
        with pytest.raises(InternalError, match="another import or rollback"):
            rollback_index(path)
    assert _children(path) == 100


def test_an_unreadable_index_in_place_needs_force(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    path.write_bytes(b"not an index at all" * 50)
    with pytest.raises(
        InternalError, match=r"cannot be read: .*import with --force to replace it anyway"
    ):
        import_exports(path, *_exports(tmp_path / "csv", 10), now=NOW)
    forced = import_exports(
        path, *_exports(tmp_path / "csv", 10), now=NOW, guard=ShrinkGuard(unsafe_force=True)
    )
    assert (forced.before, _children(path)) == (None, 10)


def test_an_import_into_a_missing_folder_names_it(tmp_path: Path) -> None:
    with pytest.raises(InternalError, match=r"the folder .*typo does not exist"):
        import_exports(tmp_path / "typo" / "index.sqlite", *_exports(tmp_path, 3), now=NOW)


def test_the_index_writer_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "taken.sqlite"
    path.write_bytes(b"someone else's")
    with pytest.raises(InternalError, match="already exists"):
        write_index(path, read_exports(*_exports(tmp_path, 3)), imported_at=NOW)
    assert path.read_bytes() == b"someone else's"


def test_readers_in_other_threads_never_see_a_missing_index(tmp_path: Path) -> None:
    path = _index(tmp_path, 40)
    reader = SqliteChildIndex(path)
    stop = threading.Event()
    seen: set[int] = set()
    errors: list[Exception] = []

    def read() -> None:
        while not stop.is_set():
            try:
                seen.add(reader.status().children)
            except InternalError as exc:  # pragma: no cover - the failure being guarded
                errors.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for count in (39, 40, 39, 40):
            import_exports(path, *_exports(tmp_path / f"n{count}", count), now=NOW)
            rollback_index(path)
    finally:
        stop.set()
        thread.join()
        reader.close()
    assert errors == []
    assert seen <= {39, 40}
