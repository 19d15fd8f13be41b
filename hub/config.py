"""The hub's configuration file, and the TOML readers the node's configuration shares.

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
from hub.knownto.settings import FanoutSettings
from hub.referral.settings import ReferralSettings
from hub.storage.settings import StorageSettings
from hub.transport.tls import TlsFiles

__all__ = [
    "MAX_QUERY_DEADLINE_SECONDS",
    "ConfigError",
    "HubConfig",
    "Limits",
    "LogSettings",
    "SigningFiles",
    "authority_option",
    "expect",
    "limits_table",
    "load_hub_config",
    "option",
    "optional_path",
    "read_file",
    "signing_files",
    "table",
    "tls_files",
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
    """Worker threads that sign and verify off the event loop; an answer that is
    due is signed ahead of all other work (``hub.lanes``)."""

    def __post_init__(self) -> None:
        if not 0 < self.query_deadline_seconds <= MAX_QUERY_DEADLINE_SECONDS:
            raise ConfigError(
                f"query_deadline_seconds must be in (0, {MAX_QUERY_DEADLINE_SECONDS}]"
            )
        if self.max_message_bytes < 4096:
            raise ConfigError("max_message_bytes below 4096 cannot hold a signed envelope")
        if self.verify_threads < 1:
            raise ConfigError("verify_threads must be at least 1")


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
    """``[hub]``, ``[tls]``, ``[signing]``, ``[limits]``, ``[nodes]`` and the optional
    tables (``[referrals]``, ``[fanout]``, ``[log]``, ``[storage]``) of a hub file."""

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
    fanout: FanoutSettings = field(default_factory=FanoutSettings)
    """``[fanout]``: admission control and the deadline of known-to fan-outs."""
    log: LogSettings = field(default_factory=LogSettings)
    """``[log]``: the message log's key, witnesses and checkpoint schedule."""
    storage: StorageSettings = field(default_factory=StorageSettings)
    """``[storage]``: SQLite files under ``data_dir`` (default) or one PostgreSQL
    database shared by several hub processes."""

    def __post_init__(self) -> None:
        if self.limits.query_deadline_seconds <= self.fanout.min_fanout_seconds:
            raise ConfigError(
                f"[limits] query_deadline_seconds ({self.limits.query_deadline_seconds:g}) must "
                f"exceed [fanout] min_fanout_seconds ({self.fanout.min_fanout_seconds:g}), or "
                "every known-to query would be refused as too late"
            )
        if self.storage.backend == "postgresql" and self.log.key is None:
            # Every instance signs checkpoints of one log: with a key generated
            # per data folder, each would sign with its own.
            raise ConfigError(
                "[storage] backend = 'postgresql' needs [log] key: every hub instance "
                "sharing the database must sign with the same log key"
            )


def load_hub_config(path: Path) -> HubConfig:
    """Read and check a hub configuration file; raise ``ConfigError`` on any fault."""
    data, base = read_file(path)
    hub = table(data, "hub", path)
    return HubConfig(
        listen_host=option(hub, "listen_host", str, path, "127.0.0.1"),
        listen_port=option(hub, "listen_port", int, path),
        data_dir=base / option(hub, "data_dir", str, path, "hub-data"),
        tls=tls_files(data, base, path),
        signing=signing_files(data, base, path),
        limits=limits_table(data, path),
        node_urls={
            authority_option(code, path): expect(url, str, path, f"nodes.{code}")
            for code, url in data.get("nodes", {}).items()
        },
        directory_file=optional_path(hub, "directory", base, path),
        protocols_dir=optional_path(hub, "protocols", base, path),
        shadow_protocols_dir=optional_path(hub, "shadow_protocols", base, path),
        maintenance=option(hub, "maintenance", bool, path, False),
        referrals=_referrals(data, path),
        fanout=_fanout(data, path),
        log=_log(data, base, path),
        storage=_storage(data, path),
    )


_T = TypeVar("_T")


