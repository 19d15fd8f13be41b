"""The hub's policy at start: signed ISPs in force, signed candidates in shadow.

``load_signed_policy`` builds the hub's ``PolicyEngine``:

(1) ``[hub] protocols`` must name a folder: the ``protocols/`` shipped with
    the code holds the unsigned agreed texts, which the hub never enforces;
(2) every ``E09*.xml`` there is read with ``SignedIspReader`` through the
    hub's own document verifier (London root, CRL, clock): a file that is
    unsigned, signed by anyone but its authority, by a certificate that is
    expired or revoked, or that is not a valid ISP is refused and logged,
    and its authority has nothing in force, so every exchange with it is
    denied;
(3) when no document at all is accepted, the hub does not start: the error
    lists every file with its reason;
(4) ``[hub] shadow_protocols``, when set, stages signed candidates read the
    same way; refused candidates are logged and nothing else changes.

Certificates are judged when the documents are loaded, that is at start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Final

from hub.clock import Clock
from hub.config import ConfigError, HubConfig
from hub.directory.model import Directory
from hub.errors import SchemaInvalid
from hub.policy.engine import LoadReport, PolicyEngine
from hub.policy.signed import SignedIspReader
from hub.verify import DocumentVerifier

__all__ = ["load_signed_policy"]

_LOG: Final = logging.getLogger(__name__)


def load_signed_policy(
    config: HubConfig, *, directory: Directory, verifier: DocumentVerifier, clock: Clock
) -> PolicyEngine:
    """The engine holding the signed ISPs of ``config.protocols_dir`` (see the module docstring).

    Raises ``ConfigError`` when no protocols folder is configured, when a
    folder is missing, or when no document of it is accepted.
    """
    # (1) a folder of signed documents, named explicitly
    if config.protocols_dir is None:
        raise ConfigError(
            "[hub] protocols is not set: name the folder of signed ISP documents "
            "(each authority signs its own with `irthub policy sign`; "
            "`irthub policy sign-all` signs the shipped texts with a development PKI)"
        )
    engine = PolicyEngine(directory=directory, reader=SignedIspReader(verifier), clock=clock)
    # (2) each document on its own; (3) at least one
    report = _load(engine.load_folder, config.protocols_dir, "protocols")
    _log_refusals(report, "ISP refused; its authority has no ISP in force")
    if not engine.documents:
        raise ConfigError(
            f"no information sharing protocol in {config.protocols_dir} could be loaded:\n"
            f"{report.text()}"
        )
    # (4) candidates beside them, never enforced
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
