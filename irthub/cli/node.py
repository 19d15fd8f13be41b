"""`irthub node`: run a borough node; its local children's index: import, roll back, try.

    irthub node run --config node.toml
    irthub node synth --authority E09000022 --count 1000 --seed 1 --out DIR
    irthub node import --db index.sqlite DIR/children.csv DIR/involvements.csv
    irthub node import --config node.toml --mapping export.toml --encoding windows-1252 \
        --date-format DD/MM/YYYY --dry-run children.csv involvements.csv
    irthub node rollback --config node.toml
    irthub node match --db index.sqlite --given Mia --family Shaw --dob 2015-09-23

``match`` prints the candidates' scores and local records: it is a debugging
tool for the borough's own staff, never an answer to another authority.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final, NoReturn

import click

from adapters.config import NodeConfig, load_node_config
from adapters.index.csvimport import MAX_REPORTED_BAD_ROWS, Progress, RowWarning
from adapters.index.exportformat import load_export_format
from adapters.index.fields import parse_date
from adapters.index.model import Subject
from adapters.index.replace import (
    DEFAULT_MAX_SHRINK,
    ImportReport,
    ShrinkGuard,
    import_exports,
    rollback_index,
)
from adapters.index.sqlite import SqliteChildIndex
from adapters.matching.decision import MatchResult, ScoredCandidate
from adapters.matching.matcher import find, rank
from adapters.node.app import build_node_app
from adapters.node.readiness import check_index
from adapters.synthetic import generate_children, generate_involvements, write_csv
from hub.clock import SystemClock
from hub.errors import IrtError, SchemaInvalid
from hub.identifiers import ALL_AUTHORITIES
from hub.serve import run_until_stopped

__all__ = ["PROGRESS_MIN_BYTES", "group"]

_EXIT_REFUSED = 1
PROGRESS_MIN_BYTES: Final = 4 * 1024 * 1024
"""Exports larger than this (about 30,000 children) show a progress bar: an
import of that size takes a few seconds or more."""


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

    Refuses to start, with exit status 1, when the index ([node] index) is
    missing, unreadable, empty or older than [node] index_max_age_hours.
    Stops cleanly on Ctrl-C or SIGTERM, letting requests in flight finish.
    """
    config = load_node_config(config_path)
    index = _ready_index(config, config_path)
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


def _ready_index(config: NodeConfig, config_path: Path) -> SqliteChildIndex:
    """The node's index, if fit to answer from; else exit 1 saying what to fix."""
    try:
        index = SqliteChildIndex(config.index)
    except IrtError as exc:
        _refuse(f"the node will not start: {exc.reason} ([node] index in {config_path})")
    try:
        check_index(index, max_age=config.index_max_age, now=SystemClock().now())
    except IrtError as exc:
        index.close()
        _refuse(f"the node will not start: {exc.reason} (index {config.index})")
    return index


