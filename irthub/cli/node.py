"""`irthub node`: a borough node's local children's index: import, test data, trial matches.

    irthub node synth --authority E09000022 --count 1000 --seed 1 --out DIR
    irthub node import --db index.sqlite DIR/children.csv DIR/involvements.csv
    irthub node match --db index.sqlite --given Mia --family Shaw --dob 2015-09-23

``match`` prints the candidates' scores and local records: it is a debugging
tool for the borough's own staff, never an answer to another authority.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from adapters.config import load_node_config
from adapters.index.fields import parse_date
from adapters.index.model import Subject
from adapters.index.sqlite import SqliteChildIndex
from adapters.matching.decision import MatchResult, ScoredCandidate
from adapters.matching.matcher import find, rank
from adapters.node.app import build_node_app
from adapters.synthetic import generate_children, generate_involvements, write_csv
from hub.errors import SchemaInvalid
from hub.identifiers import ALL_AUTHORITIES
from hub.serve import run_until_stopped

__all__ = ["group"]

_EXIT_BAD_ROWS = 1


@click.group(name="node")
def group() -> None:
    """A borough node's local children's index: import exports, make test data, try matches."""


@group.command(name="run")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The node's TOML configuration file (see docs/configuration.md).",
)
def run_command(config_path: Path) -> None:
    """Serve the borough node over mutual TLS, answering the hub from the local index.

    Stops cleanly on Ctrl-C or SIGTERM, letting requests in flight finish.
    """
    config = load_node_config(config_path)
    index = SqliteChildIndex(config.index)
    try:
        run_until_stopped(
            lambda: build_node_app(config, index=index),
            host=config.listen_host,
            port=config.listen_port,
            tls=config.tls,
            name=f"node {config.node_id}",
        )
    finally:
        index.close()


@group.command(name="import")
@click.option(
    "--db",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite index file (created if missing; its contents are replaced).",
)
@click.argument("children_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("involvements_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_exports(db: Path, children_csv: Path, involvements_csv: Path) -> None:
    """Replace the index in --db with CHILDREN_CSV and INVOLVEMENTS_CSV, all or nothing.

    Every bad row is printed as FILE:LINE: REASON and nothing is imported.
    """
    try:
        with SqliteChildIndex(db) as index:
            counts = index.import_csv(children_csv, involvements_csv)
    except SchemaInvalid as exc:
        summary, *rows = exc.reason.splitlines()
        click.echo(f"error: {exc.code}: {summary}", err=True)
        for row in rows:
            click.echo(row, err=True)
        raise click.exceptions.Exit(_EXIT_BAD_ROWS) from exc
    click.echo(
        f"imported {counts.children} children and {counts.involvements} involvements into {db}"
    )


@group.command(name="synth")
@click.option(
    "--authority",
    required=True,
    type=click.Choice(ALL_AUTHORITIES),
    help="The borough, by GSS code (its postcodes and UPN prefix are used).",
)
@click.option("--count", default=1000, show_default=True, help="Number of children.")
@click.option("--seed", default=1, show_default=True, help="The same seed gives the same data.")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for children.csv and involvements.csv (created if missing).",
)
def synth(authority: str, count: int, seed: int, out: Path) -> None:
    """Write synthetic children.csv and involvements.csv for one borough (no real data)."""
    children = generate_children(authority, count, seed)
    involvements = generate_involvements(children, seed, authority=authority)
    children_csv, involvements_csv = write_csv(out, children, involvements)
    click.echo(f"wrote {len(children)} children to {children_csv}")
    click.echo(f"wrote {len(involvements)} involvements to {involvements_csv}")


@group.command(name="match")
@click.option("--db", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--given", multiple=True, help="Given name (repeat for several).")
@click.option("--family", help="Family name.")
@click.option("--other", multiple=True, help="Other or former name (repeatable).")
@click.option("--dob", help="Birth date, YYYY-MM-DD.")
@click.option("--dob-from", help="Earliest birth date of a range.")
@click.option("--dob-to", help="Latest birth date of a range.")
@click.option("--sex", type=click.Choice(["female", "male"]))
@click.option("--postcode")
@click.option("--address")
@click.option("--nhs", help="NHS number.")
@click.option("--upn", help="Unique Pupil Number.")
@click.option("--top", default=5, show_default=True, help="Candidates to list.")
def match(
    db: Path,
    given: Sequence[str],
    family: str | None,
    other: Sequence[str],
    dob: str | None,
    dob_from: str | None,
    dob_to: str | None,
    sex: str | None,
    postcode: str | None,
    address: str | None,
    nhs: str | None,
    upn: str | None,
    top: int,
) -> None:
    """Match one subject against the index in --db; print the decision and top scores."""
    if (dob_from is None) != (dob_to is None):
        raise SchemaInvalid("give both --dob-from and --dob-to, or neither")
    birth_range = None
    if dob_from is not None and dob_to is not None:
        birth_range = (parse_date(dob_from, "--dob-from"), parse_date(dob_to, "--dob-to"))
    subject = Subject.create(
        given_names=given,
        family_name=family,
        other_names=other,
        birth_date=None if dob is None else parse_date(dob, "--dob"),
        birth_range=birth_range,
        sex=sex,
        postcode=postcode,
        address=address,
        nhs_number=nhs,
        upn=upn,
    )
    with SqliteChildIndex(db) as index:
        result = find(subject, index=index)
        ranked = rank(subject, index=index)
    click.echo(_describe(result))
    click.echo("candidates:" if ranked else "candidates: none share a block with the query")
    for candidate in ranked[:top]:
        click.echo(_candidate_line(candidate))


def _describe(result: MatchResult) -> str:
    if result.status == "known" and result.record is not None:
        return (
            f"known: {result.record.local_id} ({result.decided_by}), "
            f"{len(result.involvements)} involvements"
        )
    if result.status == "ambiguous":
        traits = " ".join(result.deciding_traits) or "none"
        return f"ambiguous ({result.decided_by}); deciding traits: {traits}"
    return "not-known"


def _candidate_line(candidate: ScoredCandidate) -> str:
    record = candidate.record
    names = " ".join((*record.given_names, record.family_name))
    evidence = ", ".join(f"{e.trait} {e.outcome} {e.points:+.1f}" for e in candidate.score.evidence)
    return (
        f"  {candidate.score.total:6.1f}  {record.local_id}  {names}  {record.birth_date}  "
        f"{record.postcode or '-'}\n          {evidence}"
    )
