"""Where the repository's own files are, for tests and benchmarks (never outside the clone)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["ASSETS", "BODIES", "PROTOCOLS", "REPO"]

REPO: Final = Path(__file__).resolve().parents[2]
"""The repository root."""

ASSETS: Final = REPO / "tests" / "assets"
"""Sample bodies, invalid bodies, attack files and vendored test vectors."""

BODIES: Final = ASSETS / "bodies"
"""One valid sample body per message class."""

PROTOCOLS: Final = REPO / "protocols"
"""The shipped ISPs."""