@group.command(name="import")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The SQLite index file to replace (created if missing).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Instead of --db: the node's TOML file, for its [node] index and index_max_shrink.",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file naming the export's columns for each field (docs/adapters.md).",
)
@click.option("--encoding", help="The exports' text encoding, e.g. windows-1252 [default: utf-8].")
@click.option("--date-format", help="How the exports write dates, e.g. DD/MM/YYYY [YYYY-MM-DD].")
@click.option(
    "--max-shrink",
    type=float,
    help=f"Largest share of the index's children an import may drop "
    f"[default: [node] index_max_shrink, or {DEFAULT_MAX_SHRINK}].",
)
@click.option("--force", is_flag=True, help="Import even if more children are dropped.")
@click.option("--dry-run", is_flag=True, help="Check and summarise the exports; write nothing.")
@click.argument("children_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("involvements_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(
    db: Path | None, config_path: Path | None, mapping: Path | None, encoding: str | None,
    date_format: str | None, max_shrink: float | None, force: bool, dry_run: bool,
    children_csv: Path, involvements_csv: Path,
) -> None:  # fmt: skip
    """Replace the index with CHILDREN_CSV and INVOLVEMENTS_CSV, all or nothing.

    Every bad row is printed as FILE:LINE: REASON and nothing is imported;
    partial records (no birth date, a child not yet named, a single name)
    are imported with a warning. An import dropping more than --max-shrink
    of the children is refused unless --force. The index replaced is kept
    for `irthub node rollback`; a running node switches to the new index
    once it is complete.
    """
    path, shrink = _index_options(db, config_path)
    export_format = load_export_format(mapping, encoding=encoding, date_format=date_format)
    guard = ShrinkGuard(max_share=shrink if max_shrink is None else max_shrink, unsafe_force=force)
    try:
        with _progress(children_csv, involvements_csv) as progress:
            report = import_exports(
                path,
                children_csv,
                involvements_csv,
                now=SystemClock().now(),
                export_format=export_format,
                guard=guard,
                dry_run=dry_run,
                progress=progress,
            )
    except SchemaInvalid as exc:
        summary, *rows = exc.reason.splitlines()
        click.echo(f"error: {exc.code}: {summary}", err=True)
        for row in rows:
            click.echo(row, err=True)
        raise click.exceptions.Exit(_EXIT_REFUSED) from exc
    _print_warnings(report.warnings)
    for line in _summary(report):
        click.echo(line)


@group.command(name="rollback")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="The index file.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Instead of --db: the node's TOML file, for its [node] index.",
)
def rollback_command(db: Path | None, config_path: Path | None) -> None:
    """Serve the index the last import replaced again; the current one is kept in its place.

    Rolling back twice undoes the rollback. A running node switches at once.
    """
    path, _ = _index_options(db, config_path)
    report = rollback_index(path)
    when = (
        "" if report.imported_at is None else f", imported {report.imported_at:%Y-%m-%d %H:%M %Z}"
    )
    click.echo(f"rolled back: {path} holds {report.children:,} children again{when}")
    if report.replaced_children is not None:
        click.echo(
            f"the index it replaced ({report.replaced_children:,} children) is kept as "
            f"{path.name}.previous; `irthub node rollback` again to return to it"
        )


def _index_options(db: Path | None, config_path: Path | None) -> tuple[Path, float]:
    if config_path is not None and db is None:
        config = load_node_config(config_path)
        return config.index, config.index_max_shrink
    if db is not None and config_path is None:
        return db, DEFAULT_MAX_SHRINK
    raise click.UsageError("name the index with --db FILE or --config node.toml (one of them)")


@contextmanager
def _progress(*files: Path) -> Iterator[Progress | None]:
    """A progress bar on standard error while exports this large are read; else none."""
    total = sum(path.stat().st_size for path in files)
    if total < PROGRESS_MIN_BYTES:
        yield None
        return
    with click.progressbar(length=total, label="reading the exports", file=sys.stderr) as bar:
        yield bar.update


def _print_warnings(warnings: Sequence[RowWarning]) -> None:
    for warning in warnings[:MAX_REPORTED_BAD_ROWS]:
        click.echo(str(warning), err=True)
    if len(warnings) > MAX_REPORTED_BAD_ROWS:
        click.echo(f"... and {len(warnings) - MAX_REPORTED_BAD_ROWS} more warnings", err=True)


def _summary(report: ImportReport) -> list[str]:
    verb = "imported" if report.written else "dry run: would import"
    lines = [
        f"{verb} {report.children:,} children and {report.involvements:,} involvements "
        f"into {report.path}"
    ]
    partial = report.partial
    if partial:
        kinds = ", ".join(
            f"{count:,} {kind.replace('-', ' ')}" for kind, count in sorted(partial.items())
        )
        lines.append(f"partial records: {kinds}")
    if report.before is None:
        lines.append("there was no index before")
    else:
        change = report.children - report.before
        share = f" ({100 * change / report.before:+.1f} %)" if report.before else ""
        held = "held" if report.written else "holds"
        lines.append(f"the index {held} {report.before:,} children before: {change:+,}{share}")
    if report.written:
        lines.append("the index replaced is kept: `irthub node rollback` serves it again")
    else:
        lines.append("nothing was written")
    return lines


def _refuse(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(_EXIT_REFUSED)


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
    names = " ".join((*record.given_names, record.family_name or "")).strip() or "-"
    evidence = ", ".join(f"{e.trait} {e.outcome} {e.points:+.1f}" for e in candidate.score.evidence)
    return (
        f"  {candidate.score.total:6.1f}  {record.local_id}  {names}  {record.birth_date or '-'}  "
        f"{record.postcode or '-'}\n          {evidence}"
    )
