"""ISPs compiled into decision tables: every lookup is a few list indexes.

Every attribute of a request is a closed list, so each side of each document
has finitely many answers. ``CompiledIsp`` precomputes, for one document and
each side, the ``SideGrant`` of every cell

    cell = ((counterparty * 6 + purpose) * 4 + consent) * 9 + agency

(33 × 6 × 4 × 9 = 7,128 cells a side), storing a small integer per cell into
a tuple of distinct grants. The table is filled rule by rule over the cells
each rule covers, once per set of counterparties to which the same rules
apply, and copied to each of them: a different walk from the rule scan of
``hub.policy.scan``; the tests hold the two equal over the whole space.

``CompiledPolicy`` holds one compiled document per authority and decides a
request with two table lookups and one memoised ``combine`` keyed by the two
grants and the level asked for, so a decision is O(1) and the same decision
object is returned for the same inputs.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from hub.directory import Directory
from hub.identifiers import AGENCY_TYPES, ALL_AUTHORITIES, CONSENT_VALUES, PURPOSES, AuthorityCode
from hub.policy.decision import Decision, GrantKind, SideGrant, combine
from hub.policy.model import LEVEL_RANK, IspDocument, Rule, Side
from hub.policy.request import PolicyRequest

__all__ = ["CELLS_PER_SIDE", "CompiledIsp", "CompiledPolicy", "compile_isp"]

_AUTH: Final = {code: i for i, code in enumerate(ALL_AUTHORITIES)}
_PURPOSE: Final = {p: i for i, p in enumerate(PURPOSES)}
_CONSENT: Final = {c: i for i, c in enumerate(CONSENT_VALUES)}
_AGENCY: Final = {a: i for i, a in enumerate(AGENCY_TYPES)}
_NP, _NC, _NA = len(PURPOSES), len(CONSENT_VALUES), len(AGENCY_TYPES)
_TAIL: Final = _NP * _NC * _NA
CELLS_PER_SIDE: Final = len(ALL_AUTHORITIES) * _TAIL
_SIDES: Final[tuple[Side, Side]] = ("request", "disclose")
_serials = itertools.count()


def _tail(purpose: str, consent: str, agency: str) -> int:
    return (_PURPOSE[purpose] * _NC + _CONSENT[consent]) * _NA + _AGENCY[agency]


@dataclass(frozen=True, slots=True)
class CompiledIsp:
    """One document's two side tables; build with ``compile_isp``."""

    doc: IspDocument
    grants: tuple[SideGrant, ...]
    """The distinct grants of both sides; cells hold indexes into this."""
    cells: Mapping[Side, tuple[int, ...]]
    serial: int = field(default_factory=lambda: next(_serials))
    """Process-unique number of this compilation, for memo keys."""

    def grant_index(
        self, side: Side, counterparty: AuthorityCode, purpose: str, consent: str, agency: str
    ) -> int:
        """Index into ``grants`` of the answer for one request on ``side``."""
        return self.cells[side][_AUTH[counterparty] * _TAIL + _tail(purpose, consent, agency)]

    def grant(
        self, side: Side, counterparty: AuthorityCode, purpose: str, consent: str, agency: str
    ) -> SideGrant:
        """The answer of ``side`` for one request."""
        return self.grants[self.grant_index(side, counterparty, purpose, consent, agency)]


def compile_isp(doc: IspDocument, *, directory: Directory) -> CompiledIsp:
    """Precompute both side tables of ``doc`` against ``directory``."""
    partners = {_AUTH[c] for c in doc.partners.resolve(doc.authority, directory)}
    intern = _Interner(doc)
    cells = {side: _compile_side(doc, side, partners, directory, intern) for side in _SIDES}
    return CompiledIsp(doc=doc, grants=tuple(intern.grants), cells=cells)


def _tails_of(rule: Rule) -> list[int]:
    purposes = [_PURPOSE[p] for p in rule.purposes] if rule.purposes else range(_NP)
    consents = [_CONSENT[c] for c in rule.consents] if rule.consents else range(_NC)
    agencies = [_AGENCY[a] for a in rule.agencies] if rule.agencies else range(_NA)
    return [(p * _NC + c) * _NA + a for p in purposes for c in consents for a in agencies]


class _Interner:
    """Distinct grants of one document, keyed cheaply by what determines them."""

    def __init__(self, doc: IspDocument) -> None:
        self._rules = {rule.id: rule for rule in doc.rules}
        self.index: dict[tuple[str, int, tuple[str, ...]], int] = {}
        self.grants: list[SideGrant] = []

    def __call__(self, kind: GrantKind, level: int, ids: tuple[str, ...]) -> int:
        key = (kind, level, ids)
        found = self.index.get(key)
        if found is None:
            # a permit's categories are the union of its deciding rules' categories
            categories = (
                frozenset().union(*(self._rules[i].categories for i in ids))
                if kind == "permit"
                else frozenset()
            )
            found = len(self.grants)
            self.grants.append(SideGrant(kind, level, categories, ids))
            self.index[key] = found
        return found


