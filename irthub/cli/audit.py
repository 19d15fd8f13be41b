"""``irthub audit``: offline checks of the hub's message log (SPEC §8; docs/audit.md).

An auditor trusts only the London root CA (``--trust-root``), the root's CRLs
(``--crl``, dated; the one in force at each message's ``Created`` is used)
and the log's public key (``--log-key``); optionally the witnesses' keys
(``--witnesses``) and a quorum. ``--log DIR`` is a log directory holding
``log.sqlite``: the hub's own, or a copy made by ``export-log``. A log that
several hubs share on PostgreSQL is read with ``--dsn`` instead (read only:
nothing is migrated or written).

- ``verify``: every message, leaf, checkpoint and cosignature; stops at the
  first broken item and names it;
- ``export-log``: a consistent single-file copy of the hub's log database;
- ``export`` / ``verify-bundle``: one message's evidence bundle;
- ``access``: who asked about which child, when, why, with which decision.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from hub.identifiers import parse_authority
from hub.log.access import DEFAULT_REFERRAL_WINDOW, access_report
from hub.log.audit import AuditTrust, audit_log
from hub.log.bundle import export_bundle, verify_bundle
from hub.log.evidence import CrlTimeline, MessageChecker
from hub.log.keyfiles import load_verifier, load_witness_keys
from hub.log.message_log import MessageLog
from hub.log.note import NoteVerifier
from hub.log.store import LogStorage
from hub.storage.sqlite.log import LOG_DB_NAME, SqliteLogStorage

__all__ = ["group"]

_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)
_LOG_DIR = click.Path(file_okay=False, exists=True, path_type=Path)
_F = TypeVar("_F", bound=Callable[..., Any])
_TIMES = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"]


def _trust_options(command: _F) -> _F:
    for option in reversed(
        [
            click.option("--trust-root", type=_FILE, required=True, help="London root CA (PEM)."),
            click.option("--log-key", type=_FILE, required=True, help="The log's verifier key."),
            click.option(
                "--crl",
                "crls",
                type=click.Path(exists=True, path_type=Path),
                multiple=True,
                help="A CRL of the root (PEM), or a folder of them (the PKI's crl/, every "
                "CRL under its number); repeatable. Each message is judged against the CRL "
                "in force when it was created.",
            ),
            click.option("--witnesses", type=_FILE, help="Witness verifier keys, one per line."),
            click.option(
                "--quorum",
                type=click.IntRange(min=0),
                default=None,
                help="Witnesses that must cosign [default: 1 with --witnesses, else 0].",
            ),
        ]
    ):
        command = option(command)
    return command


def _trust(
    trust_root: Path,
    log_key: Path,
    crls: tuple[Path, ...],
    witnesses: Path | None,
    quorum: int | None,
) -> tuple[MessageChecker, NoteVerifier, tuple[NoteVerifier, ...], int]:
    keys = load_witness_keys(witnesses) if witnesses else ()
    if quorum is None:
        quorum = 1 if keys else 0
    checker = MessageChecker(CrlTimeline.from_files(trust_root, _crl_files(crls)))
    return checker, load_verifier(log_key), keys, quorum


def _crl_files(given: tuple[Path, ...]) -> list[Path]:
    """The CRL files named, a folder standing for every ``*.pem`` in it."""
    files: list[Path] = []
    for path in given:
        if path.is_dir():
            found = sorted(path.glob("*.pem"))
            if not found:
                raise click.UsageError(f"{path} holds no CRL (*.pem)")
            files.extend(found)
        else:
            files.append(path)
    return files


def _open(log_dir: Path) -> SqliteLogStorage:
    return SqliteLogStorage(log_dir / LOG_DB_NAME, read_only=True)


def _open_source(log_dir: Path | None, dsn: str | None) -> tuple[LogStorage, Callable[[], None]]:
    """The log to read, from ``--log`` or ``--dsn`` (exactly one), and how to close it."""
    if (log_dir is None) == (dsn is None):
        raise click.UsageError("give exactly one of --log DIR and --dsn URI")
    if log_dir is not None:
        storage = _open(log_dir)
        return storage, storage.close
    # Imported here: auditing a SQLite copy never loads the PostgreSQL driver.
    from hub.storage.postgresql.database import PgDatabase  # noqa: PLC0415
    from hub.storage.postgresql.log import PgLogStorage  # noqa: PLC0415

    assert dsn is not None
    database = PgDatabase(dsn, pool_size=1, migrate=False)
    return PgLogStorage(database), database.close


@click.group(name="audit")
def group() -> None:
    """Offline audit of the hub's verifiable message log."""


