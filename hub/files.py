"""Writing keys and public material to disk: atomically, with the right mode from creation."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Final

__all__ = ["PUBLIC_MODE", "SECRET_MODE", "write_file"]

SECRET_MODE: Final = 0o600
"""Private keys: readable by their owner only, from the first byte."""
PUBLIC_MODE: Final = 0o644
"""Certificates, CRLs, verifier keys: readable by everyone."""


def write_file(path: Path, data: bytes, *, mode: int, overwrite: bool) -> None:
    """Write ``data`` to ``path`` with ``mode``; readers never see half a file.

    The bytes go to a temporary name created with ``O_EXCL`` (never through a
    file or symlink someone else put there), are synced, then moved into
    place: replacing ``path`` when ``overwrite``, else linked so that an
    existing ``path`` is never touched (``FileExistsError``). Raises
    ``OSError`` as the operating system reports it.
    """
    # The temporary name keeps the target's suffix, so a key left behind by a
    # crash is still "*.key" and still ignored by git.
    temporary = path.with_name(f".{path.stem}.{secrets.token_hex(6)}.tmp{path.suffix}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            # The umask may have narrowed the mode; public files must stay
            # readable, and narrowing a secret further is harmless.
            if mode == PUBLIC_MODE:
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
