"""A throwaway PostgreSQL cluster on loopback, for the storage tests.

``throwaway_cluster()`` runs ``initdb`` (trust authentication, no fsync: the
cluster dies with the test run) in a fresh temporary folder, starts it with
``pg_ctl`` on 127.0.0.1 and a free port, yields a DSN, then stops the server
and deletes the folder. PostgreSQL refuses to run as root, so when the tests
run as root the server runs as the ``postgres`` OS user (``runuser``) in a
folder that user owns.

``pg_bin_dir()`` finds the server binaries: ``$PATH`` first, then the
Debian layout ``/usr/lib/postgresql/<version>/bin`` (newest version).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.support.loopback import free_port

__all__ = ["pg_bin_dir", "throwaway_cluster"]

_SERVER_USER = "postgres"


def pg_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or ``None`` if PostgreSQL is absent."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


@contextlib.contextmanager
def throwaway_cluster(bin_dir: Path) -> Iterator[str]:
    """Start a cluster from ``bin_dir``'s binaries; yield its DSN; stop and delete it.

    Raises ``RuntimeError`` with the server's own output if it cannot start.
    """
    as_root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="irt-pg-"))
    data = folder / "data"
    prefix: list[str] = []
    if as_root:
        account = pwd.getpwnam(_SERVER_USER)
        os.chown(folder, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", _SERVER_USER, "--"]
    # PostgreSQL binds its port itself: free_port's protection is all there is.
    port = free_port()
    user = _SERVER_USER if as_root else pwd.getpwuid(os.geteuid()).pw_name
    try:
        _run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", user,
              "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"])  # fmt: skip
        options = (
            f"-k {folder} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c full_page_writes=off -c max_connections=200"
        )
        _run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
              "-l", str(folder / "server.log"), "-w", "-t", "60", "start"])  # fmt: skip
        try:
            yield f"postgresql://{user}@127.0.0.1:{port}/postgres"
        finally:
            _run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                  "-w", "stop"])  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stdout}{done.stderr}")
