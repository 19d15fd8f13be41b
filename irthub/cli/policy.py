"""``irthub policy``: check, explain, test and compare information sharing protocols.

Every command reads the ISP documents of a protocols folder (by default the
one shipped in ``protocols/``) and the London directory, and decides with the
same compiled engine the hub runs, reading the texts without checking any
signature (``UnsafeUnsignedIspReader``: signed files read the same). Signing
and loading signed documents as the hub does are ``sign``, ``sign-all`` and
``verify``, in ``irthub.cli.policy_signing``.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import click

import protocols
from hub.clock import FixedClock
from hub.directory import DEFAULT_DIRECTORY_PATH, Directory, load_directory
from hub.errors import IrtError
from hub.identifiers import (
    AGENCY_TYPES,
    ALL_AUTHORITIES,
    CONSENT_VALUES,
    DATA_CATEGORIES,
    PURPOSES,
    AuthorityCode,
    parse_authority,
)
from hub.policy.compiled import CompiledPolicy
from hub.policy.diff import Change, ChangeGroup, diff_documents, group_changes, shadow_changes
from hub.policy.engine import PolicyEngine, protocol_files
from hub.policy.explain import explain
from hub.policy.fixtures import load_fixtures, run_fixtures
from hub.policy.model import IspDocument, load_isp
from hub.policy.request import MESSAGE_CLASSES, REQUESTABLE_LEVELS, PolicyRequest
from hub.policy.signed import UnsafeUnsignedIspReader
from irthub.cli import policy_signing

__all__ = ["group"]

DEFAULT_PROTOCOLS: Final = Path(protocols.__file__).resolve().parent
_LEVEL_MARK: Final = {
    "none": "-",
    "existence": "E",
    "agencies": "A",
    "contacts": "C",
    "details": "D",
}

_protocols_option = click.option(
    "--protocols",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_PROTOCOLS,
    show_default="the shipped protocols/",
    help="Folder of E090000NN.xml documents in force.",
)
_directory_option = click.option(
    "--directory",
    "directory_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DIRECTORY_PATH,
    show_default="hub/directory/london.toml",
    help="London directory (neighbours and groups).",
)
_on_option = click.option(
    "--on",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Decide as on this day (YYYY-MM-DD); default today (UTC).",
)
_csv_option = click.option("--csv", "as_csv", is_flag=True, help="Write CSV instead of text.")


@click.group(name="policy")
def group() -> None:
    """Check, explain, test and compare information sharing protocols (ISPs).

    \b
    irthub policy validate protocols/E09000022.xml
    irthub policy explain --from E09000022 --to E09000008 --purpose early-help \\
        --consent given --agency early-help
    irthub policy test                      # every shipped document's fixtures
    irthub policy diff old.xml new.xml      # every request that changes
    irthub policy matrix --purpose child-protection-s47
    irthub policy shadow candidate.xml      # candidate beside the one in force
    irthub policy sign protocols/E09000022.xml --key K --cert C --out signed/E09000022.xml
    irthub policy sign-all --pki dev-pki --out signed   # development keys only
    irthub policy verify signed --root dev-pki/root-ca.pem --crl dev-pki/crl.pem
    """


def _authority(_ctx: click.Context, _param: click.Parameter, value: str) -> AuthorityCode:
    try:
        return parse_authority(value)
    except IrtError as exc:
        raise click.BadParameter(exc.reason) from exc


def _engine(folder: Path, directory_file: Path, day: datetime | None) -> PolicyEngine:
    """An engine holding ``folder``'s documents; refused files are reported on stderr."""
    directory = load_directory(directory_file)
    when = day.replace(tzinfo=UTC) if day is not None else datetime.now(UTC)
    # These tools work on the texts, signed or not; the hub reads only signed ones.
    engine = PolicyEngine(
        directory=directory, reader=UnsafeUnsignedIspReader(), clock=FixedClock(when)
    )
    report = engine.load_folder(folder)
    for outcome in report.refused():
        click.echo(f"warning: refused {outcome.source}: {outcome.reason}", err=True)
    return engine