@group.command()
@click.option("--log", "log_dir", type=_LOG_DIR, help="Log directory.")
@click.option(
    "--dsn",
    help="Instead of --log: the PostgreSQL database the hubs share (postgresql://…).",
)
@_trust_options
def verify(
    log_dir: Path | None,
    dsn: str | None,
    trust_root: Path,
    log_key: Path,
    crls: tuple[Path, ...],
    witnesses: Path | None,
    quorum: int | None,
) -> None:
    """Verify every message, leaf, checkpoint and cosignature of the log."""
    checker, key, keys, needed = _trust(trust_root, log_key, crls, witnesses, quorum)
    trust = AuditTrust(checker=checker, log_key=key, witnesses=keys, quorum=needed)
    storage, close = _open_source(log_dir, dsn)
    try:
        with click.progressbar(
            length=storage.nodes.size(),
            label="verifying",
            file=sys.stderr,
        ) as bar:
            summary = audit_log(storage, trust, progress=bar.update)
    finally:
        close()
    for line in summary.lines():
        click.echo(line)
    click.echo("log verified: OK")


@group.command(name="export-log")
@click.option(
    "--db",
    "database",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="The hub's log database (log.sqlite), or the directory holding it.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="New directory for the copy (the auditor's --log).",
)
def export_log(database: Path, out: Path) -> None:
    """Copy the hub's log consistently into a new log directory, for auditors."""
    source = database / LOG_DB_NAME if database.is_dir() else database
    out.mkdir(parents=True, exist_ok=True)
    storage = SqliteLogStorage(source, read_only=True)
    try:
        storage.export_copy(out / LOG_DB_NAME)
    finally:
        storage.close()
    click.echo(f"copied {source} to {out / LOG_DB_NAME}")


@group.command()
@click.argument("message_id")
@click.option("--log", "log_dir", type=_LOG_DIR, help="Log directory.")
@click.option(
    "--dsn",
    help="Instead of --log: the PostgreSQL database the hubs share (postgresql://…).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The bundle to write (a new .zip file).",
)
@click.option("--index", type=click.IntRange(min=0), help="Leaf, if the message was logged twice.")
def export(
    message_id: str, log_dir: Path | None, dsn: str | None, out: Path, index: int | None
) -> None:
    """Write the evidence bundle of MESSAGE_ID: bytes, chain, leaf, proof, checkpoint."""
    storage, close = _open_source(log_dir, dsn)
    try:
        leaf = export_bundle(MessageLog(storage), message_id, out, index=index)
    finally:
        close()
    click.echo(f"wrote {out} (leaf {leaf})")


@group.command(name="verify-bundle")
@click.argument("bundle", type=_FILE)
@_trust_options
def verify_bundle_command(
    bundle: Path,
    trust_root: Path,
    log_key: Path,
    crls: tuple[Path, ...],
    witnesses: Path | None,
    quorum: int | None,
) -> None:
    """Verify one message's evidence bundle offline."""
    checker, key, keys, needed = _trust(trust_root, log_key, crls, witnesses, quorum)
    report = verify_bundle(bundle, checker=checker, log_key=key, witnesses=keys, quorum=needed)
    for line in report.lines():
        click.echo(line)
    click.echo("bundle verified: OK")


@group.command()
@click.option("--log", "log_dir", type=_LOG_DIR, help="Log directory.")
@click.option(
    "--dsn",
    help="Instead of --log: the PostgreSQL database the hubs share (postgresql://…).",
)
@click.option("--authority", required=True, help="GSS code of the authority audited.")
@click.option("--since", type=click.DateTime(_TIMES), required=True, help="From (UTC), inclusive.")
@click.option("--until", type=click.DateTime(_TIMES), required=True, help="To (UTC), exclusive.")
@click.option(
    "--referral-days",
    type=click.IntRange(min=0),
    default=DEFAULT_REFERRAL_WINDOW.days,
    show_default=True,
    help="Days after a search in which a referral counts as following from it.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per row.")
def access(
    log_dir: Path | None,
    dsn: str | None,
    authority: str,
    since: datetime,
    until: datetime,
    referral_days: int,
    as_json: bool,
) -> None:
    """Who asked about which child (local reference), when, why, with which decision."""
    storage, close = _open_source(log_dir, dsn)
    try:
        rows = access_report(
            storage,
            parse_authority(authority),
            since=since.replace(tzinfo=UTC),
            until=until.replace(tzinfo=UTC),
            referral_window=timedelta(days=referral_days),
        )
    finally:
        close()
    if as_json:
        for row in rows:
            click.echo(json.dumps({**asdict(row), "asked_at": row.asked_at.isoformat()}))
        return
    for row in rows:
        click.echo(
            f"{row.asked_at.isoformat()}  {row.role}  {row.query_id}\n"
            f"  asked by   {row.requester} {row.practitioner}\n"
            f"  purpose    {row.purpose}\n"
            f"  asked of   {row.target}: decision {row.decision}; answer {row.answer}"
            + (f"; local reference {row.local_reference}" if row.local_reference else "")
            + f"\n  referral   {row.referral}"
        )
    flagged = [row for row in rows if row.no_referral]
    click.echo(
        f"\n{len(rows)} accesses; {len(flagged)} searches with a known answer led to no referral"
    )
    for row in flagged:
        click.echo(f"  {row.asked_at.isoformat()} {row.query_id} {row.requester} -> {row.target}")
