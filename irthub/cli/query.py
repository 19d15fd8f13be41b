"""``irthub query``: ask the hub, as a borough system does."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import click

from adapters.client.knownto import ChildQuery, KnownToAnswer, KnownToClient
from adapters.config import NodeConfig, load_node_config
from adapters.index.fields import parse_date
from hub.clock import SystemClock
from hub.envelope import Practitioner
from hub.identifiers import AGENCY_TYPES, CONSENT_VALUES, PURPOSES, parse_authority
from irthub.demo.report import answer_json, answer_table

__all__ = ["group"]

_LEVELS = ("existence", "agencies", "contacts", "details")


@click.group(name="query")
def group() -> None:
    """Ask the hub on behalf of a practitioner (the client borough systems script)."""


@group.command(name="known-to")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The asking borough's node TOML: its keys, certificates and the hub URL.",
)
@click.option("--as", "as_authority", help="Check that the config is this authority's.")
@click.option("--given", "given_names", multiple=True, help="Given name (repeatable).")
@click.option("--family", "family_name", help="Family name.")
@click.option("--dob", help="Birth date, YYYY-MM-DD.")
@click.option("--sex", type=click.Choice(["female", "male", "unknown", "not-specified"]))
@click.option("--postcode", help="Postcode, e.g. 'SE15 4QN'.")
@click.option(
    "--address-line",
    "address_lines",
    multiple=True,
    help="Address line, e.g. 'Flat 3, 12 Rye Lane' (repeatable, at most 4).",
)
@click.option("--town", help="Town of the address, e.g. 'London'.")
@click.option("--nhs", "nhs_number", help="NHS number (10 digits).")
@click.option("--upn", help="Unique Pupil Number (13 characters).")
@click.option("--purpose", required=True, type=click.Choice(PURPOSES))
@click.option("--consent", required=True, type=click.Choice(CONSENT_VALUES))
@click.option("--practitioner", required=True, help="Id of the practitioner asking.")
@click.option("--role", required=True, help="The practitioner's role.")
@click.option("--agency", required=True, type=click.Choice(AGENCY_TYPES))
@click.option("--level", type=click.Choice(_LEVELS), default="agencies", show_default=True)
@click.option("--to", "targets", multiple=True, help="Target authority (repeatable).")
@click.option("--scope", type=click.Choice(["neighbours", "london"]), help="Targets by scope.")
@click.option("--deadline", type=float, default=5.0, show_default=True, help="Seconds to wait.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--all", "show_all", is_flag=True, help="List not-known authorities too.")
def known_to(
    config_path: Path, as_authority: str | None, given_names: tuple[str, ...],
    family_name: str | None, dob: str | None, sex: str | None, postcode: str | None,
    address_lines: tuple[str, ...], town: str | None,
    nhs_number: str | None, upn: str | None, purpose: str, consent: str, practitioner: str,
    role: str, agency: str, level: str, targets: tuple[str, ...], scope: str | None,
    deadline: float, as_json: bool, show_all: bool,
) -> None:  # fmt: skip
    """Is this child known to services in other London authorities, and to whom?

    Prints one line per authority (known, not-known, ambiguous, refused,
    unavailable, timeout, error). Each authority's answer is verified
    against that authority's own signature, not just the hub's. Exits 1
    with the SPEC code and reason if the hub refuses the query, and before
    anything is signed or sent if the child's details cannot be right (an
    impossible or future birth date, an NHS number or UPN failing its check,
    no child named).
    """
    if not targets and scope is None:
        raise click.UsageError("name targets with --to, or use --scope neighbours|london")
    child = ChildQuery(
        given_names=given_names,
        family_name=family_name,
        birth_date=None if dob is None else parse_date(dob.strip(), "--dob"),
        sex=sex,
        postcode=postcode,
        address_lines=address_lines,
        town=town,
        nhs_number=nhs_number,
        upn=upn,
        level=level,
    )
    child.check_birth_date(now=SystemClock().now())
    config = load_node_config(config_path)
    if as_authority is not None and parse_authority(as_authority) != config.authority:
        raise click.UsageError(f"{config_path} is the config of {config.authority}")
    answer = asyncio.run(
        _ask(
            config,
            child,
            Practitioner(practitioner, role, agency),
            purpose=purpose,
            consent=consent,
            targets=tuple(parse_authority(t) for t in targets),
            scope=scope,
            deadline=timedelta(seconds=deadline),
        )
    )
    click.echo(answer_json(answer) if as_json else answer_table(answer, show_not_known=show_all))


async def _ask(config: NodeConfig, child: ChildQuery, practitioner: Practitioner,
               **options: object) -> KnownToAnswer:  # fmt: skip
    # The client's connection pool belongs to the running event loop.
    client = KnownToClient.from_node_config(config)
    try:
        return await client.ask(child, practitioner=practitioner, **options)  # type: ignore[arg-type]
    finally:
        await client.close()
