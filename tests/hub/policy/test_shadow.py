"""Shadow mode at the hub: differences are counted and logged, the enforced decision stands."""

from __future__ import annotations

import json
import logging
from typing import TypedDict, Unpack

import pytest

from hub.directory import default_directory
from hub.identifiers import AuthorityCode
from hub.metrics import Metrics
from hub.pki.trust import TrustStore
from hub.policy.engine import PolicyEngine
from hub.policy.request import PolicyRequest
from hub.policy.shadow import change_kind, decide_with_shadow
from hub.policy.signed import SignedIspReader
from hub.verify import DocumentVerifier
from tests.support.signed_isps import SignerFor, isp, signed

LAMBETH, SOUTHWARK, CROYDON = (
    AuthorityCode("E09000022"),
    AuthorityCode("E09000028"),
    AuthorityCode("E09000008"),
)
COUNTER = "irt_policy_shadow_differences_total"


def ask(responder: AuthorityCode = LAMBETH) -> PolicyRequest:
    return PolicyRequest(SOUTHWARK, responder, "child-protection-s47", "given", "health", "details")


def count(metrics: Metrics, change: str, responder: AuthorityCode = LAMBETH) -> float:
    labels = {"requester": SOUTHWARK, "responder": responder, "change": change}
    return metrics.registry.get_sample_value(COUNTER, labels) or 0.0


@pytest.fixture
def engine(trust: TrustStore, signer_for: SignerFor) -> PolicyEngine:
    reader = SignedIspReader(DocumentVerifier(trust=trust))
    engine = PolicyEngine(directory=default_directory(), reader=reader)
    engine.install(signed(isp(SOUTHWARK, "request", "details"), signer_for(SOUTHWARK)), source="s")
    for code in (LAMBETH, CROYDON):
        engine.install(signed(isp(code, "disclose", "contacts"), signer_for(code)), source=code)
    return engine


class _IspOptions(TypedDict, total=False):
    categories: tuple[str, ...]
    retention: int


def stage(
    engine: PolicyEngine, signer_for: SignerFor, level: str, **kw: Unpack[_IspOptions]
) -> None:
    candidate = isp(LAMBETH, "disclose", level, version=2, **kw)
    engine.stage_shadow(signed(candidate, signer_for(LAMBETH)), source="candidate.xml")


def test_without_candidates_nothing_is_counted(engine: PolicyEngine) -> None:
    metrics = Metrics()
    assert decide_with_shadow(engine, ask(), metrics=metrics) is engine.decide(ask())
    assert COUNTER + "{" not in metrics.exposition().decode()


def test_a_widening_candidate_is_counted_and_logged_but_not_enforced(
    engine: PolicyEngine, signer_for: SignerFor, caplog: pytest.LogCaptureFixture
) -> None:
    stage(engine, signer_for, "details")
    metrics = Metrics()
    with caplog.at_level(logging.INFO, logger="hub.policy.shadow"):
        decision = decide_with_shadow(engine, ask(), metrics=metrics)
        decide_with_shadow(engine, ask(), metrics=metrics)
    assert decision.level == "contacts"
    assert decision is engine.decide(ask())
    assert count(metrics, "widened") == 2
    first = caplog.records[0].getMessage()
    assert first.startswith("policy shadow difference {")
    record = json.loads(first.removeprefix("policy shadow difference "))
    _, shadow, _ = engine.evaluate_with_shadow(ask())
    assert record == {
        "event": "policy-shadow-difference",
        "change": "widened",
        "requester": SOUTHWARK,
        "responder": LAMBETH,
        "purpose": "child-protection-s47",
        "consent": "given",
        "agency": "health",
        "requested_level": "details",
        "message_class": "known-to",
        "enforced": {"outcome": "permit", "level": "contacts"},
        "shadow": {"outcome": "permit", "level": "details"},
        "enforced_decision": decision.digest(),
        "shadow_decision": shadow.digest(),
    }


def test_only_requests_the_candidate_changes_are_counted(
    engine: PolicyEngine, signer_for: SignerFor
) -> None:
    stage(engine, signer_for, "existence")
    metrics = Metrics()
    decide_with_shadow(engine, ask(CROYDON), metrics=metrics)
    assert count(metrics, "narrowed", CROYDON) == 0
    decide_with_shadow(engine, ask(LAMBETH), metrics=metrics)
    assert count(metrics, "narrowed") == 1
    assert count(metrics, "widened") == 0


def test_change_kinds(engine: PolicyEngine, signer_for: SignerFor) -> None:
    enforced = engine.decide(ask())
    stage(engine, signer_for, "details", categories=("identity",))
    assert change_kind(enforced, engine.evaluate_with_shadow(ask())[1]) == "mixed"
    stage(engine, signer_for, "contacts", retention=30)
    _, shadow, differs = engine.evaluate_with_shadow(ask())
    assert differs
    assert change_kind(enforced, shadow) == "obligations"
    stage(engine, signer_for, "contacts")
    assert engine.evaluate_with_shadow(ask())[2] is False