def read_file(path: Path) -> tuple[dict[str, Any], Path]:
    """Parse TOML ``path``; return it and the folder relative paths are resolved against."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle), path.resolve().parent
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def table(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    """The ``[name]`` table of ``data``; raise ``ConfigError`` if it is missing."""
    table = data.get(name)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: missing [{name}] table")
    return table


def option(
    table: dict[str, Any],
    key: str,
    kind: type[_T] | tuple[type, ...],
    path: Path,
    default: Any = ...,
) -> Any:
    """``table[key]`` checked against ``kind``, or ``default``; raise ``ConfigError``."""
    if key not in table:
        if default is ...:
            raise ConfigError(f"{path}: missing option {key!r}")
        return default
    return expect(table[key], kind, path, key)


def expect(value: Any, kind: type | tuple[type, ...], path: Path, key: str) -> Any:
    """``value`` if it is of ``kind`` (never a bool for int); else raise ``ConfigError``."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{path}: option {key!r} has the wrong type ({type(value).__name__})")
    return value


def authority_option(code: str, path: Path) -> AuthorityCode:
    """``code`` as an authority code; raise ``ConfigError`` naming the file."""
    try:
        return parse_authority(code)
    except SchemaInvalid as exc:
        raise ConfigError(f"{path}: {exc.reason}") from exc


def optional_path(table: dict[str, Any], key: str, base: Path, path: Path) -> Path | None:
    """``table[key]`` resolved against ``base``, or ``None`` when absent."""
    value = option(table, key, str, path, None)
    return None if value is None else base / value


def tls_files(data: dict[str, Any], base: Path, path: Path) -> TlsFiles:
    """The ``[tls]`` table as ``TlsFiles``."""
    tls = table(data, "tls", path)
    crl = option(tls, "crl", str, path, None)
    return TlsFiles(
        cert=base / option(tls, "cert", str, path),
        key=base / option(tls, "key", str, path),
        root=base / option(tls, "root", str, path),
        crl=None if crl is None else base / crl,
        crl_reload_seconds=_reload_seconds(tls, path),
    )


def _reload_seconds(tls: dict[str, Any], path: Path) -> float:
    seconds = float(option(tls, "crl_reload_seconds", (int, float), path, 10.0))
    if not 0.5 <= seconds <= 3600:
        raise ConfigError(f"{path}: [tls] crl_reload_seconds must be 0.5 to 3600, not {seconds}")
    return seconds


def signing_files(data: dict[str, Any], base: Path, path: Path) -> SigningFiles:
    """The ``[signing]`` table as ``SigningFiles``."""
    signing = table(data, "signing", path)
    return SigningFiles(
        cert=base / option(signing, "cert", str, path), key=base / option(signing, "key", str, path)
    )


def _log(data: dict[str, Any], base: Path, path: Path) -> LogSettings:
    table = data.get("log", {})
    return LogSettings(
        key=optional_path(table, "key", base, path),
        witnesses=optional_path(table, "witnesses", base, path),
        checkpoint_seconds=float(option(table, "checkpoint_seconds", (int, float), path, 10.0)),
    )


def _referrals(data: dict[str, Any], path: Path) -> ReferralSettings:
    try:
        return ReferralSettings.from_table(data.get("referrals", {}))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: [referrals]: {exc}") from exc


def _fanout(data: dict[str, Any], path: Path) -> FanoutSettings:
    try:
        return FanoutSettings.from_table(data.get("fanout", {}))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: [fanout]: {exc}") from exc


def _storage(data: dict[str, Any], path: Path) -> StorageSettings:
    try:
        return StorageSettings.from_table(data.get("storage", {}), dict(os.environ))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: [storage]: {exc}") from exc


def limits_table(data: dict[str, Any], path: Path) -> Limits:
    """The ``[limits]`` table as ``Limits``; unknown options are refused."""
    table = data.get("limits", {})
    known = {f.name: f for f in fields(Limits)}
    unknown = set(table) - set(known)
    if unknown:
        raise ConfigError(f"{path}: unknown option(s) in [limits]: {', '.join(sorted(unknown))}")
    try:
        return Limits(**table)
    except (TypeError, ConfigError) as exc:
        raise ConfigError(f"{path}: [limits]: {exc}") from exc
