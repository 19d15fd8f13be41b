"""``irthub pki``: a development PKI for the interchange.

Makes the London root CA, a message-signing and a separate TLS certificate
for each of the 33 authorities and the hub, and the CRL; re-issues and
revokes. Private keys are written 0600 and never belong in git.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from hub.clock import SystemClock
from hub.identifiers import parse_authority
from hub.pki.issuing import REVOCATION_REASONS, init_pki, load_registry, reissue, revoke, write_crl
from hub.pki.layout import PkiLayout

__all__ = ["group"]

_DIR = click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The PKI directory (see docs/pki.md for its layout).",
)


@click.group(name="pki")
def group() -> None:
    """Development PKI: the London root CA, authority and hub certificates, and the CRL."""


@group.command(name="init")
@_DIR
@click.option(
    "--key-type",
    type=click.Choice(["ec", "rsa"]),
    default="ec",
    show_default=True,
    help="ECDSA P-256 (default) or RSA 3072.",
)
@click.option("--force", is_flag=True, help="Replace an existing CA and every certificate.")
def init_command(directory: Path, key_type: str, force: bool) -> None:
    """Create a root CA, 34 parties' signing and TLS certificates, and an empty CRL."""
    layout = PkiLayout(directory)
    with click.progressbar(length=34, label="Issuing certificates", file=sys.stderr) as bar:
        init_pki(
            layout,
            now=SystemClock().now(),
            key_type=key_type,  # type: ignore[arg-type]  # click.Choice
            force=force,
            progress=lambda code: bar.update(1),
        )
    click.echo(f"Root CA:      {layout.root_cert}")
    click.echo(f"CRL:          {layout.crl}")
    click.echo(f"Parties:      33 authorities and HUB, each in {directory}/<CODE>/")
    click.echo("              signing.pem + signing.key, tls.pem + tls.key (keys 0600)")


@group.command(name="issue")
@_DIR
@click.option("--authority", required=True, help="GSS code, or HUB.")
@click.option("--kind", type=click.Choice(["signing", "tls"]), required=True)
@click.option("--dns", "dns_names", multiple=True, help="Extra DNS name for a TLS certificate.")
@click.option("--not-before", type=click.DateTime(), help="Start of validity (UTC); default now.")
@click.option("--not-after", type=click.DateTime(), help="End of validity (UTC); default +2 years.")
def issue_command(
    directory: Path,
    authority: str,
    kind: str,
    dns_names: tuple[str, ...],
    not_before: datetime | None,
    not_after: datetime | None,
) -> None:
    """Re-issue one certificate with a fresh key (rotation, or test certificates)."""
    record = reissue(
        PkiLayout(directory),
        party=parse_authority(authority),
        kind=kind,  # type: ignore[arg-type]  # click.Choice
        now=SystemClock().now(),
        not_before=not_before.replace(tzinfo=UTC) if not_before else None,
        not_after=not_after.replace(tzinfo=UTC) if not_after else None,
        dns_names=dns_names,
    )
    click.echo(f"Issued {record.kind} certificate {record.serial} for {record.authority}")


@group.command(name="revoke")
@_DIR
@click.argument("serial")
@click.option(
    "--reason",
    type=click.Choice(sorted(REVOCATION_REASONS)),
    default="unspecified",
    show_default=True,
)
def revoke_command(directory: Path, serial: str, reason: str) -> None:
    """Revoke the certificate with hex SERIAL and write a new CRL."""
    revoke(PkiLayout(directory), serial, now=SystemClock().now(), reason=reason)
    click.echo(f"Revoked {serial} ({reason}); CRL rewritten")


@group.command(name="crl")
@_DIR
@click.option("--next-update-days", type=int, default=7, show_default=True)
def crl_command(directory: Path, next_update_days: int) -> None:
    """Write a fresh CRL (do this before the current one's next update)."""
    crl = write_crl(
        PkiLayout(directory), now=SystemClock().now(), next_update_days=next_update_days
    )
    click.echo(
        f"CRL with {len(list(crl))} revoked certificate(s), next update {crl.next_update_utc}"
    )


@group.command(name="show")
@_DIR
def show_command(directory: Path) -> None:
    """List every certificate issued: serial, kind, authority, expiry, revocation."""
    click.echo(f"{'serial':<42} {'kind':<8} {'party':<10} {'not after':<26} revoked")
    for record in load_registry(PkiLayout(directory)):
        revoked = f"{record.revoked_at} ({record.reason})" if record.revoked_at else "-"
        columns = f"{record.serial:<42} {record.kind:<8} {record.authority:<10}"
        click.echo(f"{columns} {record.not_after:<26} {revoked}")
