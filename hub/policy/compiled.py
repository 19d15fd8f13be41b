"""ISPs compiled into decision tables: every lookup is a few list indexes.

Every attribute of a request is a closed list, so each side of each document
has finitely many answers. ``CompiledIsp`` precomputes, for one document and
each side, the ``SideGrant`` of every cell

    cell = ((counterparty * 6 + purpose) * 4 + consent) * 9 + agency

(33 × 6 × 4 × 9 = 7,128 cells a side), storing a small integer per cell into
a tuple of distinct grants. The table is filled rule by rule over the cells
each rule covers, which is a different walk from the rule scan of
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
from hub.policy.decision import Decision, SideGrant, combine
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
    interned: dict[SideGrant, int] = {}
    cells = {side: _compile_side(doc, side, partners, directory, interned) for side in _SIDES}
    grants = tuple(sorted(interned, key=interned.__getitem__))
    return CompiledIsp(doc=doc, grants=grants, cells=cells)


def _cells_of(rule: Rule, counterparties: list[int]) -> list[int]:
    purposes = [_PURPOSE[p] for p in rule.purposes] if rule.purposes else range(_NP)
    consents = [_CONSENT[c] for c in rule.consents] if rule.consents else range(_NC)
    agencies = [_AGENCY[a] for a in rule.agencies] if rule.agencies else range(_NA)
    tails = [(p * _NC + c) * _NA + a for p in purposes for c in consents for a in agencies]
    return [cp * _TAIL + t for cp in counterparties for t in tails]


def _compile_side(
    doc: IspDocument,
    side: Side,
    partners: set[int],
    directory: Directory,
    interned: dict[SideGrant, int],
) -> tuple[int, ...]:
    forbids: dict[int, list[str]] = {}
    best: dict[int, tuple[int, list[str], set[str]]] = {}
    for rule in doc.rules:
        if rule.side != side:
            continue
        scope = partners
        if rule.partners is not None:
            scope = partners & {_AUTH[c] for c in rule.partners.resolve(doc.authority, directory)}
        for cell in _cells_of(rule, sorted(scope)):
            if rule.effect == "forbid":
                forbids.setdefault(cell, []).append(rule.id)
                continue
            level = LEVEL_RANK[rule.max_level]
            current = best.get(cell)
            if current is None or level > current[0]:
                best[cell] = (level, [rule.id], set(rule.categories))
            elif level == current[0]:
                current[1].append(rule.id)
                current[2].update(rule.categories)

    def intern(grant: SideGrant) -> int:
        return interned.setdefault(grant, len(interned))

    not_partner = intern(SideGrant("not-partner", 0, frozenset(), ()))
    no_rule = intern(SideGrant("no-rule", 0, frozenset(), ()))
    table = [not_partner] * CELLS_PER_SIDE
    for cp in partners:
        table[cp * _TAIL : (cp + 1) * _TAIL] = [no_rule] * _TAIL
    for cell, (level, ids, categories) in best.items():
        table[cell] = intern(SideGrant("permit", level, frozenset(categories), tuple(ids)))
    for cell, ids in forbids.items():
        table[cell] = intern(SideGrant("forbid", 0, frozenset(), tuple(ids)))
    return tuple(table)


class CompiledPolicy:
    """The compiled documents of London, one per authority, deciding in O(1).

    Immutable after construction except for its private memo of decisions,
    which only ever gains entries equal to what ``combine`` would return.
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
