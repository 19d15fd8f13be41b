"""``irthub services``: search London's service catalogues, publish a borough's catalogue."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import click

from adapters.client.exchange import HubExchange
from adapters.client.services import CatalogueClient, Found
from adapters.config import load_node_config
from adapters.referral.publisher import load_catalogue
from adapters.synthetic.catalogues import write_demo_catalogue
from hub.authorities import AUTHORITY_NAMES
from hub.envelope import Practitioner, format_time
from hub.identifiers import AGENCY_TYPES, CONSENT_VALUES, DATA_CATEGORIES, PURPOSES, parse_authority
from hub.services.catalogue import SERVICE_TYPES
from hub.services.search import DEFAULT_MAX_RESULTS, MAX_RESULTS, ServiceQuery

__all__ = ["config_option", "group", "with_exchange"]

_T = TypeVar("_T")

config_option = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="This borough's node TOML: its keys, certificates and the hub URL.",
)


def with_exchange(config_path: Path, work: Callable[[HubExchange], Awaitable[_T]]) -> _T:
    """Run ``work`` with the borough's exchange of ``config_path``, closing it afterwards."""

    async def run() -> _T:
        exchange = HubExchange.from_node_config(load_node_config(config_path))
        try:
            return await work(exchange)
        finally:
            await exchange.close()

    return asyncio.run(run())


@click.group(name="services")
def group() -> None:
    """London's service catalogues: find services, publish your borough's catalogue."""


@group.command(name="search")
@config_option
@click.option("--type", "types", multiple=True, type=click.Choice(SERVICE_TYPES))
@click.option("--age", type=click.IntRange(0, 25), help="The child's age in years.")
@click.option("--category", "categories", multiple=True, type=click.Choice(DATA_CATEGORIES))
@click.option("--level", type=click.IntRange(1, 3), help="Concern level, 1 to 3.")
@click.option("--resident-of", help="The child's authority of residence (GSS code).")
@click.option("--text", help="Words to look for in names and criteria.")
@click.option("--max", "max_results", type=click.IntRange(1, MAX_RESULTS),
              default=DEFAULT_MAX_RESULTS, show_default=True)  # fmt: skip
@click.option("--practitioner", required=True, help="Id of the practitioner searching.")
@click.option("--role", required=True, help="The practitioner's role.")
@click.option("--agency", required=True, type=click.Choice(AGENCY_TYPES))
@click.option("--purpose", type=click.Choice(PURPOSES), default="early-help", show_default=True)
@click.option("--consent", type=click.Choice(CONSENT_VALUES), default="not-sought",
              show_default=True)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def search_command(
    config_path: Path, types: tuple[str, ...], age: int | None, categories: tuple[str, ...],
    level: int | None, resident_of: str | None, text: str | None, max_results: int,
    practitioner: str, role: str, agency: str, purpose: str, consent: str, as_json: bool,
) -> None:  # fmt: skip
    """Find services across London, best match first; stale catalogues are flagged.

    A search names no child, so it is not put to the ISPs; they decide when a
    referral is sent.
    """
    query = ServiceQuery(
        types=frozenset(types),
        age=age,
        categories=frozenset(categories),
        concern_level=level,
        authority=parse_authority(resident_of) if resident_of else None,
        text=text,
        max_results=max_results,
    )
    found = with_exchange(
        config_path,
        lambda exchange: CatalogueClient(exchange).search(
            query,
            practitioner=Practitioner(practitioner, role, agency),
            purpose=purpose,
            consent=consent,
        ),
    )
    click.echo(_json(found) if as_json else _table(found))


@group.command(name="publish")
@config_option
@click.argument("catalogue", required=False, type=click.Path(exists=True, dir_okay=False,
                path_type=Path))  # fmt: skip
def publish_command(config_path: Path, catalogue: Path | None) -> None:
    """Publish this borough's ServiceCatalogue (default: the node's [node] catalogue file).

    The catalogue is dated now, signed with the borough's key and replaces
    the one the hub held.
    """
    path = catalogue or load_node_config(config_path).catalogue
    if path is None:
        raise click.UsageError("name the catalogue file, or set [node] catalogue in the config")
    element = load_catalogue(path, published=datetime.now(UTC))
    ack = with_exchange(config_path, lambda exchange: CatalogueClient(exchange).publish(element))
    state = "installed" if ack.installed else "not installed (the hub holds a later one)"
    click.echo(
        f"{ack.authority}: {state}; in force: {ack.services} services published "
        f"{format_time(ack.published)}"
    )


@group.command(name="generate")
@click.option("--authority", required=True, help="GSS code of the borough.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", type=int, default=2026, show_default=True)
def generate_command(authority: str, out: Path, seed: int) -> None:
    """Write a synthetic demo catalogue for one borough (nothing in it is real)."""
    path = write_demo_catalogue(
        parse_authority(authority), out, published=datetime.now(UTC), seed=seed
    )
    click.echo(f"wrote {path}")


def _table(found: list[Found]) -> str:
    if not found:
        return "no service matches"
    lines = [
        f"{'score':<6} {'authority':<24} {'service':<34} {'ages':<6} {'levels':<7} "
        f"{'wait':<6} state",
        "-" * 100,
    ]
    for entry in found:
        service = entry.service
        where = f"{service.authority} {AUTHORITY_NAMES.get(service.authority, '')}"[:24]
        wait = f"{service.waiting_weeks}w" if service.waiting_weeks is not None else "-"
        state = ("open" if service.open else "closed") + (", stale" if entry.stale else "")
        levels = " ".join(str(level) for level in sorted(service.concern_levels))
        lines.append(
            f"{entry.score:<6.3f} {where:<24} {service.id[:34]:<34} "
            f"{service.min_age}-{service.max_age:<4} {levels:<7} {wait:<6} {state}"
        )
        lines.append(f"{'':<31} {service.name}")
    return "\n".join(lines)


def _json(found: list[Found]) -> str:
    return json.dumps(
        [
            {
                "authority": f.service.authority,
                "id": f.service.id,
                "name": f.service.name,
                "type": f.service.type,
                "ages": [f.service.min_age, f.service.max_age],
                "concern_levels": sorted(f.service.concern_levels),
                "categories": sorted(f.service.categories),
                "open": f.service.open,
                "waiting_weeks": f.service.waiting_weeks,
                "score": f.score,
                "stale": f.stale,
            }
            for f in found
        ],
        indent=2,
    )
