"""Policy decisions and the SPEC §7 step that joins the two sides into one.

A side is one ISP document answering for one authority: the requester's
document on its ``request`` side ("may my practitioners ask for this?") and
the responder's document on its ``disclose`` side ("may we tell them?").
Each side evaluates to a ``SideGrant`` (see ``hub.policy.scan`` for the
reference evaluation and ``hub.policy.compiled`` for the table). ``combine``
then applies SPEC §7, in this order:

(1) an authority never asks itself through the hub: deny;
(2) each side needs a document in force: otherwise deny;
(3) a matching forbid on either side denies, whatever else permits;
(4) both sides must permit (deny by default);
(5) the level granted is the lowest of the two sides and the level asked for;
(6) the categories are the intersection of both sides' categories;
(7) the obligations are the responder's.

Every decision records, per side, the ISP id, version, digest and the ids of
the rules that decided; ``Decision.digest()`` is the SHA-256 of its canonical
JSON form, written into the message log (SPEC §8).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Final, Literal

from hub.identifiers import DATA_CATEGORIES, DISCLOSURE_LEVELS, AuthorityCode
from hub.policy.model import IspDocument, Obligations

__all__ = [
    "Basis",
    "Decision",
    "GrantKind",
    "Outcome",
    "SideGrant",
    "combine",
]

Outcome = Literal["permit", "deny"]
GrantKind = Literal["permit", "forbid", "no-rule", "not-partner"]
"""What one side said: a permit rule matched, a forbid matched, no rule
matched (deny by default), or the other authority is not a partner."""

_CATEGORY_ORDER: Final = {c: i for i, c in enumerate(DATA_CATEGORIES)}


@dataclass(frozen=True, slots=True)
class SideGrant:
    """The answer of one side of one document to one request."""

    kind: GrantKind
    level: int
    """Rank in ``DISCLOSURE_LEVELS``; 0 (``none``) unless ``kind`` is ``permit``."""
    categories: frozenset[str]
    rule_ids: tuple[str, ...]
    """Forbid rules that matched, or the permits that set the level; document order."""


@dataclass(frozen=True, slots=True)
class Basis:
    """One ISP document's part in a decision (common.xsd ``PolicyBasis``)."""

    side: Literal["requester", "responder"]
    authority: AuthorityCode
    isp_id: str
    version: int
    digest: str
    kind: GrantKind
    rule_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one request, with everything that produced it."""

    outcome: Outcome
    level: str
    """Granted level; ``none`` when denied."""
    categories: frozenset[str]
    obligations: Obligations | None
    """The responder's obligations; ``None`` when denied."""
    basis: tuple[Basis, ...]
    """Requester's side first, then responder's; a side without a document is absent."""
    reason: str
    """One plain-English sentence saying why."""

    @property
    def permitted(self) -> bool:
        """True for ``permit``."""
        return self.outcome == "permit"

    def canonical(self) -> dict[str, object]:
        """The JSON-ready form that ``digest`` hashes; keys and lists in a fixed order."""
        return {
            "outcome": self.outcome,
            "level": self.level,
            "categories": sorted(self.categories, key=_CATEGORY_ORDER.__getitem__),
            "obligations": None
            if self.obligations is None
            else {
                "retention_days": self.obligations.retention_days,
                "no_onward_sharing": self.obligations.no_onward_sharing,
                "notify_owner": self.obligations.notify_owner,
            },
            "basis": [
                {
                    "side": b.side,
                    "authority": b.authority,
                    "isp": b.isp_id,
                    "version": b.version,
                    "digest": b.digest,
                    "kind": b.kind,
                    "rules": list(b.rule_ids),
                }
                for b in self.basis
            ],
        }

    def digest(self) -> str:
        """SHA-256 (hex) of the canonical JSON: sorted keys, no spaces, ASCII only."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("ascii")).hexdigest()


def _basis(side: Literal["requester", "responder"], doc: IspDocument, grant: SideGrant) -> Basis:
    return Basis(
        side=side,
        authority=doc.authority,
        isp_id=doc.id,
        version=doc.version,
        digest=doc.digest,
        kind=grant.kind,
        rule_ids=grant.rule_ids,
    )


_WHY: Final[dict[GrantKind, str]] = {
    "forbid": "forbids it (rule {rules})",
    "no-rule": "has no rule that permits it",
    "not-partner": "does not count {other} among its partners",
    "permit": "permits it",
}


def _deny(reason: str, basis: tuple[Basis, ...] = ()) -> Decision:
    return Decision("deny", "none", frozenset(), None, basis, reason)


def combine(
    *,
    requester: AuthorityCode,
    responder: AuthorityCode,
    requested_level: int,
    request_doc: IspDocument | None,
    request_grant: SideGrant | None,
    disclose_doc: IspDocument | None,
    disclose_grant: SideGrant | None,
) -> Decision:
    """Join the requester's and the responder's side into a decision (SPEC §7).

    ``request_grant`` / ``disclose_grant`` must be given exactly when the
    matching document is. Never raises: every failed check is a deny.
    """
    # (1) self-requests never pass through the hub
    if requester == responder:
        return _deny(f"{requester} cannot ask itself through the hub")
    # (2) a document in force on each side
    if request_doc is None or request_grant is None:
        return _deny(f"the requester {requester} has no ISP in force")
    req_basis = _basis("requester", request_doc, request_grant)
    if disclose_doc is None or disclose_grant is None:
        return _deny(f"the responder {responder} has no ISP in force", (req_basis,))
    basis = (req_basis, _basis("responder", disclose_doc, disclose_grant))
    sides = (
        (f"the requester's ISP ({requester}, request side)", request_grant, responder),
        (f"the responder's ISP ({responder}, disclose side)", disclose_grant, requester),
    )
    # (3) any forbid wins, then (4) both must permit
    for wanted in ("forbid", "not-partner", "no-rule"):
        for label, grant, other in sides:
            if grant.kind == wanted:
                why = _WHY[grant.kind].format(rules=", ".join(grant.rule_ids), other=other)
                return _deny(f"{label} {why}", basis)
    # (5) lowest level, (6) common categories, (7) responder's obligations
    level = min(request_grant.level, disclose_grant.level, requested_level)
    categories = request_grant.categories & disclose_grant.categories
    return Decision(
        outcome="permit",
        level=DISCLOSURE_LEVELS[level],
        categories=categories,
        obligations=disclose_doc.obligations,
        basis=basis,
        reason=f"both ISPs permit it, up to {DISCLOSURE_LEVELS[level]}",
    )
