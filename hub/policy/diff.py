"""Complete comparisons over the request space: version diffs and shadow runs.

``diff_documents`` compares two versions of one authority's document on
their own terms: for both sides, every other authority, purpose, consent
value, agency type and level asked for (2 × 32 × 6 × 4 × 9 × 4 = 55,296
requests), the grant of that side (capped by the level asked for). Nothing is
sampled; every request whose grant differs is returned as a ``Change``.

``shadow_changes`` compares whole decisions (both ISPs) between the engine's
enforced and shadow sets, over every request in which a staged authority
asks or answers.

``group_changes`` folds a list of changes into groups that are exact
products (counterparties × agencies × levels) for readable output.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from hub.directory import Directory
from hub.errors import SchemaInvalid
from hub.identifiers import (
    AGENCY_TYPES,
    ALL_AUTHORITIES,
    CONSENT_VALUES,
    DATA_CATEGORIES,
    DISCLOSURE_LEVELS,
    PURPOSES,
    AuthorityCode,
)
from hub.policy.compiled import CompiledIsp, compile_isp
from hub.policy.decision import Decision, SideGrant
from hub.policy.engine import PolicyEngine
from hub.policy.model import IspDocument, Side
from hub.policy.request import REQUESTABLE_LEVELS, PolicyRequest

__all__ = [
    "Change",
    "ChangeGroup",
    "Grant",
    "diff_documents",
    "group_changes",
    "shadow_changes",
]

_CATEGORY_ORDER: Final = {c: i for i, c in enumerate(DATA_CATEGORIES)}


@dataclass(frozen=True, slots=True)
class Grant:
    """What a request gets: ``none`` and no categories when denied."""

    level: str
    categories: frozenset[str]

    @property
    def permitted(self) -> bool:
        """True unless the level is ``none``."""
        return self.level != "none"

    def describe(self) -> str:
        """``deny`` or ``contacts [identity, involvement]``."""
        if not self.permitted:
            return "deny"
        names = sorted(self.categories, key=_CATEGORY_ORDER.__getitem__)
        return f"{self.level} [{', '.join(names)}]"


@dataclass(frozen=True, slots=True)
class Change:
    """One request whose grant differs between old and new."""

    role: str
    """``request`` / ``disclose`` for a document diff; ``requester`` / ``responder``
    (the staged authority's role) for a shadow run."""
    authority: AuthorityCode
    counterparty: AuthorityCode
    purpose: str
    consent: str
    agency: str
    level: str
    old: Grant
    new: Grant

    @property
    def widened(self) -> bool:
        """New permits where old denied, or a higher level, or a category old lacked."""
        if not self.new.permitted:
            return False
        return (
            not self.old.permitted
            or _rank(self.new.level) > _rank(self.old.level)
            or bool(self.new.categories - self.old.categories)
        )

    @property
    def narrowed(self) -> bool:
        """The reverse of ``widened``; a change can be both (level up, category dropped)."""
        return Change(
            self.role,
            self.authority,
            self.counterparty,
            self.purpose,
            self.consent,
            self.agency,
            self.level,
            self.new,
            self.old,
        ).widened


def _rank(level: str) -> int:
    return DISCLOSURE_LEVELS.index(level)


def _grant(side_grant: SideGrant, requested: str) -> Grant:
    if side_grant.kind != "permit":
        return Grant("none", frozenset())
    level = DISCLOSURE_LEVELS[min(side_grant.level, _rank(requested))]
    return Grant(level, side_grant.categories)


def _decision_grant(decision: Decision) -> Grant:
    return Grant(decision.level, decision.categories)


def diff_documents(
    old: IspDocument, new: IspDocument, *, directory: Directory
) -> tuple[Change, ...]:
    """Every request on which ``old`` and ``new`` grant differently, side by side.

    Raises ``SchemaInvalid`` if the two documents belong to different authorities.
    """
    if old.authority != new.authority:
        raise SchemaInvalid(
            f"cannot diff {old.source} ({old.authority}) against {new.source} ({new.authority})"
        )
    before = compile_isp(old, directory=directory)
    after = compile_isp(new, directory=directory)
    return tuple(_side_changes(before, after))


def _side_changes(before: CompiledIsp, after: CompiledIsp) -> Iterator[Change]:
    me = before.doc.authority
    sides: tuple[Side, Side] = ("request", "disclose")
    for side in sides:
        for other in ALL_AUTHORITIES:
            if other == me:
                continue
            for purpose in PURPOSES:
                for consent in CONSENT_VALUES:
                    for agency in AGENCY_TYPES:
                        b = before.grant_index(side, other, purpose, consent, agency)
                        a = after.grant_index(side, other, purpose, consent, agency)
                        old_side, new_side = before.grants[b], after.grants[a]
                        if old_side == new_side:
                            continue
                        for level in REQUESTABLE_LEVELS:
                            old_grant, new_grant = _grant(old_side, level), _grant(new_side, level)
                            if old_grant != new_grant:
                                yield Change(
                                    side,
                                    me,
                                    other,
                                    purpose,
                                    consent,
                                    agency,
                                    level,
                                    old_grant,
                                    new_grant,
                                )


def shadow_changes(engine: PolicyEngine) -> tuple[Change, ...]:
    """Every request, involving a staged authority, whose enforced and shadow effects differ."""
    changes = []
    for me in sorted(engine.shadow_documents):
        for other in ALL_AUTHORITIES:
            if other == me:
                continue
            for role, requester, responder in (("requester", me, other), ("responder", other, me)):
                for request in _requests(requester, responder):
                    enforced, shadow, differs = engine.evaluate_with_shadow(request)
                    if differs:
                        changes.append(
                            Change(
                                role,
                                me,
                                other,
                                request.purpose,
                                request.consent,
                                request.agency,
                                request.level,
                                _decision_grant(enforced),
                                _decision_grant(shadow),
                            )
                        )
    return tuple(changes)


def _requests(requester: AuthorityCode, responder: AuthorityCode) -> Iterator[PolicyRequest]:
    for purpose in PURPOSES:
        for consent in CONSENT_VALUES:
            for agency in AGENCY_TYPES:
                for level in REQUESTABLE_LEVELS:
                    yield PolicyRequest(requester, responder, purpose, consent, agency, level)


@dataclass(frozen=True, slots=True)
class ChangeGroup:
    """Changes that are exactly counterparties × agencies × levels for one row."""

    role: str
    authority: AuthorityCode
    purpose: str
    consent: str
    old: Grant
    new: Grant
    counterparties: frozenset[AuthorityCode]
    agencies: frozenset[str]
    levels: frozenset[str]

    @property
    def size(self) -> int:
        """How many requests the group stands for."""
        return len(self.counterparties) * len(self.agencies) * len(self.levels)


_Row = tuple[str, AuthorityCode, str, str, str, str, Grant, Grant]
_ByAgency = tuple[str, AuthorityCode, str, str, str, Grant, Grant, frozenset[AuthorityCode]]
_ByLevel = tuple[
    str, AuthorityCode, str, str, Grant, Grant, frozenset[AuthorityCode], frozenset[str]
]


def group_changes(changes: Iterable[Change]) -> list[ChangeGroup]:
    """Fold ``changes`` into exact product groups, in a stable readable order."""
    by_cp: dict[_Row, set[AuthorityCode]] = defaultdict(set)
    for c in changes:
        by_cp[(c.role, c.authority, c.purpose, c.consent, c.agency, c.level, c.old, c.new)].add(
            c.counterparty
        )
    by_agency: dict[_ByAgency, set[str]] = defaultdict(set)
    for (role, me, purpose, consent, agency, level, old, new), found in by_cp.items():
        by_agency[(role, me, purpose, consent, level, old, new, frozenset(found))].add(agency)
    by_level: dict[_ByLevel, set[str]] = defaultdict(set)
    for (role, me, purpose, consent, level, old, new, group), agencies in by_agency.items():
        by_level[(role, me, purpose, consent, old, new, group, frozenset(agencies))].add(level)
    groups = [
        ChangeGroup(role, me, purpose, consent, old, new, cps, agencies, frozenset(levels))
        for (role, me, purpose, consent, old, new, cps, agencies), levels in by_level.items()
    ]
    groups.sort(
        key=lambda g: (
            g.role,
            PURPOSES.index(g.purpose),
            CONSENT_VALUES.index(g.consent),
            g.old.describe(),
            g.new.describe(),
            sorted(g.counterparties),
            sorted(g.agencies),
        )
    )
    return groups
