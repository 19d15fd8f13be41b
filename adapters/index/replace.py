"""Putting a new children's index in place: shrink guard, atomic swap, one step back.

The served index is one file, say ``index.sqlite``; beside it live

- ``index.sqlite.importing``: a new index while it is being written;
- ``index.sqlite.previous``: the index the last import or rollback replaced;
- ``index.sqlite.lock``: locked by an import or rollback while it runs.

``import_exports`` steps:

(1) read and check both exports, every bad row reported, all or nothing;
(2) refuse an export with no children, and one that drops more than the
    ``ShrinkGuard`` allows of the children in the index in place (a truncated
    nightly export must not replace a whole borough's index), unless forced;
(3) stop here for a dry run: nothing is written;
(4) write the new index to ``.importing`` and flush it to disk;
(5) keep the index in place as ``.previous``, through a hard link so that the
    served path never goes missing, then rename ``.importing`` over the served
    path: one atomic step, after which every new read sees the new index;
(6) flush the folder, so the renames survive a crash.

A node reading the index (``SqliteChildIndex``) answers from the old file
until (5) and from the new one after. A failure before (5), an interruption
included, deletes ``.importing`` and leaves the served index and its
``.previous`` as they were. ``rollback_index`` exchanges the served index
and ``.previous`` the same way, so a second rollback undoes the first.

POSIX only (``fcntl`` locks, renaming over a file another process has open).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

from adapters.index.csvimport import Exports, Progress, RowWarning, read_exports
from adapters.index.exportformat import ExportFormat
from adapters.index.fields import today_in_london
from adapters.index.model import Partial
from adapters.index.sqlite import SqliteChildIndex
from adapters.index.sqlite_build import ImportCounts, write_index
from hub.errors import InternalError, SchemaInvalid

__all__ = [
    "DEFAULT_MAX_SHRINK",
    "ImportReport",
    "IndexFiles",
    "RollbackReport",
    "ShrinkGuard",
    "import_exports",
    "rollback_index",
]

DEFAULT_MAX_SHRINK: Final = 0.10
"""A borough's children come and go by a few per cent a month; a tenth gone in
one import is far more likely a truncated or filtered export than real."""


@dataclass(frozen=True, slots=True)
class ShrinkGuard:
    """How many of the index's children one import may drop; fails closed by default."""

    max_share: float = DEFAULT_MAX_SHRINK
    """Largest share (0 to 1, exclusive) of the children in place that an
    import may drop; ``[node] index_max_shrink``."""
    unsafe_force: bool = False
    """Import whatever the drop (``--force``): for a borough that really lost
    children, e.g. after a boundary change or a purge of closed cases."""

    def __post_init__(self) -> None:
        if not 0 <= self.max_share < 1:
            raise SchemaInvalid(
                f"the largest share of children an import may drop must be at least 0 and "
                f"below 1 (e.g. 0.1 for a tenth), not {self.max_share}"
            )


@dataclass(frozen=True, slots=True)
class IndexFiles:
    """The served index file and the files kept beside it (see the module docstring)."""

    current: Path

    @property
    def importing(self) -> Path:
        """The new index while it is written."""
        return self._beside("importing")

    @property
    def previous(self) -> Path:
        """The index the last import or rollback replaced."""
        return self._beside("previous")

    @property
    def lock(self) -> Path:
        """Locked while an import or rollback runs."""
        return self._beside("lock")

    def _beside(self, suffix: str) -> Path:
        return self.current.with_name(f"{self.current.name}.{suffix}")


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did, or would do in a dry run."""

    path: Path
    children: int
    involvements: int
    before: int | None
    """Children in the index replaced; ``None`` when there was none."""
    written: bool
    """False for a dry run."""
    warnings: tuple[RowWarning, ...] = ()
    partial: Counter[Partial] = field(default_factory=Counter)
    counts: ImportCounts | None = None
    """Rows written; ``None`` for a dry run."""


@dataclass(frozen=True, slots=True)
class RollbackReport:
    """The index now served, and the one set aside as ``.previous``."""

    path: Path
    children: int
    imported_at: datetime | None
    replaced_children: int | None
    """Children in the index set aside; ``None`` when there was none in place."""


def import_exports(
    path: Path,
    children_csv: Path,
    involvements_csv: Path,
    *,
    now: datetime,
    export_format: ExportFormat | None = None,
    guard: ShrinkGuard | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Replace the index at ``path`` with two CSV exports (steps in the module docstring).

    ``now`` (time-zone aware) is recorded as the import time and dates the
    birth dates checked. Raises ``SchemaInvalid`` listing every bad row, for
    an export with no children, or for a drop beyond ``guard``; and
    ``InternalError`` when the folder, the index in place or the disk fails,
    or another import holds the lock. Whatever it raises, the index in place
    is unchanged.
    """
    files = IndexFiles(path)
    guard = guard or ShrinkGuard()
    if not path.parent.is_dir():
        raise InternalError(f"cannot import into {path}: the folder {path.parent} does not exist")
    exports = read_exports(  # (1)
        children_csv,
        involvements_csv,
        export_format=export_format,
        today=today_in_london(now),
        progress=progress,
    )
    before = _check_shrink(files, exports, guard)  # (2)
    report = ImportReport(
        path=path,
        children=len(exports.children),
        involvements=len(exports.involvements),
        before=before,
        written=False,
        warnings=exports.warnings,
        partial=exports.partial,
    )
    if dry_run:  # (3)
        return report
    with _locked(files):
        # Checked again under the lock: another import may have just finished.
        before = _check_shrink(files, exports, guard)
        files.importing.unlink(missing_ok=True)  # left by a crash; the lock is ours
        swapped = False
        try:
            counts = write_index(files.importing, exports, imported_at=now)  # (4)
            _keep_previous(files)  # (5)
            os.replace(files.importing, files.current)
            swapped = True
            _sync_folder(path.parent)  # (6)
        except OSError as exc:
            raise InternalError(f"cannot put the new index in place at {path}: {exc}") from exc
        finally:
            if not swapped:
                files.importing.unlink(missing_ok=True)
    return ImportReport(
        path=path,
        children=counts.children,
        involvements=counts.involvements,
        before=before,
        written=True,
        warnings=exports.warnings,
        partial=exports.partial,
        counts=counts,
    )


