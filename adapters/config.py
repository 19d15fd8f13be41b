"""A borough node's configuration file: its [node], [tls], [signing], [limits] and [witness].

Relative paths are resolved against the directory of the file that names
them; loading raises ``ConfigError`` naming the file and option at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from adapters.index.replace import DEFAULT_MAX_SHRINK
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

__all__ = [
    "DEFAULT_INDEX_MAX_AGE_HOURS",
    "MAX_INDEX_MAX_AGE_HOURS",
    "ConfigError",
    "NodeConfig",
    "WitnessSettings",
    "load_node_config",
]

DEFAULT_INDEX_MAX_AGE_HOURS: Final = 48.0
"""A nightly import, with one night missed: a child who became known two days
ago is still found. A borough importing less often must say so."""
MAX_INDEX_MAX_AGE_HOURS: Final = 31 * 24.0
"""An index a month old no longer says who is known to services today."""


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
    index_max_age_hours: float = DEFAULT_INDEX_MAX_AGE_HOURS
    """``[node] index_max_age_hours``: the node refuses to start, ``/healthz``
    answers 503 and queries are answered ``error``, never ``not-known``, once
    the last import is older than this (default 48; at most 744, a month)."""
    index_max_shrink: float = DEFAULT_MAX_SHRINK
    """``[node] index_max_shrink``: ``irthub node import --config`` refuses,
    unless ``--force``, exports that drop more than this share of the children
    in the index (default 0.1, a tenth; from 0 to below 1)."""

    @property
    def index_max_age(self) -> timedelta:
        """``index_max_age_hours`` as a duration."""
        return timedelta(hours=self.index_max_age_hours)


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
        index_max_age_hours=_bounded(
            node,
            "index_max_age_hours",
            path,
            DEFAULT_INDEX_MAX_AGE_HOURS,
            low=0.0,
            low_open=True,
            high=MAX_INDEX_MAX_AGE_HOURS,
            hint="hours since the last import, e.g. 48 for a nightly import",
        ),
        index_max_shrink=_bounded(
            node,
            "index_max_shrink",
            path,
            DEFAULT_MAX_SHRINK,
            low=0.0,
            high=1.0,
            high_open=True,
            hint="a share, e.g. 0.1 to refuse an import dropping more than a tenth",
        ),
    )


def _bounded(
    node: dict[str, Any],
    key: str,
    path: Path,
    default: float,
    *,
    low: float,
    high: float,
    low_open: bool = False,
    high_open: bool = False,
    hint: str,
) -> float:
    """``[node] key`` as a number between ``low`` and ``high``; raise ``ConfigError`` if not."""
    value = float(option(node, key, (int, float), path, default))
    fits = (value > low if low_open else value >= low) and (
        value < high if high_open else value <= high
    )
    if not fits:
        lower = f"{'above' if low_open else 'at least'} {low:g}"
        upper = f"{'below' if high_open else 'at most'} {high:g}"
        raise ConfigError(f"{path}: [node] {key} = {value:g} must be {lower} and {upper} ({hint})")
    return value


def _witness(data: dict[str, Any], base: Path, path: Path) -> WitnessSettings | None:
    table = data.get("witness")
    if table is None:
        return None
    return WitnessSettings(
        key=base / option(table, "key", str, path),
        log_key=base / option(table, "log_key", str, path),
        interval_seconds=float(option(table, "interval_seconds", (int, float), path, 10.0)),
    )
