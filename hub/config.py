"""Configuration files: one TOML file per hub and per node.

Every option is documented on its dataclass field; ``docs/configuration.md``
shows complete examples. Relative paths are resolved against the directory of
the file that names them. Loading checks everything it can up front and raises
``ConfigError`` naming the file and option at fault.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final, TypeVar

from hub.errors import InternalError, SchemaInvalid
from hub.identifiers import AuthorityCode, parse_authority
from hub.referral.settings import ReferralSettings
from hub.storage.settings import StorageSettings
from hub.transport.tls import TlsFiles

__all__ = [
    "MAX_QUERY_DEADLINE_SECONDS",
    "ConfigError",
    "HubConfig",
    "Limits",
    "LogSettings",
    "NodeConfig",
    "SigningFiles",
    "WitnessSettings",
    "load_hub_config",
    "load_node_config",
]

MAX_QUERY_DEADLINE_SECONDS: Final = 30.0
"""SPEC §6 caps the known-to deadline: a practitioner waits at most this long."""


class ConfigError(InternalError):
    """A configuration file is missing, unreadable or inconsistent.

    An ``InternalError`` on the wire (a misconfigured party is our fault, not
    the sender's); on the command line it names the file and option.
    """


@dataclass(frozen=True, slots=True)
class SigningFiles:
    """The signing key and certificate of this party (never its TLS key)."""

    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what this party accepts and how long it waits."""

    max_message_bytes: int = 1024 * 1024
    """SPEC §4: largest accepted message body (default 1 MiB)."""
    clock_skew_seconds: int = 300
    """SPEC §2: accepted distance of ``Created`` from our clock (default ±5 min)."""
    query_deadline_seconds: float = 5.0
    """SPEC §6: overall deadline of a known-to fan-out when the query sets none."""
    connections_per_node: int = 8
    """Concurrent connections the hub opens to any one node during fan-out."""
    verify_threads: int = 4
    """Worker threads that sign and verify off the event loop."""

    def __post_init__(self) -> None:
        if not 0 < self.query_deadline_seconds <= MAX_QUERY_DEADLINE_SECONDS:
            raise ConfigError(
                f"query_deadline_seconds must be in (0, {MAX_QUERY_DEADLINE_SECONDS}]"
            )
        if self.max_message_bytes < 4096:
            raise ConfigError("max_message_bytes below 4096 cannot hold a signed envelope")


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
class LogSettings:
    """``[log]``: the signed message log of SPEC §8."""

    key: Path | None = None
    """The log's Ed25519 note signer key (``irthub log keygen``). Default:
    ``<data_dir>/log/log.key``, generated with its ``log.pub`` on first start."""
    witnesses: Path | None = None
    """File of witness verifier keys whose cosignatures the hub accepts and
    publishes (one per line). Default none: checkpoints are not cosigned."""
    checkpoint_seconds: float = 10.0
    """How often a new checkpoint is signed while the log grows."""


@dataclass(frozen=True, slots=True)
class HubConfig:
    """``[hub]``, ``[tls]``, ``[signing]``, ``[limits]`` and ``[nodes]`` of a hub file."""

    listen_host: str
    """Address to listen on, e.g. ``127.0.0.1``."""
    listen_port: int
    """TCP port for HTTPS."""
    data_dir: Path
    """Where the hub keeps its SQLite databases (seen messages, log, outbox) and
    its generated log key."""
    tls: TlsFiles
    signing: SigningFiles
    limits: Limits = field(default_factory=Limits)
    node_urls: dict[AuthorityCode, str] = field(default_factory=dict)
    """``[nodes]``: authority code → node URL, overriding the directory."""
    directory_file: Path | None = None
    """``[hub] directory``: the directory TOML; default the built-in London one."""
    protocols_dir: Path | None = None
    """``[hub] protocols``: folder of signed ISP documents (``E090000NN.xml``), each
    signed by its own authority (``irthub policy sign``). Required by the hub:
    the shipped ``protocols/`` are unsigned texts and are never enforced."""
    shadow_protocols_dir: Path | None = None
    """``[hub] shadow_protocols``: folder of signed candidate ISPs evaluated
    beside the ones in force at every decision; differences are counted and
    logged, never enforced. Default none (no shadow evaluation)."""
    maintenance: bool = False
    """``[hub] maintenance``: answer ``/healthz`` with 503 and refuse new work."""
    referrals: ReferralSettings = field(default_factory=ReferralSettings)
    """``[referrals]``: delivery window, retries and catalogue staleness."""
    log: LogSettings = field(default_factory=LogSettings)
    """``[log]``: the message log's key, witnesses and checkpoint schedule."""
    storage: StorageSettings = field(default_factory=StorageSettings)
    """``[storage]``: SQLite files under ``data_dir`` (default) or one PostgreSQL
    database shared by several hub processes."""

    def __post_init__(self) -> None:
        if self.storage.backend == "postgresql" and self.log.key is None:
            # Every instance signs checkpoints of one log: with a key generated
            # per data folder, each would sign with its own.
            raise ConfigError(
                "[storage] backend = 'postgresql' needs [log] key: every hub instance "
                "sharing the database must sign with the same log key"
            )


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


def load_hub_config(path: Path) -> HubConfig:
    """Read and check a hub configuration file; raise ``ConfigError`` on any fault."""
    data, base = _read(path)
    hub = _table(data, "hub", path)
    return HubConfig(
        listen_host=_get(hub, "listen_host", str, path, "127.0.0.1"),
        listen_port=_get(hub, "listen_port", int, path),
        data_dir=base / _get(hub, "data_dir", str, path, "hub-data"),
        tls=_tls(data, base, path),
        signing=_signing(data, base, path),
        limits=_limits(data, path),
        node_urls={
            _authority(code, path): _expect(url, str, path, f"nodes.{code}")
            for code, url in data.get("nodes", {}).items()
        },
        directory_file=_optional_path(hub, "directory", base, path),
        protocols_dir=_optional_path(hub, "protocols", base, path),
        shadow_protocols_dir=_optional_path(hub, "shadow_protocols", base, path),
        maintenance=_get(hub, "maintenance", bool, path, False),
        referrals=_referrals(data, path),
        log=_log(data, base, path),
        storage=_storage(data, path),
    )


def load_node_config(path: Path) -> NodeConfig:
    """Read and check a node configuration file; raise ``ConfigError`` on any fault."""
    data, base = _read(path)
    node = _table(data, "node", path)
    return NodeConfig(
        authority=_authority(_get(node, "authority", str, path), path),
        node_id=_get(node, "id", str, path),
        listen_host=_get(node, "listen_host", str, path, "127.0.0.1"),
        listen_port=_get(node, "listen_port", int, path),
        index=base / _get(node, "index", str, path),
        hub_url=_get(node, "hub_url", str, path),
        tls=_tls(data, base, path),
        signing=_signing(data, base, path),
        data_dir=base / _get(node, "data_dir", str, path, "node-data"),
        limits=_limits(data, path),
        answer_delay_seconds=float(_get(node, "answer_delay_seconds", (int, float), path, 0.0)),
        witness=_witness(data, base, path),
        catalogue=_optional_path(node, "catalogue", base, path),
    )


_T = TypeVar("_T")


def _read(path: Path) -> tuple[dict[str, Any], Path]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle), path.resolve().parent
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    table = data.get(name)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: missing [{name}] table")
    return table


