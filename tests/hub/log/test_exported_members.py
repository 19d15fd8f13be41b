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
        "tree",
        # The message log's modules, imported by name (hub.log.message_log, ...).
        "access",
        "audit",
        "bundle",
        "checkpointer",
        "entry",
        "evidence",
        "keyfiles",
        "routes",
        "message_log",
        "store",
    }
    assert exported - submodules == set(hub.log.__all__)
    for name in hub.log.__all__:
        assert getattr(hub.log, name) is not None, name
