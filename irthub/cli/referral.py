"""``irthub refer`` and ``irthub referral``: send a referral, follow it, answer one received.

The commands act as a borough system: they sign with the borough's key from
its node configuration and talk to the hub over mutual TLS. What they send
and receive is also kept in the node's referral store (``referrals.sqlite``
in the node's data folder), beside what the running node records.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from adapters.client.exchange import HubExchange
from adapters.client.knownto import ChildQuery
from adapters.client.referrals import Receipt, ReferralClient, ReferralDraft, StatusHistory
from adapters.config import NodeConfig, load_node_config
from adapters.referral.sqlite import NODE_REFERRAL_DATABASE, SqliteNodeReferrals
from adapters.referral.store import SentReferral
from hub.authorities import AUTHORITY_NAMES
from hub.envelope import Practitioner, format_time
from hub.identifiers import (
    AGENCY_TYPES,
    CONSENT_VALUES,
    DATA_CATEGORIES,
    PURPOSES,
    parse_authority,
    parse_message_id,
)
from hub.referral.lifecycle import check_status
from hub.referral.messages import STATUSES, Contact, StatusUpdate
from irthub.cli.services import config_option, with_exchange

__all__ = ["group", "refer_command"]


@click.command(name="refer")
@config_option
@click.option("--to", "target", required=True, help="GSS code of the service's authority.")
@click.option("--service", "service_id", required=True, help="The service's ID in its catalogue.")
@click.option("--given", "given_names", multiple=True, help="Given name (repeatable).")
@click.option("--family", "family_name", help="Family name.")
@click.option("--dob", type=click.DateTime(formats=["%Y-%m-%d"]), help="Birth date, YYYY-MM-DD.")
@click.option("--sex", type=click.Choice(["female", "male", "unknown", "not-specified"]))
@click.option("--postcode", help="Postcode, e.g. 'SE15 4QN'.")
@click.option("--nhs", "nhs_number", help="NHS number (10 digits).")
@click.option("--upn", help="Unique Pupil Number (13 characters).")
@click.option("--level", "concern_level", required=True, type=click.IntRange(1, 3))
@click.option("--category", "categories", required=True, multiple=True,
              type=click.Choice(DATA_CATEGORIES), help="Area of concern (repeatable).")  # fmt: skip
@click.option("--reason", required=True, help="Why the child is referred.")
@click.option("--consent", required=True, type=click.Choice(CONSENT_VALUES))
@click.option("--purpose", required=True, type=click.Choice(PURPOSES))
@click.option("--practitioner", required=True, help="Id of the referring practitioner.")
@click.option("--role", required=True, help="The practitioner's role.")
@click.option("--agency", required=True, type=click.Choice(AGENCY_TYPES))
@click.option("--name", "contact_name", help="Your name, for the receiving service.")
@click.option("--phone", help="Your phone number, for the receiving service.")
@click.option("--email", help="Your e-mail address, for the receiving service.")
def refer_command(
    config_path: Path, target: str, service_id: str, given_names: tuple[str, ...],
    family_name: str | None, dob: datetime | None, sex: str | None, postcode: str | None,
    nhs_number: str | None, upn: str | None, concern_level: int, categories: tuple[str, ...],
    reason: str, consent: str, purpose: str, practitioner: str, role: str, agency: str,
    contact_name: str | None, phone: str | None, email: str | None,
) -> None:  # fmt: skip
    """Refer a child to a service of another London authority.

    The hub checks the service's criteria and both ISPs, stores the referral
    and answers with a signed receipt; it then delivers it to the receiving
    authority, retrying for up to five days. Prints the referral ID to
    follow it with `irthub referral status`.
    """
    config = load_node_config(config_path)
    draft = ReferralDraft(
        to=parse_authority(target),
        service_id=service_id,
        child=ChildQuery(
            given_names=given_names,
            family_name=family_name,
            birth_date=dob.date() if dob else None,
            sex=sex,
            postcode=postcode,
            nhs_number=nhs_number,
            upn=upn,
        ),
        concern_level=concern_level,
        categories=categories,
        reason=reason,
        consent=consent,
        referrer=Contact(contact_name or practitioner, role, phone, email),
    )

    async def send(exchange: HubExchange) -> tuple[bytes, Receipt]:
        client = ReferralClient(exchange)
        prepared = client.prepare(
            draft, practitioner=Practitioner(practitioner, role, agency), purpose=purpose
        )
        return prepared.raw, await client.submit(prepared)

    raw, receipt = with_exchange(config_path, send)
    store = _store(config)
    try:
        store.record(
            SentReferral(
                referral_id=receipt.referral_id,
                target=draft.to,
                service_id=service_id,
                sent_at=receipt.received_at,
                referral=raw,
                receipt=receipt.signed,
            )
        )
    finally:
        store.close()
    click.echo(f"referral {receipt.referral_id}")
    click.echo(f"received by the hub at {format_time(receipt.received_at)}: {receipt.note or ''}")


@click.group(name="referral")
def group() -> None:
    """Follow referrals sent, and answer referrals received."""


@group.command(name="status")
@config_option
@click.argument("referral_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def status_command(config_path: Path, referral_id: str, as_json: bool) -> None:
    """Where a referral this borough sent stands: delivery, and every status so far."""
    wanted = parse_message_id(referral_id)
    history = with_exchange(config_path, lambda ex: ReferralClient(ex).history(wanted))
    click.echo(_history_json(history) if as_json else _history_text(history))


@group.command(name="update")
@config_option
@click.argument("referral_id")
@click.option("--status", required=True, type=click.Choice(STATUSES))
@click.option("--reason", help="Why it was declined (with --status declined).")
@click.option("--outcome", help="The outcome (with --status closed).")
@click.option("--practitioner-name", help="The allocated practitioner (with --status allocated).")
@click.option("--practitioner-role")
@click.option("--practitioner-phone")
@click.option("--practitioner-email")
def update_command(
    config_path: Path, referral_id: str, status: str, reason: str | None, outcome: str | None,
    practitioner_name: str | None, practitioner_role: str | None,
    practitioner_phone: str | None, practitioner_email: str | None,
) -> None:  # fmt: skip
    """Tell the referrer, through the hub, that a referral received here moved on."""
    contact = (
        Contact(practitioner_name, practitioner_role, practitioner_phone, practitioner_email)
        if practitioner_name
        else None
    )
    update = StatusUpdate(
        referral_id=parse_message_id(referral_id),
        status=status,
        at=datetime.now(UTC),
        reason=reason,
        practitioner=contact,
        outcome=outcome,
    )
    store = _store(load_node_config(config_path))
    try:
        received = store.get(update.referral_id)
        # Refused here, before anything is signed, with the rule the hub would name.
        check_status(update, received.status if received is not None else None)
        receipt = with_exchange(config_path, lambda ex: ReferralClient(ex).post_status(update))
        store.note_status(update.referral_id, status)
    finally:
        store.close()
    click.echo(f"status {status} of {update.referral_id} accepted by the hub: {receipt.note or ''}")


@group.command(name="inbox")
@config_option
def inbox_command(config_path: Path) -> None:
    """Referrals this borough received, oldest first, with the last status posted."""
    store = _store(load_node_config(config_path))
    try:
        received = store.received()
    finally:
        store.close()
    if not received:
        click.echo("no referral received")
        return
    for entry in received:
        sender = f"{entry.referrer} {AUTHORITY_NAMES.get(entry.referrer, '')}"
        click.echo(
            f"{entry.referral_id}  {format_time(entry.received_at)}  from {sender}  "
            f"to {entry.service_id}  [{entry.status or 'new'}]"
        )


def _store(config: NodeConfig) -> SqliteNodeReferrals:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteNodeReferrals(config.data_dir / NODE_REFERRAL_DATABASE)


def _history_text(history: StatusHistory) -> str:
    lines = [f"referral {history.referral_id}: {history.delivery_state}"]
    for update in history.statuses:
        detail = update.reason or update.outcome or ""
        if update.practitioner is not None:
            who = update.practitioner
            detail = ", ".join(v for v in (who.name, who.role, who.phone, who.email) if v)
        lines.append(f"  {format_time(update.at)}  {update.status:<10} {detail}")
    return "\n".join(lines)


def _history_json(history: StatusHistory) -> str:
    return json.dumps(
        {
            "referral": history.referral_id,
            "delivery": history.delivery_state,
            "statuses": [
                {
                    "status": u.status,
                    "at": format_time(u.at),
                    "reason": u.reason,
                    "outcome": u.outcome,
                    "practitioner": None
                    if u.practitioner is None
                    else {
                        "name": u.practitioner.name,
                        "role": u.practitioner.role,
                        "phone": u.practitioner.phone,
                        "email": u.practitioner.email,
                    },
                }
                for u in history.statuses
            ],
        },
        indent=2,
    )
