"""The public surface of ``hub.log`` is exactly what its ``__all__`` declares."""

from __future__ import annotations

import hub.log


def test_all_names_are_exported_and_resolve() -> None:
    exported = {name for name in dir(hub.log) if not name.startswith("_")}
    submodules = {
        "checkpoint",
        "cosignature",
        "errors",
        "merkle",
        "note",
        "sqlite_nodes",
        "tree",
        "witness",
        # The message log's modules, imported by name (hub.log.store, ...).
        "access",
        "audit",
        "bundle",
        "checkpointer",
        "entry",
        "evidence",
        "keyfiles",
        "routes",
        "sqlite_log",
        "pg_log",
        "storage",
        "store",
        "witness_client",
    }
    assert exported - submodules == set(hub.log.__all__)
    for name in hub.log.__all__:
        assert getattr(hub.log, name) is not None, name
