"""SPEC §7 semantics, each rule of evaluation shown on small documents."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from hub.errors import SchemaInvalid
from hub.identifiers import AuthorityCode
from hub.policy.decision import Decision
from hub.policy.engine import PolicyEngine
from hub.policy.request import PolicyRequest
from tests.support.isp_builders import ALL_CONSENTS, IspXml, RuleXml, asker

LAMBETH, SOUTHWARK, HAVERING = (
    AuthorityCode("E09000022"),
    AuthorityCode("E09000028"),
    AuthorityCode("E09000016"),
)
S47 = ("child-protection-s47",)


def ask(
    engine: PolicyEngine,
    *,
    requester: str = SOUTHWARK,
    responder: str = LAMBETH,
    consent: str = "given",
    agency: str = "social-care",
    level: str = "details",
) -> Decision:
    return engine.decide(
        PolicyRequest(
            AuthorityCode(requester),
            AuthorityCode(responder),
            "child-protection-s47",
            consent,
            agency,
            level,
        )
    )


def permit(
    rule_xml: RuleXml,
    rule_id: str,
    level: str = "details",
    *,
    categories: Sequence[str] = (),
    partners: Sequence[str] | None = None,
) -> str:
    return rule_xml(
        rule_id,
        "permit",
        "disclose",
        purposes=S47,
        consents=ALL_CONSENTS,
        level=level,
        categories=categories,
        partners=partners,
    )


def test_deny_by_default(engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml) -> None:
    engine.install(asker(SOUTHWARK), source="s")
    engine.install(
        isp_xml(LAMBETH, [rule_xml("f", "forbid", "disclose", purposes=("early-help",))]),
        source="l",
    )
    decision = ask(engine)
    assert (decision.outcome, decision.level, decision.categories) == ("deny", "none", frozenset())
    assert decision.obligations is None
    assert [b.kind for b in decision.basis] == ["permit", "no-rule"]
    assert "has no rule that permits it" in decision.reason


def test_matching_forbid_wins_over_any_permit(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    engine.install(asker(SOUTHWARK), source="s")
    engine.install(
        isp_xml(
            LAMBETH,
            [
                permit(rule_xml, "p"),
                rule_xml("no-police", "forbid", "disclose", agencies=("police",)),
            ],
        ),
        source="l",
    )
    assert ask(engine).permitted
    denied = ask(engine, agency="police")
    assert not denied.permitted
    assert denied.basis[1].rule_ids == ("no-police",)
    assert "forbids it (rule no-police)" in denied.reason


def test_forbid_on_the_request_side_denies_too(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    engine.install(
        isp_xml(
            SOUTHWARK,
            [
                rule_xml(
                    "r", "permit", "request", purposes=S47, consents=ALL_CONSENTS, level="details"
                ),
                rule_xml("r-no-refused", "forbid", "request", consents=("refused",)),
            ],
        ),
        source="s",
    )
    engine.install(isp_xml(LAMBETH, [permit(rule_xml, "p")]), source="l")
    assert ask(engine).permitted
    denied = ask(engine, consent="refused")
    assert denied.basis[0].rule_ids == ("r-no-refused",)
    assert denied.reason.startswith("the requester's ISP (E09000028, request side) forbids")


def test_both_sides_must_permit(engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml) -> None:
    engine.install(
        isp_xml(SOUTHWARK, [rule_xml("f", "forbid", "request", purposes=("early-help",))]),
        source="s",
    )
    engine.install(isp_xml(LAMBETH, [permit(rule_xml, "p")]), source="l")
    decision = ask(engine)
    assert not decision.permitted
    assert [b.kind for b in decision.basis] == ["no-rule", "permit"]
    engine.install(
        asker(SOUTHWARK, level="details").replace(b"<Version>1", b"<Version>2"), source="s2"
    )
    assert ask(engine).permitted


def test_lower_level_of_the_two_sides_wins(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    engine.install(asker(SOUTHWARK, level="contacts"), source="s")
    engine.install(isp_xml(LAMBETH, [permit(rule_xml, "p", "details")]), source="l")
    assert ask(engine).level == "contacts"
    engine.install(isp_xml(LAMBETH, [permit(rule_xml, "p", "agencies")], version=2), source="l2")
    assert ask(engine).level == "agencies"


def test_requested_level_caps_the_grant(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    engine.install(asker(SOUTHWARK), source="s")
    engine.install(isp_xml(LAMBETH, [permit(rule_xml, "p", "details")]), source="l")
    assert [ask(engine, level=lv).level for lv in ("existence", "agencies", "contacts")] == [
        "existence",
        "agencies",
        "contacts",
    ]
    with pytest.raises(SchemaInvalid, match="level 'none' is not one of"):
        ask(engine, level="none")


def test_sensitive_categories_only_when_named_on_both_sides(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    ordinary = {"identity", "involvement", "contact", "assessment"}
    engine.install(asker(SOUTHWARK), source="s")  # asks for ordinary categories only
    engine.install(isp_xml(LAMBETH, [permit(rule_xml, "p")]), source="l")
    assert ask(engine).categories == ordinary
    engine.install(
        isp_xml(
            LAMBETH, [permit(rule_xml, "p", categories=("identity", "mental-health"))], version=2
        ),
        source="l2",
    )
    assert ask(engine).categories == {"identity"}  # named by the discloser only
    engine.install(
        asker(SOUTHWARK, categories=("identity", "mental-health", "sexual-health")).replace(
            b"<Version>1", b"<Version>2"
        ),
        source="s2",
    )
    assert ask(engine).categories == {"identity", "mental-health"}


def test_lower_level_rule_adds_no_categories(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    engine.install(asker(SOUTHWARK, categories=("identity", "domestic-abuse")), source="s")
    engine.install(
        isp_xml(
            LAMBETH,
            [
                permit(rule_xml, "high", "details", categories=("identity",)),
                permit(rule_xml, "low", "existence", categories=("identity", "domestic-abuse")),
            ],
        ),
        source="l",
    )
    decision = ask(engine)
    assert (decision.level, decision.categories) == ("details", frozenset({"identity"}))
    assert decision.basis[1].rule_ids == ("high",)


def test_partner_scope_document_and_rule(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    for code in (SOUTHWARK, HAVERING, "E09000033", "E09000008"):
        engine.install(asker(code), source=code)
    engine.install(
        isp_xml(
            LAMBETH,
            [
                permit(rule_xml, "all", "existence"),
                permit(rule_xml, "central", "details", partners=["group:central"]),
            ],
            partners=["neighbours", "E09000016"],
        ),
        source="l",
    )
    assert ask(engine, requester=SOUTHWARK).level == "details"  # neighbour, central
    assert ask(engine, requester="E09000008").level == "existence"  # neighbour, south
    assert ask(engine, requester=HAVERING).level == "existence"  # listed, east
    far = ask(engine, requester="E09000002")
    assert far.basis == ()  # Barking and Dagenham has no ISP here
    engine.install(asker("E09000002"), source="bd")
    far = ask(engine, requester="E09000002")
    assert far.basis[1].kind == "not-partner"
    assert "does not count E09000002 among its partners" in far.reason


def test_obligations_come_from_the_responder(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    engine.install(asker(SOUTHWARK), source="s")
    engine.install(isp_xml(LAMBETH, [permit(rule_xml, "p")], retention=30, notify=True), source="l")
    obligations = ask(engine).obligations
    assert obligations is not None
    assert (obligations.retention_days, obligations.notify_owner) == (30, True)


def test_self_requests_and_missing_documents_deny(engine: PolicyEngine) -> None:
    engine.install(asker(SOUTHWARK), source="s")
    assert "cannot ask itself" in ask(engine, requester=SOUTHWARK, responder=SOUTHWARK).reason
    assert "responder E09000022 has no ISP in force" in ask(engine).reason
    assert (
        "requester E09000022 has no ISP in force"
        in ask(engine, requester=LAMBETH, responder=SOUTHWARK).reason
    )


def test_document_outside_its_dates_is_not_in_force(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    engine.install(asker(SOUTHWARK), source="s")
    engine.install(
        isp_xml(LAMBETH, [permit(rule_xml, "p")], effective_from="2027-01-01"), source="l"
    )
    assert "responder E09000022 has no ISP in force" in ask(engine).reason
    engine.install(
        isp_xml(LAMBETH, [permit(rule_xml, "p")], version=2, effective_to="2026-11-23"), source="l2"
    )
    assert not ask(engine).permitted
    engine.install(
        isp_xml(LAMBETH, [permit(rule_xml, "p")], version=3, effective_to="2026-11-24"), source="l3"
    )
    assert ask(engine).permitted


def test_decision_records_basis_and_has_a_stable_digest(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    engine.install(asker(SOUTHWARK), source="s")
    lambeth = engine.install(isp_xml(LAMBETH, [permit(rule_xml, "p")]), source="l")
    decision = ask(engine)
    responder = decision.basis[1]
    assert (responder.side, responder.isp_id, responder.version, responder.digest) == (
        "responder",
        "isp-E09000022",
        1,
        lambeth.digest,
    )
    canonical = json.loads(json.dumps(decision.canonical()))
    assert canonical["basis"][0]["rules"] == ["r-all"]
    assert decision.digest() == ask(engine).digest()
    assert len(decision.digest()) == 64
    assert ask(engine, level="contacts").digest() != decision.digest()
    engine.install(isp_xml(LAMBETH, [permit(rule_xml, "p")], version=2), source="l2")
    assert ask(engine).digest() != decision.digest()  # same effect, other document version
