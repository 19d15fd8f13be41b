"""The one atomic file writer: mode from creation, nothing half-written, nothing left behind."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub.files import PUBLIC_MODE, SECRET_MODE, UMASK_MODE, write_file
from tests.support.paths import REPO


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("mask", "mode", "expected"),
    [
        (0o000, SECRET_MODE, 0o600),
        (0o077, PUBLIC_MODE, 0o644),
        (0o000, PUBLIC_MODE, 0o644),
        (0o027, UMASK_MODE, 0o640),
        (0o077, UMASK_MODE, 0o600),
    ],
)
def test_the_mode_is_set_whatever_the_umask_unless_the_umask_is_asked_for(
    tmp_path: Path, umask: Callable[[int], int], mask: int, mode: int | None, expected: int
) -> None:
    umask(mask)
    write_file(tmp_path / "f", b"data", mode=mode, overwrite=False)
    assert (_mode(tmp_path / "f"), (tmp_path / "f").read_bytes()) == (expected, b"data")


def test_a_secret_is_never_wider_than_its_mode_not_even_before_its_first_byte(
    tmp_path: Path, umask: Callable[[int], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    umask(0)
    target = tmp_path / "party.key"
    target.write_bytes(b"old")
    target.chmod(0o666)
    created: list[int] = []
    real_open = os.open

    def open_and_look(path: str | Path, flags: int, mode: int = 0o777) -> int:
        descriptor = real_open(path, flags, mode)
        created.append(stat.S_IMODE(os.fstat(descriptor).st_mode))
        return descriptor

    monkeypatch.setattr(os, "open", open_and_look)
    write_file(target, b"secret", mode=SECRET_MODE, overwrite=True)
    # The temporary file was 0o600 when it was made; the folder was opened to sync it.
    assert created[0] == 0o600
    assert (_mode(target), target.read_bytes()) == (0o600, b"secret")


def test_the_target_holds_the_old_bytes_until_the_new_ones_replace_them_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "E09000022.xml"
    target.write_bytes(b"old version")
    seen: list[tuple[bytes, bytes]] = []
    real_replace = os.replace

    def replace_and_look(source: str | Path, destination: str | Path) -> None:
        seen.append((Path(source).read_bytes(), Path(destination).read_bytes()))
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace_and_look)
    write_file(target, b"new version", mode=UMASK_MODE, overwrite=True)
    assert seen == [(b"new version", b"old version")]
    assert target.read_bytes() == b"new version"
    assert [p.name for p in tmp_path.iterdir()] == ["E09000022.xml"]


def test_the_file_and_then_its_folder_are_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync_and_note(descriptor: int) -> None:
        kind = "folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file"
        synced.append(kind)
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync_and_note)
    write_file(tmp_path / "state.json", b"{}", mode=UMASK_MODE, overwrite=True)
    assert synced == ["file", "folder"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")

    def full_disk(_descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match=r"No space left on device"):
        write_file(target, b"new", mode=UMASK_MODE, overwrite=True)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_without_overwrite_an_existing_file_is_never_touched(tmp_path: Path) -> None:
    target = tmp_path / "log.key"
    target.write_bytes(b"the key in use")
    with pytest.raises(FileExistsError, match=r"File exists"):
        write_file(target, b"another key", mode=SECRET_MODE, overwrite=False)
    assert target.read_bytes() == b"the key in use"
    assert [p.name for p in tmp_path.iterdir()] == ["log.key"]


def test_a_missing_folder_is_an_os_error_and_nothing_is_made(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"No such file or directory"):
        write_file(tmp_path / "absent" / "f", b"x", mode=UMASK_MODE, overwrite=True)
    assert list(tmp_path.iterdir()) == []


# Renames that are not a byte write: SQLite writes these files itself, and a
# node import renames them once SQLite has closed them, swapping the new index
# in and keeping the previous one for rollback. ``irthub pki init --force``
# moves the replaced CA's CRL history folder aside, whole, writing nothing.
_OTHER_RENAMES = {"adapters/index/replace.py", "hub/pki/issuing.py"}


def test_no_other_module_writes_to_a_temporary_name_and_renames_it() -> None:
    pattern = re.compile(r"os\.(replace|rename)\(|\.rename\(|\.(partial|tmp)[\"']")
    offenders = sorted(
        str(path.relative_to(REPO))
        for package in ("hub", "adapters", "irthub")
        for path in (REPO / package).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    )
    assert offenders == sorted({"hub/files.py", *_OTHER_RENAMES})
