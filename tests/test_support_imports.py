"""One way to import a test helper: ``tests.support.<module>``, and nothing edits ``sys.path``.

A module imported under two names runs twice and holds its state twice: the
set of ports ``tests.support.loopback`` has handed out would exist once per
name, and two worlds could be given the same port. Benchmarks import the
same modules the same way (``python -m bench.<name>`` from the root).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.support.paths import REPO

_SUPPORT = REPO / "tests" / "support"
_MODULES = {path.stem for path in _SUPPORT.glob("*.py")} - {"__init__"}


def _sources() -> list[Path]:
    return sorted([*(REPO / "tests").rglob("*.py"), *(REPO / "bench").rglob("*.py")])


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Each module ``path`` imports, with its line; relative imports keep their dots."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            yield node.lineno, base
            yield from ((node.lineno, f"{base}.{alias.name}") for alias in node.names)


def test_the_support_package_holds_modules() -> None:
    assert {"loopback", "parties", "referral_world"} <= _MODULES


def test_support_modules_are_imported_only_as_tests_support() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{line}: {name}"
        for path in _sources()
        for line, name in _imports(path)
        # "referral_world" or "support.referral_world": found through a path entry
        # other than the root, so a second copy of the module
        if name.startswith(".") or name.split(".")[0] in _MODULES | {"support"}
    ]
    assert offenders == []


def _touches_sys_path(path: Path) -> Iterator[int]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "path"
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        ):
            yield node.lineno


def test_no_test_or_benchmark_edits_the_import_path() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{line}"
        for path in _sources()
        for line in _touches_sys_path(path)
    ]
    assert offenders == []
