"""Complete diffs between versions, and shadow runs, over the whole request space."""

from __future__ import annotations

import itertools

import pytest

from hub.directory import Directory
from hub.errors import SchemaInvalid
from hub.identifiers import ALL_AUTHORITIES, ORDINARY_CATEGORIES, AuthorityCode
from hub.policy.diff import Change, Grant, diff_documents, group_changes, shadow_changes
from hub.policy.engine import PolicyEngine
from hub.policy.model import IspDocument, parse_isp
from tests.support.paths import PROTOCOLS

LAMBETH = AuthorityCode("E09000022")
ORDINARY = frozenset(ORDINARY_CATEGORIES)


def _lambeth(directory: Directory, *, raise_unconsented: bool) -> tuple[IspDocument, bytes]:
    data = (PROTOCOLS / "E09000022.xml").read_bytes()
    if raise_unconsented:
        # the last rule, d-early-help-unconsented, goes from existence to agencies
        head, tail = data.rsplit(b"<MaxLevel>existence</MaxLevel>", 1)
        data = head.replace(b"<Version>1</Version>", b"<Version>2</Version>")
        data += b"<MaxLevel>agencies</MaxLevel>" + tail
    return parse_isp(data, source="E09000022.xml", directory=directory), data


def test_identical_versions_have_no_differences(directory: Directory) -> None:
    old, _ = _lambeth(directory, raise_unconsented=False)
    assert diff_documents(old, old, directory=directory) == ()


def test_a_known_change_lists_exactly_the_requests_it_affects(directory: Directory) -> None:
    old, _ = _lambeth(directory, raise_unconsented=False)
    new, _ = _lambeth(directory, raise_unconsented=True)
    changes = diff_documents(old, new, directory=directory)
    expected = {
        ("disclose", other, "early-help", "not-sought", agency, level)
        for other in ALL_AUTHORITIES
        if other != LAMBETH
        for agency in ("social-care", "early-help")
        for level in ("agencies", "contacts", "details")  # existence asked: unchanged
    }
    got = {(c.role, c.counterparty, c.purpose, c.consent, c.agency, c.level) for c in changes}
    assert got == expected
    assert len(changes) == len(expected) == 192
    assert all(c.widened and not c.narrowed for c in changes)
    assert {(c.old, c.new) for c in changes} == {
        (Grant("existence", ORDINARY), Grant("agencies", ORDINARY))
    }
    reverse = diff_documents(new, old, directory=directory)
    assert len(reverse) == 192
    assert all(c.narrowed and not c.widened for c in reverse)


def test_groups_are_exact_products_of_the_changes(directory: Directory) -> None:
    old = parse_isp((PROTOCOLS / "template.xml").read_bytes(), source="t", directory=directory)
    new = parse_isp(
        (PROTOCOLS / "E09000001.xml").read_bytes(), source="E09000001.xml", directory=directory
    )
    changes = diff_documents(old, new, directory=directory)
    assert changes  # the City narrows its partners to neighbours and Central
    assert all(c.narrowed for c in changes)
    groups = group_changes(changes)
    assert sum(g.size for g in groups) == len(changes)
    rows = {(c.role, c.counterparty, c.purpose, c.consent, c.agency, c.level) for c in changes}
    for g in groups:
        for other, agency, level in itertools.product(g.counterparties, g.agencies, g.levels):
            assert (g.role, other, g.purpose, g.consent, agency, level) in rows
    partners = frozenset(directory.neighbours("E09000001")) | frozenset(
        directory.members("central")
    )
    assert {c.counterparty for c in changes}.isdisjoint(partners)


def test_a_change_can_widen_and_narrow_at_once() -> None:
    change = Change(
        "disclose",
        LAMBETH,
        AuthorityCode("E09000028"),
        "early-help",
        "given",
        "health",
        "details",
        Grant("agencies", frozenset({"identity", "mental-health"})),
        Grant("contacts", frozenset({"identity"})),
    )
    assert change.widened
    assert change.narrowed


def test_diff_refuses_documents_of_two_authorities(directory: Directory) -> None:
    a = parse_isp((PROTOCOLS / "E09000001.xml").read_bytes(), source="a", directory=directory)
    b = parse_isp((PROTOCOLS / "E09000002.xml").read_bytes(), source="b", directory=directory)
    with pytest.raises(SchemaInvalid, match=r"cannot diff a \(E09000001\) against b \(E09000002\)"):
        diff_documents(a, b, directory=directory)


def test_shadow_changes_compare_whole_decisions(engine: PolicyEngine, directory: Directory) -> None:
    engine.load_folder(PROTOCOLS)
    assert shadow_changes(engine) == ()
    _, data = _lambeth(directory, raise_unconsented=True)
    engine.stage_shadow(data, source="candidate.xml")
    changes = shadow_changes(engine)
    # Sutton asks only within South London and its neighbours: Lambeth is neither
    others = {a for a in ALL_AUTHORITIES if a not in {LAMBETH, "E09000029"}}
    assert {c.counterparty for c in changes} == others
    assert len(changes) == len(others) * 2 * 3
    assert {c.role for c in changes} == {"responder"}