def _tail_table(rules: list[Rule], intern: _Interner) -> list[int]:
    """The 216 purpose × consent × agency cells for one set of applicable rules."""
    forbids: dict[int, list[str]] = {}
    best_level: dict[int, int] = {}
    best_ids: dict[int, list[str]] = {}
    for rule in rules:
        level = LEVEL_RANK[rule.max_level]
        for tail in _tails_of(rule):
            if rule.effect == "forbid":
                forbids.setdefault(tail, []).append(rule.id)
            elif level > best_level.get(tail, 0):
                best_level[tail], best_ids[tail] = level, [rule.id]
            elif level == best_level[tail]:
                best_ids[tail].append(rule.id)
    table = [intern("no-rule", 0, ())] * _TAIL
    for tail, level in best_level.items():
        table[tail] = intern("permit", level, tuple(best_ids[tail]))
    for tail, ids in forbids.items():
        table[tail] = intern("forbid", 0, tuple(ids))
    return table


def _compile_side(
    doc: IspDocument,
    side: Side,
    partners: set[int],
    directory: Directory,
    intern: _Interner,
) -> tuple[int, ...]:
    rules = doc.rules_for(side)
    scopes = [
        partners
        if rule.partners is None
        else partners & {_AUTH[c] for c in rule.partners.resolve(doc.authority, directory)}
        for rule in rules
    ]
    # Counterparties to which the same rules apply share one tail table.
    tails: dict[tuple[int, ...], list[int]] = {}
    table = [intern("not-partner", 0, ())] * CELLS_PER_SIDE
    for cp in sorted(partners):
        applicable = tuple(i for i, scope in enumerate(scopes) if cp in scope)
        if applicable not in tails:
            tails[applicable] = _tail_table([rules[i] for i in applicable], intern)
        table[cp * _TAIL : (cp + 1) * _TAIL] = tails[applicable]
    return tuple(table)


class CompiledPolicy:
    """The compiled documents of London, one per authority, deciding in O(1).

    Immutable after construction except for its private memo of decisions,
    which only ever gains entries equal to what ``combine`` would return. The
    memo is bounded by the finite request space: over all 912,384 requests of
    the shipped protocols it holds 54,496 decisions (about 46 MB), and every
    install builds a new ``CompiledPolicy`` with an empty memo.
    """

    def __init__(self, compiled: Mapping[AuthorityCode, CompiledIsp]) -> None:
        self._by_index: list[CompiledIsp | None] = [compiled.get(c) for c in ALL_AUTHORITIES]
        self.compiled: Mapping[AuthorityCode, CompiledIsp] = dict(compiled)
        self._memo: dict[tuple[int, int, int, int, int, int, int], Decision] = {}

    @classmethod
    def build(
        cls, documents: Mapping[AuthorityCode, IspDocument], *, directory: Directory
    ) -> CompiledPolicy:
        """Compile every document in ``documents``."""
        return cls({a: compile_isp(d, directory=directory) for a, d in documents.items()})

    def decide(self, request: PolicyRequest, *, day: date | None = None) -> Decision:
        """Decide ``request``; a document not in force on ``day`` counts as absent."""
        ri, si = _AUTH[request.requester], _AUTH[request.responder]
        tail = _tail(request.purpose, request.consent, request.agency)
        req, disc = self._by_index[ri], self._by_index[si]
        if req is not None and day is not None and not req.doc.in_force_on(day):
            req = None
        if disc is not None and day is not None and not disc.doc.in_force_on(day):
            disc = None
        rg = -1 if req is None else req.cells["request"][si * _TAIL + tail]
        dg = -1 if disc is None else disc.cells["disclose"][ri * _TAIL + tail]
        level = LEVEL_RANK[request.level]
        key = (
            ri,
            si,
            -1 if req is None else req.serial,
            rg,
            -1 if disc is None else disc.serial,
            dg,
            level,
        )
        decision = self._memo.get(key)
        if decision is None:
            decision = combine(
                requester=request.requester,
                responder=request.responder,
                requested_level=level,
                request_doc=None if req is None else req.doc,
                request_grant=None if req is None else req.grants[rg],
                disclose_doc=None if disc is None else disc.doc,
                disclose_grant=None if disc is None else disc.grants[dg],
            )
            self._memo[key] = decision
        return decision