def _get(
    table: dict[str, Any],
    key: str,
    kind: type[_T] | tuple[type, ...],
    path: Path,
    default: Any = ...,
) -> Any:
    if key not in table:
        if default is ...:
            raise ConfigError(f"{path}: missing option {key!r}")
        return default
    return _expect(table[key], kind, path, key)


def _expect(value: Any, kind: type | tuple[type, ...], path: Path, key: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{path}: option {key!r} has the wrong type ({type(value).__name__})")
    return value


def _authority(code: str, path: Path) -> AuthorityCode:
    try:
        return parse_authority(code)
    except SchemaInvalid as exc:
        raise ConfigError(f"{path}: {exc.reason}") from exc


def _optional_path(table: dict[str, Any], key: str, base: Path, path: Path) -> Path | None:
    value = _get(table, key, str, path, None)
    return None if value is None else base / value


def _tls(data: dict[str, Any], base: Path, path: Path) -> TlsFiles:
    tls = _table(data, "tls", path)
    crl = _get(tls, "crl", str, path, None)
    return TlsFiles(
        cert=base / _get(tls, "cert", str, path),
        key=base / _get(tls, "key", str, path),
        root=base / _get(tls, "root", str, path),
        crl=None if crl is None else base / crl,
    )


def _signing(data: dict[str, Any], base: Path, path: Path) -> SigningFiles:
    signing = _table(data, "signing", path)
    return SigningFiles(
        cert=base / _get(signing, "cert", str, path), key=base / _get(signing, "key", str, path)
    )


def _witness(data: dict[str, Any], base: Path, path: Path) -> WitnessSettings | None:
    table = data.get("witness")
    if table is None:
        return None
    return WitnessSettings(
        key=base / _get(table, "key", str, path),
        log_key=base / _get(table, "log_key", str, path),
        interval_seconds=float(_get(table, "interval_seconds", (int, float), path, 10.0)),
    )


def _log(data: dict[str, Any], base: Path, path: Path) -> LogSettings:
    table = data.get("log", {})
    return LogSettings(
        key=_optional_path(table, "key", base, path),
        witnesses=_optional_path(table, "witnesses", base, path),
        checkpoint_seconds=float(_get(table, "checkpoint_seconds", (int, float), path, 10.0)),
    )


def _referrals(data: dict[str, Any], path: Path) -> ReferralSettings:
    try:
        return ReferralSettings.from_table(data.get("referrals", {}))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: [referrals]: {exc}") from exc


def _storage(data: dict[str, Any], path: Path) -> StorageSettings:
    try:
        return StorageSettings.from_table(data.get("storage", {}), dict(os.environ))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: [storage]: {exc}") from exc


def _limits(data: dict[str, Any], path: Path) -> Limits:
    table = data.get("limits", {})
    known = {f.name: f for f in fields(Limits)}
    unknown = set(table) - set(known)
    if unknown:
        raise ConfigError(f"{path}: unknown option(s) in [limits]: {', '.join(sorted(unknown))}")
    try:
        return Limits(**table)
    except (TypeError, ConfigError) as exc:
        raise ConfigError(f"{path}: [limits]: {exc}") from exc
