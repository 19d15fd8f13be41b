"""``irthub log``: the hub operator's message-log tools.

- ``keygen --out DIR``: a new log signing key (``log.key``, 0600) and its
  verifier key (``log.pub``), or with ``--witness`` a borough's cosigning key
  (``witness.key``, ``witness.pub``);
- ``checkpoint --log DIR --key KEY``: sign a checkpoint of the log now, as the
  hub's checkpointer does on its schedule.
"""

from __future__ import annotations

from pathlib import Path

import click

from hub.log.checkpointer import Checkpointer
from hub.log.keyfiles import DEFAULT_LOG_ORIGIN, load_signer, write_key_pair
from hub.storage.log_folder import open_sqlite_log

__all__ = ["group"]


@click.group(name="log")
def group() -> None:
    """The hub's verifiable message log: keys and checkpoints."""


@group.command()
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the key files (created if missing; existing keys are never replaced).",
)
@click.option(
    "--name",
    default=None,
    help=f"Key name; for the log also its checkpoint origin [default: {DEFAULT_LOG_ORIGIN}].",
)
@click.option("--witness", is_flag=True, help="Make a borough witness's cosigning key instead.")
def keygen(out: Path, name: str | None, witness: bool) -> None:
    """Generate a note key pair: the secret key (0600) and the public verifier key."""
    if witness and name is None:
        raise click.UsageError("a witness key needs --name, e.g. lambeth.irt.london/witness")
    files = write_key_pair(out, name or DEFAULT_LOG_ORIGIN, witness=witness)
    click.echo(f"secret key:   {files.signer} (keep it on the {'node' if witness else 'hub'})")
    click.echo(f"verifier key: {files.verifier} (give it to witnesses and auditors)")
    click.echo(files.verifier.read_text(encoding="utf-8").strip())


@group.command()
@click.option(
    "--log",
    "log_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
    help="The hub's log directory (holding log.sqlite).",
)
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The log's secret key file (log.key).",
)
def checkpoint(log_dir: Path, key_file: Path) -> None:
    """Sign a checkpoint of the log now, unless the latest one already covers it."""
    log = open_sqlite_log(log_dir)
    try:
        stored = Checkpointer(log=log, signer=load_signer(key_file)).sign_now()
    finally:
        log.close()
    click.echo(stored.note.decode("utf-8"), nl=False)
