"""``irthub pki``: a development PKI for the interchange (docs/pki.md).

Makes the London root CA, a message-signing and a separate TLS certificate
for each of the 33 authorities and the hub, and the CRL; re-issues, revokes
and lists. Every certificate is issued from its profile in
``certs/profiles/``. The PKI directory is ``--dir``, or ``certs/dev/`` when
run from the root of a checkout (ignored by git). Private keys are written
0600 and never belong in git. A request the CA refuses is printed as
``Error: <reason>`` with exit status 1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import click
from cryptography import x509

from hub.authorities import AUTHORITY_NAMES, PARTIES
from hub.clock import SystemClock
from hub.identifiers import AuthorityCode
from hub.pki.certificates import DEFAULT_TLS_HOST
from hub.pki.csr import public_key_of_csr
from hub.pki.errors import PkiError
from hub.pki.issuing import (
    CRL_VALIDITY,
    REVOCATION_REASONS,
    init_pki,
    is_encrypted_key,
    load_registry,
    reissue,
    revoke,
    write_crl,
)
from hub.pki.layout import PkiLayout
from hub.pki.profile_model import Purpose, key_description
from hub.pki.registry import IssuedRecord, parse_serial

__all__ = ["DEV_PKI", "group"]

DEV_PKI: Final = Path("certs", "dev")
"""The default PKI directory, relative to the root of a checkout."""


def _iso_time(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """Parse an ISO 8601 time option; one without an offset is taken as UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time such as 2026-11-24T10:00:00Z"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _pki_dir(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """``--dir``, or ``certs/dev`` when the current directory is the root of a checkout."""
    if value is not None:
        return value
    # The checkout's own certs/ package marks its root; elsewhere there is no
    # safe default place for private keys, so the user must say where.
    if Path("pyproject.toml").is_file() and Path("certs", "__init__.py").is_file():
        return DEV_PKI
    raise click.UsageError(
        f"give --dir DIR: the default, {DEV_PKI}/, is used only from the root of a checkout "
        "of the interchange",
        ctx,
    )


_DIR = click.option(
    "--dir",
    "directory",
    callback=_pki_dir,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"The PKI directory (layout in docs/pki.md)  [default: {DEV_PKI} in a checkout]",
)
_KEY_TYPE = click.option(
    "--key-type",
    type=click.Choice(["ec", "rsa"]),
    default="ec",
    show_default=True,
    help="ec: ECDSA on each profile's curve. rsa: RSA of --rsa-bits.",
)
_RSA_BITS = click.option(
    "--rsa-bits",
    type=int,
    help="RSA key size with --key-type rsa; below the profile's min_rsa_bits is refused."
    "  [default: each profile's rsa_bits]",
)
_KEY_PASSWORD = click.option(
    "--key-password-env",
    metavar="VAR",
    help="Environment variable holding the root key's password; without it an encrypted "
    "key's password is asked for.",
)
_NEXT_UPDATE = click.option(
    "--next-update-days",
    type=click.IntRange(min=1),
    default=CRL_VALIDITY.days,
    show_default=True,
    help="Days until the CRL's nextUpdate; verifiers refuse a CRL past it.",
)


@click.group(name="pki")
def group() -> None:
    """Development PKI: the London root CA, authority and hub certificates, and the CRL.

    Start with `irthub pki init` at the root of a checkout: it writes to
    certs/dev/, which git ignores. Certificates follow the profiles in
    certs/profiles/. Production parties get their certificates from the
    LCPC's CA; this one is for demos, tests and integrators.
    """


@group.command(name="init")
@_DIR
@_KEY_TYPE
@_RSA_BITS
@click.option(
    "--host",
    default=DEFAULT_TLS_HOST,
    show_default=True,
    help="Common name (and DNS name) of every TLS certificate.",
)
@click.option("--force", is_flag=True, help="Replace an existing CA and every certificate in DIR.")
def init_command(
    directory: Path, key_type: str, rsa_bits: int | None, host: str, force: bool
) -> None:
    """Create a root CA, each party's signing and TLS certificates, and CRL number 1.

    Writes DIR/root-ca.pem and .key, DIR/crl.pem, DIR/serials.json and, for the
    33 authorities and HUB, DIR/<CODE>/signing.pem|.key and tls.pem|.key.
    Refuses a directory that already holds a CA unless --force is given.
    """
    layout = PkiLayout(directory)
    total = 2 * len(PARTIES)

    def progress(count: int, record: IssuedRecord) -> None:
        if record.kind == "tls" and record.authority is not None:
            name = AUTHORITY_NAMES[record.authority]
            click.echo(f"[{count:2}/{total}] {record.authority:<9} {name}", err=True)

    with _refusals():
        registry = init_pki(
            layout,
            now=SystemClock().now(),
            key_type="rsa" if key_type == "rsa" else "ec",
            rsa_bits=rsa_bits,
            host=host,
            force=force,
            progress=progress,
        )
    root = registry.issued[0]
    root_cert = x509.load_pem_x509_certificate(layout.root_cert.read_bytes())
    key_text = key_description(root_cert.public_key())
    click.echo(f"Wrote a development PKI to {directory}:")
    click.echo(f"  root CA   {layout.root_cert} ({key_text}, valid to {root.not_after:%Y-%m-%d})")
    click.echo(f"            SHA-256 {root.fingerprint}")
    click.echo(f"  parties   {len(PARTIES) - 1} authorities and HUB: {directory}/<CODE>/")
    click.echo("            signing.pem + signing.key, tls.pem + tls.key")
    click.echo(f"  CRL       {layout.crl} (number {registry.crl_number}, no revocations)")
    click.echo(f"  registry  {layout.registry} ({len(registry.issued)} certificates)")
    click.echo(
        "Private keys (*.key) are unencrypted, mode 0600: development only, never commit them."
    )


@group.command(name="issue")
@_DIR
@click.option("--authority", required=True, metavar="CODE", help="GSS code E09000001-33, or HUB.")
@click.option("--kind", type=click.Choice(["signing", "tls"]), required=True)
@click.option("--dns", "dns_names", multiple=True, metavar="NAME", help="Extra TLS DNS name.")
@click.option("--host", default=DEFAULT_TLS_HOST, show_default=True, help="TLS common name.")
@click.option(
    "--days", type=int, help="Validity from now in days  [default: the profile's validity.days]"
)
@click.option(
    "--not-before",
    metavar="ISO-TIME",
    callback=_iso_time,
    help="Start of validity  [default: now minus the profile's backdate_minutes]",
)
@click.option(
    "--not-after",
    metavar="ISO-TIME",
    callback=_iso_time,
    help="End of validity (instead of --days).",
)
@_KEY_TYPE
@_RSA_BITS
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write <kind>.pem and <kind>.key here instead of replacing the party's files.",
)
@click.option(
    "--csr",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Certify the key of this PKCS#10 request (PEM or DER) instead of making one: "
    "the party's private key never leaves it. Only <kind>.pem is written.",
)
@_KEY_PASSWORD
def issue_command(
    directory: Path,
    authority: str,
    kind: str,
    dns_names: tuple[str, ...],
    host: str,
    days: int | None,
    not_before: datetime | None,
    not_after: datetime | None,
    key_type: str,
    rsa_bits: int | None,
    out_dir: Path | None,
    csr: Path | None,
    key_password_env: str | None,
) -> None:
    """Issue a party a new certificate with a fresh key (rotation, or a test certificate).

    The new files replace DIR/<CODE>/<kind>.pem and .key unless --out is
    given. The previous certificate stays valid until revoked. Explicit
    --not-before/--not-after make expired or not-yet-valid test certificates:

    \b
      irthub pki issue --authority E09000022 --kind signing \\
          --not-before 2020-01-01T00:00:00Z --not-after 2021-01-01T00:00:00Z --out expired/
    """
    layout = PkiLayout(directory)
    purpose: Purpose = "tls" if kind == "tls" else "signing"
    with _refusals():
        public_key = None if csr is None else public_key_of_csr(csr.read_bytes(), source=str(csr))
        record = reissue(
            layout,
            party=authority,
            kind=purpose,
            now=SystemClock().now(),
            not_before=not_before,
            not_after=not_after,
            days=days,
            dns_names=dns_names,
            host=host,
            key_type="rsa" if key_type == "rsa" else "ec",
            rsa_bits=rsa_bits,
            out_dir=out_dir,
            public_key=public_key,
            password=_root_password(layout, key_password_env),
        )
        previous = [
            r
            for r in load_registry(layout).issued
            if r.authority == record.authority and r.kind == record.kind and r != record
        ]
    code = AuthorityCode(authority)
    base = out_dir / purpose if out_dir else layout.party_dir(code) / purpose
    click.echo(
        f"Issued {kind} certificate {record.serial_hex} for {code} ({AUTHORITY_NAMES[code]})"
    )
    click.echo(f"  valid     {record.not_before.isoformat()} to {record.not_after.isoformat()}")
    if csr is None:
        click.echo(f"  files     {base}.pem, {base}.key (0600)")
    else:
        click.echo(f"  files     {base}.pem (the key stays with the holder of {csr.name})")
    if previous and out_dir is None:
        click.echo(
            f"The previous certificate {previous[-1].serial_hex} stays valid until revoked: "
            f"irthub pki revoke --dir {directory} {previous[-1].serial_hex} --reason superseded"
        )


@group.command(name="revoke")
@_DIR
@click.argument("serial")
@click.option(
    "--reason",
    type=click.Choice(list(REVOCATION_REASONS)),
    default="unspecified",
    show_default=True,
    help="RFC 5280 reason code.",
)
@_NEXT_UPDATE
@_KEY_PASSWORD
def revoke_command(
    directory: Path, serial: str, reason: str, next_update_days: int, key_password_env: str | None
) -> None:
    """Revoke the certificate with hex SERIAL (see `show`) and write a new CRL."""
    layout = PkiLayout(directory)
    with _refusals():
        crl = revoke(
            layout,
            serial,
            now=SystemClock().now(),
            reason=reason,
            next_update=timedelta(days=next_update_days),
            password=_root_password(layout, key_password_env),
        )
        record = load_registry(layout).find(parse_serial(serial))
    what = f"{record.kind} certificate of {record.authority}" if record else "certificate"
    click.echo(f"Revoked {parse_serial(serial):x} ({what}, {reason}).")
    _describe_crl(layout, crl)


@group.command(name="crl")
@_DIR
@_NEXT_UPDATE
@_KEY_PASSWORD
def crl_command(directory: Path, next_update_days: int, key_password_env: str | None) -> None:
    """Write a fresh CRL with the next CRL number; do this before the current one's nextUpdate."""
    layout = PkiLayout(directory)
    with _refusals():
        crl = write_crl(
            layout,
            now=SystemClock().now(),
            next_update=timedelta(days=next_update_days),
            password=_root_password(layout, key_password_env),
        )
    _describe_crl(layout, crl)


