"""``irthub message``: build, sign and verify single envelopes.

These are the tools a borough integrator uses to debug a rejected message:
``verify`` runs exactly the checks the hub runs and prints the SPEC error code
with a precise reason, or the sender, class and ``OK``.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import click
from lxml import etree

from hub.clock import SystemClock
from hub.envelope import Header, Party, Practitioner, Recipient, build_envelope, read_header
from hub.identifiers import AGENCY_TYPES, CONSENT_VALUES, PURPOSES, parse_authority
from hub.pki.trust import TrustStore
from hub.replay.guard import FreshnessPolicy, ReplayGuard
from hub.schemas import default_registry
from hub.signing import Signer
from hub.storage.memory.seen import MemorySeenStore
from hub.storage.sqlite.seen import SqliteSeenStore
from hub.verify import EnvelopeVerifier
from hub.xmlparse import parse_untrusted

__all__ = ["group"]

_QUALIFIERS = ("request", "response", "acknowledgement", "notification", "error")


@click.group(name="message")
def group() -> None:
    """Build, sign and verify single envelopes: the integrator's debugging tools.

    \b
    A typical session:
      irthub message new BODY.xml --from E09000022 --to E09000028 ... > unsigned.xml
      irthub message sign --key K --cert C unsigned.xml > signed.xml
      irthub message verify --trust-root root-ca.pem --crl crl.pem signed.xml
    """


@group.command(name="new")
@click.argument("body_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from", "sender", required=True, help="Sending authority GSS code.")
@click.option("--node", help="Sending node id, e.g. lambeth-irt.")
@click.option("--to", "recipients", multiple=True, help="Recipient authority (repeatable).")
@click.option("--scope", type=click.Choice(["neighbours", "london"]), help="Recipient scope.")
@click.option("--qualifier", type=click.Choice(_QUALIFIERS), default="request", show_default=True)
@click.option("--purpose", type=click.Choice(PURPOSES))
@click.option("--consent", type=click.Choice(CONSENT_VALUES))
@click.option("--practitioner", help="Practitioner id acting (OnBehalfOf).")
@click.option("--role", help="Practitioner role (OnBehalfOf).")
@click.option("--agency", type=click.Choice(AGENCY_TYPES), help="Practitioner agency type.")
@click.option(
    "--expires-in", type=int, metavar="SECONDS", help="Set Expires this many seconds ahead."
)
def new_message(
    body_file: Path,
    sender: str,
    node: str | None,
    recipients: tuple[str, ...],
    scope: str | None,
    qualifier: str,
    purpose: str | None,
    consent: str | None,
    practitioner: str | None,
    role: str | None,
    agency: str | None,
    expires_in: int | None,
) -> None:
    """Wrap BODY_FILE in a fresh, unsigned envelope and print it.

    The MessageID is new and Created is now; Class is the body element's name.
    The body is validated against its schema first.
    """
    body = parse_untrusted(body_file.read_bytes())
    default_registry().validate(body)
    to = tuple(Recipient(authority=parse_authority(code)) for code in recipients)
    if scope is not None:
        to += (Recipient(scope=scope),)  # type: ignore[arg-type]  # click.Choice
    created = SystemClock().now()
    on_behalf_of = None
    if practitioner or role or agency:
        if not (practitioner and role and agency):
            raise click.UsageError("--practitioner, --role and --agency go together")
        on_behalf_of = Practitioner(practitioner, role, agency)
    header = Header(
        message_class=body.tag.rpartition("}")[2],
        qualifier=qualifier,  # type: ignore[arg-type]  # click.Choice
        sender=Party(parse_authority(sender), node),
        recipients=to,
        created=created,
        expires=created + timedelta(seconds=expires_in) if expires_in else None,
        on_behalf_of=on_behalf_of,
        purpose=purpose,
        consent=consent,
    )
    envelope = build_envelope(header, body)
    default_registry().validate_envelope(envelope)
    sys.stdout.buffer.write(etree.tostring(envelope, encoding="UTF-8", xml_declaration=True))


@group.command(name="sign")
@click.argument("envelope_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="PEM private key of the sending authority's signing certificate.",
)
@click.option(
    "--cert",
    "cert_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="PEM signing certificate (and any intermediates after it).",
)
def sign_message(envelope_file: Path, key_path: Path, cert_path: Path) -> None:
    """Sign ENVELOPE_FILE and write the signed envelope to standard output.

    The envelope is validated against its schema and the header rules before
    signing, so what you sign is what a receiver will accept.
    """
    envelope = parse_untrusted(envelope_file.read_bytes())
    registry = default_registry()
    registry.validate_envelope(envelope)
    read_header(envelope)
    signer = Signer.from_files(key_path, cert_path)
    sys.stdout.buffer.write(signer.sign(envelope))


@group.command(name="verify")
@click.argument("envelope_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trust-root",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="PEM London root CA certificate: the only trust anchor.",
)
@click.option(
    "--crl",
    type=click.Path(exists=True, path_type=Path),
    help="PEM CRL issued by the root; revoked signers are refused.",
)
@click.option(
    "--tls-authority", help="Also require that the TLS client certificate named this authority."
)
@click.option(
    "--seen-db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite seen-message store for replay checks (default: this run only).",
)
@click.option(
    "--max-skew",
    type=int,
    default=300,
    show_default=True,
    metavar="SECONDS",
    help="Accepted clock difference for Created.",
)
def verify_message(
    envelope_file: Path,
    trust_root: Path,
    crl: Path | None,
    tls_authority: str | None,
    seen_db: Path | None,
    max_skew: int,
) -> None:
    """Verify ENVELOPE_FILE exactly as the hub would; print the sender, class and OK.

    On failure prints the SPEC error code and a plain reason and exits 1.
    """
    store = SqliteSeenStore(seen_db) if seen_db else MemorySeenStore()
    verifier = EnvelopeVerifier(
        trust=TrustStore.from_files(trust_root, crl),
        replay=ReplayGuard(
            store=store, policy=FreshnessPolicy(max_clock_skew=timedelta(seconds=max_skew))
        ),
    )
    message = verifier.verify_envelope(
        envelope_file.read_bytes(),
        tls_authority=parse_authority(tls_authority) if tls_authority else None,
    )
    header = message.header
    node = f" node {header.sender.node}" if header.sender.node else ""
    click.echo(f"From:      {header.sender.authority}{node}")
    click.echo(f"Signer:    {message.document.chain.leaf.subject.rfc4514_string()}")
    click.echo(f"Class:     {header.message_class} ({header.qualifier})")
    click.echo(f"MessageID: {header.message_id}")
    click.echo(f"Created:   {header.created.isoformat()}")
    if message.sighting.value == "retry":
        click.echo("Note:      the same bytes were seen before (a retry)")
    click.echo("OK")
