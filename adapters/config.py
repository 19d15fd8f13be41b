"""A borough node's configuration file: its [node], [tls], [signing], [limits] and [witness].

Relative paths are resolved against the directory of the file that names
them; loading raises ``ConfigError`` naming the file and option at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.config import (
    ConfigError,
    Limits,
    SigningFiles,
    authority_option,
    limits_table,
    option,
    optional_path,
    read_file,
    signing_files,
    table,
    tls_files,
)
from hub.identifiers import AuthorityCode
from hub.transport.tls import TlsFiles

__all__ = ["ConfigError", "NodeConfig", "WitnessSettings", "load_node_config"]


@dataclass(frozen=True, slots=True)
class WitnessSettings:
    """``[witness]`` of a node: witnessing the hub's log (SPEC §8)."""

    key: Path
    """This node's cosignature/v1 signer key (``irthub log keygen --witness``)."""
    log_key: Path
    """The hub log's verifier key (its ``log.pub``): the only log key cosigned."""
    interval_seconds: float = 10.0
    """How often the node fetches a new checkpoint to cosign."""


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """``[node]``, ``[tls]``, ``[signing]`` and ``[limits]`` of a borough node file."""

    authority: AuthorityCode
    """The borough this node answers for."""
    node_id: str
    """The node id carried in ``env:From/@node``."""
    listen_host: str
    listen_port: int
    index: Path
    """The local children's index (SQLite, filled by ``irthub node import``)."""
    hub_url: str
    """The hub's ``/v1/messages`` URL."""
    tls: TlsFiles
    signing: SigningFiles
    data_dir: Path
    """Where the node keeps its seen-message store and witness state."""
    limits: Limits = field(default_factory=Limits)
    answer_delay_seconds: float = 0.0
    """Failure injection for demos and tests: wait this long before answering."""
    witness: WitnessSettings | None = None
    """``[witness]``: cosign the hub's log checkpoints; default off."""
    catalogue: Path | None = None
    """``[node] catalogue``: the node's ``ServiceCatalogue`` file, published to
    the hub at start; default none (nothing published)."""


def load_node_config(path: Path) -> NodeConfig:
    """Read and check a node configuration file; raise ``ConfigError`` on any fault."""
    data, base = read_file(path)
    node = table(data, "node", path)
    return NodeConfig(
        authority=authority_option(option(node, "authority", str, path), path),
        node_id=option(node, "id", str, path),
        listen_host=option(node, "listen_host", str, path, "127.0.0.1"),
        listen_port=option(node, "listen_port", int, path),
        index=base / option(node, "index", str, path),
        hub_url=option(node, "hub_url", str, path),
        tls=tls_files(data, base, path),
        signing=signing_files(data, base, path),
        data_dir=base / option(node, "data_dir", str, path, "node-data"),
        limits=limits_table(data, path),
        answer_delay_seconds=float(option(node, "answer_delay_seconds", (int, float), path, 0.0)),
        witness=_witness(data, base, path),
        catalogue=optional_path(node, "catalogue", base, path),
    )


def _witness(data: dict[str, Any], base: Path, path: Path) -> WitnessSettings | None:
    table = data.get("witness")
    if table is None:
        return None
    return WitnessSettings(
        key=base / option(table, "key", str, path),
        log_key=base / option(table, "log_key", str, path),
        interval_seconds=float(option(table, "interval_seconds", (int, float), path, 10.0)),
    )
