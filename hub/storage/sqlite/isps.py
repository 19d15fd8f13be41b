"""``FolderKeptIsps``: the ISP versions in force on the embedded backend, as files.

One file per authority under the hub's ``data_dir`` (beside its SQLite
databases), replaced atomically; ``hub.policy.store.KeptIsps`` is the interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hub.errors import InternalError
from hub.files import UMASK_MODE, write_file
from hub.identifiers import AuthorityCode

__all__ = ["FolderKeptIsps"]


@dataclass(frozen=True)
class FolderKeptIsps:
    """Kept versions as ``<CODE>.xml`` files in one folder, replaced atomically."""

    folder: Path

    def documents(self) -> list[tuple[str, bytes]]:
        """See ``KeptIsps.documents``."""
        if not self.folder.is_dir():
            return []
        try:
            return [(str(p), p.read_bytes()) for p in sorted(self.folder.glob("E09*.xml"))]
        except OSError as exc:
            raise InternalError(f"cannot read kept ISPs in {self.folder}: {exc}") from exc

    def keep(self, authority: AuthorityCode, data: bytes) -> None:
        """See ``KeptIsps.keep``."""
        target = self.folder / f"{authority}.xml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_file(target, data, mode=UMASK_MODE, overwrite=True)
        except OSError as exc:
            raise InternalError(f"cannot keep {target.name} in {self.folder}: {exc}") from exc
