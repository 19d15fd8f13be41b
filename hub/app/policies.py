"""The hub's policy at start: signed ISPs in force, signed candidates in shadow.

``load_signed_policy`` builds the hub's ``PolicyEngine``:

(1) ``[hub] protocols`` must name a folder: the ``protocols/`` shipped with
    the code holds the unsigned agreed texts, which the hub never enforces;
(2) the versions put in force before, kept as their exact signed bytes
    (``hub.policy.store``: ``<data_dir>/policy/`` on SQLite, one table shared
    by every instance on PostgreSQL), are loaded first and verified again;
(3) every ``E09*.xml`` of the protocols folder is then read with
    ``SignedIspReader`` through the hub's own document verifier (London
    root, CRL, clock). A file that is unsigned, signed by anyone but its
    authority or by a certificate that is expired or revoked, not a valid
    ISP, or not a greater version than the one kept, is refused and logged:
    the kept version stays in force, and an authority with none has no ISP
    in force, so every exchange with it is denied;
(4) when no document at all is in force, the hub does not start: the error
    lists every file with its reason;
(5) each version newly put in force is kept, so a restart (or another
    instance) never falls back to an older version, and a version number
    once in force always stands for the same signed bytes;
(6) ``[hub] shadow_protocols``, when set, stages signed candidates read the
    same way; refused candidates are logged and nothing else changes.

Documents, and so their signers' certificates, are judged at start. To
withdraw a protocol, its authority signs a newer version (an ``EffectiveTo``
in the past, or forbid rules); deleting the file is not enough, by design.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Final

from hub.clock import Clock
from hub.config import ConfigError, HubConfig
from hub.directory.model import Directory
from hub.errors import IrtError, SchemaInvalid
from hub.identifiers import AuthorityCode
from hub.policy.engine import LoadReport, PolicyEngine
from hub.policy.signed import SignedIspReader
from hub.policy.store import KeptIsps
from hub.verify import DocumentVerifier

__all__ = ["load_signed_policy"]

_LOG: Final = logging.getLogger(__name__)


def load_signed_policy(
    config: HubConfig,
    *,
    directory: Directory,
    verifier: DocumentVerifier,
    clock: Clock,
    kept: KeptIsps,
) -> PolicyEngine:
    """The engine holding the signed ISPs of ``config.protocols_dir`` (see the module docstring).

    ``kept`` holds the versions in force (the storage's ``isps``).

    Raises ``ConfigError`` when no protocols folder is configured, when a
    folder is missing, when no document is in force, or when a kept version
    cannot be written.
    """
    # (1) a folder of signed documents, named explicitly
    if config.protocols_dir is None:
        raise ConfigError(
            "[hub] protocols is not set: name the folder of signed ISP documents "
            "(each authority signs its own with `irthub policy sign`; "
            "`irthub policy sign-all` signs the shipped texts with a development PKI)"
        )
    engine = PolicyEngine(directory=directory, reader=SignedIspReader(verifier), clock=clock)
    # (2) what was in force before (shared by every instance on PostgreSQL)
    for source, data in kept.documents():
        try:
            engine.install(data, source=source)
        except IrtError as refused:
            _LOG.warning("kept ISP version refused: %s: %s", source, refused.reason)
    # (3) each document on its own; (4) at least one in force
    report = _load(engine.load_folder, config.protocols_dir, "protocols")
    _log_refusals(report, "ISP refused")
    if not engine.documents:
        raise ConfigError(
            f"no information sharing protocol in {config.protocols_dir} could be loaded:\n"
            f"{report.text()}"
        )
    # (5) keep what is now in force
    _keep(engine, report, kept)
    # (6) candidates beside them, never enforced
    if config.shadow_protocols_dir is not None:
        shadow = _load(engine.load_shadow_folder, config.shadow_protocols_dir, "shadow_protocols")
        _log_refusals(shadow, "shadow ISP candidate refused")
    return engine


def _load(load: Callable[[Path], LoadReport], folder: Path, option: str) -> LoadReport:
    try:
        return load(folder)
    except SchemaInvalid as exc:  # the folder itself is missing or overfull
        raise ConfigError(f"[hub] {option}: {exc.reason}") from exc


def _log_refusals(report: LoadReport, what: str) -> None:
    for outcome in report.refused():
        _LOG.warning("%s: %s: %s", what, outcome.source, outcome.reason)


def _keep(engine: PolicyEngine, report: LoadReport, kept: KeptIsps) -> None:
    """Keep each newly installed document's signed bytes."""
    for outcome in report.outcomes:
        if outcome.status != "installed":
            continue
        source = Path(outcome.source)
        doc = engine.in_force(AuthorityCode(source.stem))
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot keep {source.name}: {exc.strerror}") from exc
        # A file replaced since it was read is left for the next start.
        if doc is None or hashlib.sha256(data).hexdigest() != doc.digest:
            continue
        try:
            kept.keep(doc.authority, data)
        except IrtError as exc:
            raise ConfigError(f"cannot keep {source.name}: {exc.reason}") from exc