@group.command(name="validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@_directory_option
def validate(files: Sequence[Path], directory_file: Path) -> None:
    """Check ISP documents against the schema and the model rules.

    Prints one line per file: its id, version, rule count and SHA-256 digest,
    or the error naming the line and rule. Exits 1 if any file is invalid.
    """
    directory = load_directory(directory_file)
    failed = 0
    for path in files:
        try:
            doc = load_isp(path, directory=directory)
        except IrtError as exc:
            failed += 1
            click.echo(f"invalid: {exc.code}: {exc.reason}")
            continue
        click.echo(
            f"ok: {path}: {doc.id} version {doc.version} for {doc.authority}, "
            f"{len(doc.rules)} rules, sha256 {doc.digest}"
        )
    if failed:
        sys.exit(1)


@group.command(name="explain")
@click.option(
    "--from",
    "requester",
    required=True,
    callback=_authority,
    help="Requesting authority, e.g. E09000022.",
)
@click.option(
    "--to",
    "responder",
    required=True,
    callback=_authority,
    help="Responding authority, e.g. E09000008.",
)
@click.option("--purpose", required=True, type=click.Choice(PURPOSES))
@click.option("--consent", required=True, type=click.Choice(CONSENT_VALUES))
@click.option("--agency", required=True, type=click.Choice(AGENCY_TYPES), help="Practitioner's.")
@click.option(
    "--level", type=click.Choice(REQUESTABLE_LEVELS), default="details", show_default=True
)
@click.option(
    "--class",
    "message_class",
    type=click.Choice(MESSAGE_CLASSES),
    default="known-to",
    show_default=True,
    help="Message class (recorded; not a rule condition in ISP version 1).",
)
@_protocols_option
@_directory_option
@_on_option
def explain_command(
    requester: AuthorityCode,
    responder: AuthorityCode,
    purpose: str,
    consent: str,
    agency: str,
    level: str,
    message_class: str,
    folder: Path,
    directory_file: Path,
    day: datetime | None,
) -> None:
    """Decide one request and say why, naming the rules of both ISPs."""
    engine = _engine(folder, directory_file, day)
    request = PolicyRequest(
        requester,
        responder,
        purpose,
        consent,
        agency,
        level,
        message_class,  # type: ignore[arg-type]  # click.Choice checked it
    )
    decision = engine.decide(request)
    for line in explain(request, decision, documents=engine.documents, directory=engine.directory):
        click.echo(line)


@group.command(name="test")
@click.argument(
    "target", required=False, type=click.Path(exists=True, path_type=Path), default=None
)
@_directory_option
@_on_option
def test_command(target: Path | None, directory_file: Path, day: datetime | None) -> None:
    """Run the expected-decision fixtures of ISP documents.

    TARGET is a protocols folder (default: the shipped one; every document
    must have fixtures/E090000NN.toml), one ISP file (its fixtures beside it
    in fixtures/, the other documents from its folder; the file replaces the
    one in force for its authority), or one fixtures .toml file. Prints
    PASS/FAIL per case and a summary; exits 1 on any failure.
    """
    directory = load_directory(directory_file)
    on = (day or datetime.now(UTC)).date()
    target = target or DEFAULT_PROTOCOLS
    if target.is_dir():
        folder, docs_under_test = target, [p.stem for p in protocol_files(target)]
    elif target.suffix == ".toml":
        fixture = load_fixtures(target)
        folder, docs_under_test = target.parent.parent, [Path(fixture.document).stem]
    else:
        folder, docs_under_test = target.parent, [target.stem]
    candidate = target if target.is_file() and target.suffix == ".xml" else None
    documents, failed = _read_folder(folder, directory, replace=candidate)
    policy = CompiledPolicy.build(documents, directory=directory)
    passed = 0
    for stem in docs_under_test:
        fixture_path = folder / "fixtures" / f"{stem}.toml"
        if not fixture_path.is_file():
            click.echo(f"FAIL {stem}: no fixtures at {fixture_path}")
            failed += 1
            continue
        try:
            fixture = load_fixtures(fixture_path)
        except IrtError as exc:
            click.echo(f"FAIL {stem}: {exc.reason}")
            failed += 1
            continue
        for result in run_fixtures(fixture.cases, lambda r: policy.decide(r, day=on)):
            if result.ok:
                passed += 1
                click.echo(f"PASS {stem}: {result.case.name}")
            else:
                failed += 1
                click.echo(f"FAIL {stem}: {result.case.name}: {'; '.join(result.failures)}")
    click.echo(f"{passed} passed, {failed} failed")
    if failed:
        sys.exit(1)


def _read_folder(
    folder: Path, directory: Directory, *, replace: Path | None
) -> tuple[dict[AuthorityCode, IspDocument], int]:
    documents: dict[AuthorityCode, IspDocument] = {}
    failed = 0
    paths = protocol_files(folder)
    if replace is not None and replace not in paths:
        paths.append(replace)
    for path in paths:
        try:
            doc = load_isp(path, directory=directory)
        except IrtError as exc:
            click.echo(f"FAIL {path.stem}: {exc.reason}")
            failed += 1
            continue
        if replace is None or path == replace or doc.authority not in documents:
            documents[doc.authority] = doc
    return documents, failed


def _describe_set(items: frozenset[str], everything: Iterable[str], what: str) -> str:
    every = frozenset(everything)
    if items == every:
        return f"any {what}"
    return ", ".join(sorted(items))


def _describe_counterparties(group_: ChangeGroup, directory: Directory) -> str:
    others = frozenset(directory.codes()) - {group_.authority}
    if group_.counterparties == others:
        return "every other authority"
    if group_.counterparties == frozenset(directory.neighbours(group_.authority)):
        return "its neighbours"
    for name in directory.groups:
        if group_.counterparties == frozenset(directory.members(name)) - {group_.authority}:
            return f"group {name}"
    missing = others - group_.counterparties
    if len(missing) <= len(others) // 4:
        return f"every other authority except {', '.join(sorted(missing))}"
    return ", ".join(sorted(group_.counterparties))


_ROLE_TEXT: Final = {
    "disclose": "disclosing to",
    "request": "asking",
    "responder": "answering",
    "requester": "asking",
}


def _print_groups(title: str, changes: list[Change], directory: Directory) -> None:
    groups = group_changes(changes)
    click.echo(f"{title}: {len(changes)} requests in {len(groups)} groups")
    for g in groups:
        click.echo(
            f"  {g.authority} {_ROLE_TEXT[g.role]} {_describe_counterparties(g, directory)}; "
            f"{g.purpose}, consent {g.consent}; "
            f"{_describe_set(g.agencies, AGENCY_TYPES, 'agency')}; "
            f"asking for {_describe_set(g.levels, REQUESTABLE_LEVELS, 'level')}: "
            f"{g.old.describe()} -> {g.new.describe()}"
        )


def _write_csv(changes: Sequence[Change]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(
        [
            "change",
            "role",
            "authority",
            "counterparty",
            "purpose",
            "consent",
            "agency",
            "requested_level",
            "old_level",
            "old_categories",
            "new_level",
            "new_categories",
        ]
    )
    order = {c: i for i, c in enumerate(DATA_CATEGORIES)}
    for c in changes:
        kind = "+".join(k for k, on in (("widened", c.widened), ("narrowed", c.narrowed)) if on)
        writer.writerow(
            [
                kind,
                c.role,
                c.authority,
                c.counterparty,
                c.purpose,
                c.consent,
                c.agency,
                c.level,
                c.old.level,
                " ".join(sorted(c.old.categories, key=order.__getitem__)),
                c.new.level,
                " ".join(sorted(c.new.categories, key=order.__getitem__)),
            ]
        )


def _report_changes(changes: Sequence[Change], directory: Directory, as_csv: bool) -> None:
    if as_csv:
        _write_csv(changes)
        return
    widened = [c for c in changes if c.widened]
    narrowed = [c for c in changes if c.narrowed]
    _print_groups("Widened (new permits, or raises level or categories)", widened, directory)
    _print_groups("Narrowed (new denies, or lowers level or categories)", narrowed, directory)
    click.echo(f"{len(changes)} requests differ")


@group.command(name="diff")
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_directory_option
@_csv_option
def diff_command(old: Path, new: Path, directory_file: Path, as_csv: bool) -> None:
    """List every request that two versions of one authority's ISP treat differently.

    The whole request space of the document's own sides is enumerated: both
    sides × every other authority × purposes × consent values × agency types ×
    levels asked for (55,296 requests). Widened lists what NEW permits, or
    permits at a higher level or with more categories, than OLD; narrowed is
    the reverse. The other authorities' ISPs are not consulted (see shadow).
    """
    directory = load_directory(directory_file)
    changes = diff_documents(
        load_isp(old, directory=directory), load_isp(new, directory=directory), directory=directory
    )
    _report_changes(changes, directory, as_csv)


@group.command(name="shadow")
@click.argument("candidate", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_protocols_option
@_directory_option
@_on_option
@_csv_option
def shadow_command(
    candidate: Path, folder: Path, directory_file: Path, day: datetime | None, as_csv: bool
) -> None:
    """Evaluate CANDIDATE beside the version in force and print every difference.

    Whole decisions (both ISPs) are compared for every request in which the
    candidate's authority asks or answers: 2 × 32 × purposes × consent values ×
    agency types × levels asked for.
    """
    engine = _engine(folder, directory_file, day)
    engine.stage_shadow(candidate.read_bytes(), source=str(candidate))
    _report_changes(shadow_changes(engine), engine.directory, as_csv)


@group.command(name="matrix")
@click.option("--purpose", required=True, type=click.Choice(PURPOSES))
@click.option("--consent", type=click.Choice(CONSENT_VALUES), default="given", show_default=True)
@click.option("--agency", type=click.Choice(AGENCY_TYPES), default="social-care", show_default=True)
@click.option(
    "--level", type=click.Choice(REQUESTABLE_LEVELS), default="details", show_default=True
)
@_protocols_option
@_directory_option
@_on_option
@_csv_option
def matrix_command(
    purpose: str,
    consent: str,
    agency: str,
    level: str,
    folder: Path,
    directory_file: Path,
    day: datetime | None,
    as_csv: bool,
) -> None:
    """A London-wide table: the level each requester (row) gets from each responder (column).

    Marks: D details, C contacts, A agencies, E existence, - denied, . self.
    """
    engine = _engine(folder, directory_file, day)
    rows = [
        [
            None if a == b else engine.decide(PolicyRequest(a, b, purpose, consent, agency, level))
            for b in ALL_AUTHORITIES
        ]
        for a in ALL_AUTHORITIES
    ]
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["requester", "responder", "outcome", "level", "categories"])
        for a, row in zip(ALL_AUTHORITIES, rows, strict=True):
            for b, d in zip(ALL_AUTHORITIES, row, strict=True):
                if d is not None:
                    writer.writerow([a, b, d.outcome, d.level, " ".join(sorted(d.categories))])
        return
    names = {c: engine.directory.authority(c).name for c in ALL_AUTHORITIES}
    click.echo(f"{purpose}, consent {consent}, {agency} practitioner asking for {level}")
    corner = "requester \\ responder"
    click.echo(f"{corner:<28}" + " ".join(c[-2:] for c in ALL_AUTHORITIES))
    for a, row in zip(ALL_AUTHORITIES, rows, strict=True):
        marks = [" ." if d is None else " " + _LEVEL_MARK[d.level] for d in row]
        click.echo(f"{a[-2:]} {names[a][:25]:<25}" + "".join(marks))
    click.echo("D details, C contacts, A agencies, E existence, - denied, . self")


for _command in policy_signing.COMMANDS:
    group.add_command(_command)
