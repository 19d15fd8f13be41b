"""The repository stands alone: nothing tracked reads outside the clone.

A council clones this repository with nothing beside it, so no test, script,
benchmark or document may point at a sibling folder (the old ``../shared``)
or climb above the repository root with ``Path(__file__).parents[…]``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import REPO

_OUTSIDE = re.compile(r"\.\./shared|[\"']shared[\"']\s*/|/\s*[\"']shared[\"']|\.\.\/SPEC\.md")
_PARENTS = re.compile(r"Path\(__file__\)(?:\.resolve\(\))?\.parents\[(\d+)\]")
_TEXT = (".py", ".md", ".toml", ".cfg", ".txt", ".sh", ".yml", ".yaml", ".ini")


def _tracked() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    names = [name for name in listed.split("\0") if name]
    return [
        REPO / name for name in names if name.endswith(_TEXT) or name in ("Makefile", ".ci/run")
    ]


@pytest.fixture(scope="module")
def tracked() -> list[Path]:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    return [path for path in _tracked() if path.is_file()]


def test_no_tracked_file_points_outside_the_repository(tracked: list[Path]) -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in tracked
        if path.name != "test_self_contained.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _OUTSIDE.search(line)
    ]
    assert offenders == []


def test_no_file_climbs_above_the_repository_root(tracked: list[Path]) -> None:
    offenders = []
    for path in tracked:
        if path.suffix != ".py":
            continue
        for match in _PARENTS.finditer(path.read_text(encoding="utf-8")):
            target = path.resolve().parents[int(match[1])]
            if not target.is_relative_to(REPO):
                offenders.append(f"{path.relative_to(REPO)}: parents[{match[1]}] is {target}")
    assert offenders == []


def test_the_guard_sees_an_outside_reference() -> None:
    assert _OUTSIDE.search('VECTORS = REPO.parent / "shared" / "testdata"')
    assert _OUTSIDE.search("see ../shared/SPEC.md")
    assert not _OUTSIDE.search('ASSETS / "rfc9162-merkle"')
