"""The compiled decision table equals the naive rule scan, over the whole space."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.directory import Directory, default_directory
from hub.identifiers import (
    AGENCY_TYPES,
    ALL_AUTHORITIES,
    CONSENT_VALUES,
    DATA_CATEGORIES,
    PURPOSES,
    AuthorityCode,
)
from hub.policy.compiled import CELLS_PER_SIDE, CompiledPolicy, compile_isp
from hub.policy.engine import PolicyEngine
from hub.policy.model import IspDocument, parse_isp
from hub.policy.request import REQUESTABLE_LEVELS, PolicyRequest
from hub.policy.scan import scan_decide, scan_side
from tests.support.isp_builders import build_isp, build_rule

PARTNER_CHOICES = [
    ["london"],
    ["neighbours"],
    ["group:south"],
    ["neighbours", "E09000016"],
    ["group:east", "E09000001", "E09000033"],
]


def _subset(values: tuple[str, ...], *, min_size: int = 0) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), min_size=min_size, max_size=len(values), unique=True)


@st.composite
def rules(draw: st.DrawFn, index: int) -> str:
    effect = draw(st.sampled_from(["permit", "permit", "forbid"]))
    side = draw(st.sampled_from(["disclose", "request"]))
    permit = effect == "permit"
    return build_rule(
        f"r{index}",
        effect,
        side,
        purposes=draw(_subset(PURPOSES, min_size=1 if permit else 0)),
        consents=draw(_subset(CONSENT_VALUES, min_size=1 if permit else 0)),
        agencies=draw(_subset(AGENCY_TYPES)),
        partners=draw(st.none() | st.sampled_from(PARTNER_CHOICES)),
        level=draw(st.sampled_from(REQUESTABLE_LEVELS)) if permit else None,
        categories=draw(_subset(DATA_CATEGORIES)) if permit else (),
    )


@st.composite
def documents(draw: st.DrawFn, authority: str) -> IspDocument:
    count = draw(st.integers(min_value=1, max_value=8))
    data = build_isp(
        authority,
        [draw(rules(i)) for i in range(count)],
        partners=draw(st.sampled_from(PARTNER_CHOICES)),
    )
    return parse_isp(data, source=f"{authority}.xml", directory=default_directory())


_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(doc=documents("E09000022"))
def test_side_tables_equal_rule_scan_in_every_cell(doc: IspDocument) -> None:
    directory = default_directory()
    compiled = compile_isp(doc, directory=directory)
    checked = 0
    for side in ("request", "disclose"):
        for other, purpose, consent, agency in itertools.product(
            ALL_AUTHORITIES, PURPOSES, CONSENT_VALUES, AGENCY_TYPES
        ):
            expected = scan_side(
                doc,
                side,
                counterparty=other,
                purpose=purpose,
                consent=consent,
                agency=agency,
                directory=directory,
            )
            assert compiled.grant(side, other, purpose, consent, agency) == expected
            checked += 1
    assert checked == 2 * CELLS_PER_SIDE


@_SETTINGS
@given(a=documents("E09000028"), b=documents("E09000029"))
def test_decisions_equal_rule_scan_between_two_documents(a: IspDocument, b: IspDocument) -> None:
    directory: Directory = default_directory()
    docs = {a.authority: a, b.authority: b}
    policy = CompiledPolicy.build(docs, directory=directory)
    for requester, responder in ((a.authority, b.authority), (b.authority, a.authority)):
        for purpose, consent, agency, level in itertools.product(
            PURPOSES, CONSENT_VALUES, AGENCY_TYPES, REQUESTABLE_LEVELS
        ):
            request = PolicyRequest(requester, responder, purpose, consent, agency, level)
            assert policy.decide(request) == scan_decide(request, docs, directory=directory)


def test_shipped_protocols_compile_to_the_same_decisions_as_the_scan(
    shipped_engine: PolicyEngine,
) -> None:
    docs = dict(shipped_engine.documents)
    directory = shipped_engine.directory
    policy = CompiledPolicy.build(docs, directory=directory)
    # every responder, for three requesters that differ the most, the whole rest of the space
    for requester in map(AuthorityCode, ("E09000001", "E09000025", "E09000029")):
        for responder in ALL_AUTHORITIES:
            for purpose, consent, agency in itertools.product(
                PURPOSES, CONSENT_VALUES, AGENCY_TYPES
            ):
                request = PolicyRequest(requester, responder, purpose, consent, agency)
                assert policy.decide(request) == scan_decide(request, docs, directory=directory)


def test_same_inputs_give_the_same_decision_object(shipped_engine: PolicyEngine) -> None:
    request = PolicyRequest(
        AuthorityCode("E09000022"), AuthorityCode("E09000028"), "missing-child", "refused", "police"
    )
    assert shipped_engine.decide(request) is shipped_engine.decide(request)