def rollback_index(path: Path) -> RollbackReport:
    """Serve ``.previous`` again and keep the index it replaces as ``.previous``.

    Raises ``InternalError`` when there is no previous index, it is not a
    readable index, or another import or rollback holds the lock; the index
    in place is then unchanged.
    """
    files = IndexFiles(path)
    with _locked(files):
        if not files.previous.exists():
            raise InternalError(
                f"there is no previous index to roll back to ({files.previous} does not exist)"
            )
        with SqliteChildIndex(files.previous) as previous:
            status = previous.status()
        replaced = _children_in(files.current) if files.current.exists() else None
        aside = files.current.with_name(f"{files.current.name}.swapping")
        try:
            aside.unlink(missing_ok=True)
            if files.current.exists():
                _link_or_copy(files.current, aside)
            os.replace(files.previous, files.current)
            if aside.exists():
                os.replace(aside, files.previous)
            _sync_folder(path.parent)
        except OSError as exc:
            raise InternalError(f"cannot roll back the index at {path}: {exc}") from exc
    return RollbackReport(path, status.children, status.refreshed_at, replaced)


def _check_shrink(files: IndexFiles, exports: Exports, guard: ShrinkGuard) -> int | None:
    """Step (2); the number of children in place, ``None`` when there is no index."""
    new = len(exports.children)
    if new == 0:
        raise SchemaInvalid(
            "the children's export holds no children; an empty index would answer "
            "not-known for every child: nothing was imported"
        )
    if not files.current.exists():
        return None
    try:
        before = _children_in(files.current)
    except InternalError as exc:
        if guard.unsafe_force:
            return None
        raise InternalError(
            f"{exc.reason}; the shrink guard cannot compare the new exports with it: "
            "import with --force to replace it anyway"
        ) from exc
    dropped = before - new
    if before and dropped / before > guard.max_share and not guard.unsafe_force:
        raise SchemaInvalid(
            f"the exports hold {new:,} children, {dropped:,} fewer than the {before:,} in "
            f"{files.current} (a drop of {100 * dropped / before:.1f} %, more than the "
            f"{100 * guard.max_share:g} % allowed): nothing was imported. Check that the "
            "export is complete; if the children really left, import again with --force"
        )
    return before


def _children_in(path: Path) -> int:
    """The children an index file holds, from its ``meta``; ``InternalError`` if unreadable."""
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as db:
            found = db.execute("SELECT value FROM meta WHERE key = 'children'").fetchone()
    except sqlite3.Error as exc:
        raise InternalError(f"the index in place {path} cannot be read: {exc}") from exc
    return 0 if found is None else int(found[0])


def _keep_previous(files: IndexFiles) -> None:
    """Step (5), first half: ``.previous`` becomes what is served now, which stays served."""
    if not files.current.exists():
        return
    staged = files.current.with_name(f"{files.current.name}.previous-new")
    staged.unlink(missing_ok=True)
    _link_or_copy(files.current, staged)
    os.replace(staged, files.previous)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        # A file system without hard links: a copy, as the file is never
        # written in place once it is served.
        shutil.copy2(source, target)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def _locked(files: IndexFiles) -> Iterator[None]:
    try:
        handle = files.lock.open("a")
    except OSError as exc:
        raise InternalError(f"cannot open the lock file {files.lock}: {exc.strerror}") from exc
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise InternalError(
                f"another import or rollback of {files.current} is running "
                f"(it holds {files.lock}); wait for it to finish"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
