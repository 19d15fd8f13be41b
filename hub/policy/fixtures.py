"""Expected-decision fixtures that ship with every ISP document.

A fixture file ``protocols/fixtures/E090000NN.toml`` holds ``document`` (the
ISP file name) and ``[[case]]`` tables, each one request and its expected
decision:

    [[case]]
    name = "what the case shows"
    requester = "E09000006"          # one of requester / responder is the
    responder = "E09000022"          # document's own authority
    purpose = "child-protection-s47"
    consent = "not-required"
    agency = "social-care"           # the requesting practitioner's agency
    level = "details"                # level asked for
    expect = "permit"                # or "deny"
    expect_level = "details"         # "none" when denied
    expect_categories = ["identity"] # permits only
    expect_rules = ["E09000006:r-safeguarding", "E09000022:d-s47"]

``expect_rules`` are the rules that decided on both sides, written
``AUTHORITY:RULE-ID``, in any order. A malformed file raises
``SchemaInvalid`` naming the file and the case.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hub.errors import IrtError, SchemaInvalid
from hub.identifiers import AuthorityCode
from hub.policy.decision import Decision
from hub.policy.request import PolicyRequest

__all__ = [
    "MAX_CASES",
    "CaseResult",
    "FixtureCase",
    "FixtureFile",
    "deciding_rules",
    "load_fixtures",
    "run_fixtures",
]

MAX_CASES: Final = 1000
"""More cases than this in one file is a generated dump, not a reviewed expectation."""

_KEYS: Final = frozenset(
    {
        "name",
        "requester",
        "responder",
        "purpose",
        "consent",
        "agency",
        "level",
        "expect",
        "expect_level",
        "expect_categories",
        "expect_rules",
    }
)


@dataclass(frozen=True, slots=True)
class FixtureCase:
    """One request and the decision it must get."""

    name: str
    request: PolicyRequest
    expect: str
    expect_level: str
    expect_categories: frozenset[str] | None
    expect_rules: frozenset[str]


@dataclass(frozen=True, slots=True)
class FixtureFile:
    """A parsed fixture file."""

    source: str
    document: str
    cases: tuple[FixtureCase, ...]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A case, the decision it got and every way they disagree."""

    case: FixtureCase
    decision: Decision
    failures: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the decision matched every expectation."""
        return not self.failures


def deciding_rules(decision: Decision) -> frozenset[str]:
    """The rules that decided, as ``AUTHORITY:RULE-ID`` strings."""
    return frozenset(f"{b.authority}:{r}" for b in decision.basis for r in b.rule_ids)


def load_fixtures(path: Path) -> FixtureFile:
    """Read and check a fixture file; raise ``SchemaInvalid`` naming the file and case."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SchemaInvalid(f"{path}: cannot read fixtures: {exc}") from exc
    document = data.get("document")
    raw_cases = data.get("case", [])
    if not isinstance(document, str) or not isinstance(raw_cases, list) or not raw_cases:
        raise SchemaInvalid(f'{path}: needs document = "..." and at least one [[case]]')
    if len(raw_cases) > MAX_CASES:
        raise SchemaInvalid(f"{path}: {len(raw_cases)} cases; at most {MAX_CASES}")
    cases = tuple(_case(raw, f"{path}: case {i}") for i, raw in enumerate(raw_cases, 1))
    return FixtureFile(source=str(path), document=document, cases=cases)


def _case(raw: Any, where: str) -> FixtureCase:
    if not isinstance(raw, dict):
        raise SchemaInvalid(f"{where}: must be a table")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise SchemaInvalid(f"{where}: unknown keys {', '.join(unknown)}")
    where = f"{where} ({raw.get('name', 'unnamed')})"
    try:
        request = PolicyRequest(
            requester=AuthorityCode(str(raw["requester"])),
            responder=AuthorityCode(str(raw["responder"])),
            purpose=str(raw["purpose"]),
            consent=str(raw["consent"]),
            agency=str(raw["agency"]),
            level=str(raw.get("level", "details")),
        )
    except KeyError as exc:
        raise SchemaInvalid(f"{where}: missing {exc.args[0]}") from exc
    except IrtError as exc:
        raise SchemaInvalid(f"{where}: {exc.reason}") from exc
    expect = raw.get("expect")
    if expect not in {"permit", "deny"}:
        raise SchemaInvalid(f"{where}: expect must be 'permit' or 'deny'")
    categories = raw.get("expect_categories")
    return FixtureCase(
        name=str(raw.get("name", "")),
        request=request,
        expect=expect,
        expect_level=str(raw.get("expect_level", "none")),
        expect_categories=None if categories is None else frozenset(map(str, categories)),
        expect_rules=frozenset(map(str, raw.get("expect_rules", []))),
    )


def run_fixtures(
    cases: tuple[FixtureCase, ...], decide: Callable[[PolicyRequest], Decision]
) -> tuple[CaseResult, ...]:
    """Decide every case with ``decide`` and compare with its expectations."""
    results = []
    for case in cases:
        decision = decide(case.request)
        failures = []
        if decision.outcome != case.expect:
            failures.append(f"outcome {decision.outcome}, expected {case.expect}")
        if decision.level != case.expect_level:
            failures.append(f"level {decision.level}, expected {case.expect_level}")
        if case.expect_categories is not None and decision.categories != case.expect_categories:
            failures.append(
                f"categories {sorted(decision.categories)}, "
                f"expected {sorted(case.expect_categories)}"
            )
        rules = deciding_rules(decision)
        if rules != case.expect_rules:
            failures.append(f"rules {sorted(rules)}, expected {sorted(case.expect_rules)}")
        results.append(CaseResult(case, decision, tuple(failures)))
    return tuple(results)
