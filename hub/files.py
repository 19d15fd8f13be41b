"""The one way files that others read are written: atomically, durably, with the right mode.

Keys, certificates, ISP documents, a witness's state and evidence bundles
are all written by ``write_file``, so that a reader (a hub starting, an
auditor, the next run after a crash) sees the old file or the new one,
never half of either.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Final

__all__ = ["PUBLIC_MODE", "SECRET_MODE", "UMASK_MODE", "write_file"]

SECRET_MODE: Final = 0o600
"""Private keys: readable by their owner only, from the first byte."""
PUBLIC_MODE: Final = 0o644
"""Certificates, CRLs, verifier keys: readable by everyone, whatever the umask."""
UMASK_MODE: Final = None
"""Any other file: ``0o666`` narrowed by the process umask, as ``open()`` creates files."""

_UMASKED: Final = 0o666


def write_file(path: Path, data: bytes, *, mode: int | None, overwrite: bool) -> None:
    """Write ``data`` to ``path``; readers never see half a file.

    (1) The bytes go to a fresh temporary name beside ``path``, created with
        ``O_EXCL`` (never through a file or symlink someone else put there)
        and with ``mode`` from creation: exactly ``mode`` whatever the umask,
        or ``UMASK_MODE`` (``None``) for what ``open()`` would give.
    (2) They are synced, then moved into place: replacing ``path`` when
        ``overwrite`` (``os.replace``, atomic on POSIX), else linked so that
        an existing ``path`` is never touched (``FileExistsError``).
    (3) The folder is synced, so that the new name survives a power cut.

    The temporary file is removed whatever fails. Raises ``OSError`` as the
    operating system reports it.
    """
    # The temporary name starts with a dot (no "E09*.xml" glob picks it up)
    # and keeps the target's suffix, so a key left behind by a crash is still
    # "*.key" and still ignored by git.
    temporary = path.with_name(f".{path.stem}.{secrets.token_hex(6)}.tmp{path.suffix}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    descriptor = os.open(temporary, flags, _UMASKED if mode is None else mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if mode is not None:
                # The umask may have narrowed the mode; public files must stay
                # readable, and a secret is created no wider than 0o600 anyway.
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