@group.command(name="show")
@_DIR
def show_command(directory: Path) -> None:
    """List every certificate issued: serial, kind, authority, expiry, revocation."""
    with _refusals():
        registry = load_registry(PkiLayout(directory))
    click.echo(f"{'SERIAL':<40}  {'KIND':<7}  {'PARTY':<9}  {'NOT AFTER':<20}  REVOKED")
    for record in registry.issued:
        revocation = registry.revocation(record.serial)
        revoked = (
            f"{revocation.revoked_at:%Y-%m-%d %H:%M} {revocation.reason.value}"
            if revocation
            else "-"
        )
        click.echo(
            f"{record.serial_hex:<40}  {record.kind:<7}  {record.authority or '-':<9}  "
            f"{record.not_after:%Y-%m-%d %H:%M:%S}Z  {revoked}"
        )
    click.echo(
        f"{len(registry.issued)} certificates, {len(registry.revoked)} revoked, "
        f"last CRL number {registry.crl_number}"
    )


def _describe_crl(layout: PkiLayout, crl: x509.CertificateRevocationList) -> None:
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    serials = ", ".join(f"{entry.serial_number:x}" for entry in crl) or "none"
    click.echo(f"Wrote CRL number {number} to {layout.crl} (kept as {layout.numbered_crl(number)})")
    click.echo(f"  revoked      {serials}")
    click.echo(f"  thisUpdate   {crl.last_update_utc.isoformat()}")
    click.echo(f"  nextUpdate   {crl.next_update_utc.isoformat() if crl.next_update_utc else '-'}")


def _root_password(layout: PkiLayout, env: str | None) -> bytes | None:
    """The root key's password: from the variable ``env``, else asked for if the key needs one."""
    if env is not None:
        value = os.environ.get(env)
        if value is None:
            raise click.UsageError(f"--key-password-env {env}: that variable is not set")
        return value.encode()
    try:
        pem = layout.root_key.read_bytes()
    except OSError:
        return None  # load_ca names the missing or unreadable file
    if not is_encrypted_key(pem):
        return None
    return str(click.prompt(f"Password of {layout.root_key}", hide_input=True)).encode()


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except PkiError as exc:
        raise click.ClickException(exc.reason) from exc
