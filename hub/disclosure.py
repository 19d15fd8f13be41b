"""What a node may disclose: the grant it receives, and checking answers against it.

The hub forwards each permitted query with a ``c:PolicyDecision`` (SPEC §6).
``Grant`` is the node-facing view of that decision: level, categories,
deadline. ``decision_element`` writes a policy ``Decision`` as that XML;
``Grant.from_element`` reads it back. ``overdisclosure`` is the hub's check
that a node's signed ``KnownToResponse`` stays within its grant; a node uses
``allowed_fields`` to redact before it answers.

Levels per involvement field follow knownto.xsd ``Involvement``:
``agencies`` names the agency, service, category and status; ``contacts``
adds the practitioner; ``details`` adds dates, concern level, lead
professional and CAF indicator. At ``existence`` no involvement appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from lxml import etree

from hub.envelope import format_time, parse_time
from hub.errors import SchemaInvalid
from hub.identifiers import DISCLOSURE_LEVELS
from hub.policy.decision import Decision

__all__ = [
    "COMMON_NS",
    "FIELD_LEVELS",
    "KNOWNTO_NS",
    "Grant",
    "allowed_fields",
    "decision_element",
    "level_rank",
    "overdisclosure",
]

COMMON_NS: Final = "urn:lcpc:irt:common:1"
KNOWNTO_NS: Final = "urn:lcpc:irt:knownto:1"
_C: Final = f"{{{COMMON_NS}}}"
_K: Final = f"{{{KNOWNTO_NS}}}"

FIELD_LEVELS: Final = {
    "AgencyType": "agencies",
    "ServiceName": "agencies",
    "Category": "agencies",
    "Status": "agencies",
    "PractitionerName": "contacts",
    "PractitionerRole": "contacts",
    "PractitionerPhone": "contacts",
    "PractitionerEmail": "contacts",
    "StartDate": "details",
    "EndDate": "details",
    "ConcernLevel": "details",
    "LeadProfessional": "details",
    "CAFIndicator": "details",
}
"""The lowest level at which each ``Involvement`` child may be disclosed."""


def level_rank(level: str) -> int:
    """Position of ``level`` in the SPEC §1 order (``none`` is 0)."""
    return DISCLOSURE_LEVELS.index(level)


@dataclass(frozen=True, slots=True)
class Grant:
    """What one node may disclose in answer to one forwarded query."""

    level: str
    categories: frozenset[str]
    deadline: datetime | None = None

    @classmethod
    def from_element(cls, decision: etree._Element) -> Grant:
        """Read a schema-valid ``c:PolicyDecision`` element.

        Raises ``SchemaInvalid`` if the decision is not a permit: a node is
        never asked to answer under a deny.
        """
        if decision.findtext(_C + "Outcome") != "permit":
            raise SchemaInvalid("a forwarded decision must be a permit")
        deadline = decision.findtext(_C + "Deadline")
        return cls(
            level=decision.findtext(_C + "GrantedLevel") or "none",
            categories=frozenset((decision.findtext(_C + "AllowedCategories") or "").split()),
            deadline=parse_time(deadline) if deadline else None,
        )


def decision_element(tag: str, decision: Decision, *, deadline: datetime | None) -> etree._Element:
    """``decision`` as a ``c:PolicyDecision``-typed element named ``tag``."""
    element = etree.Element(tag, nsmap={"c": COMMON_NS})
    _sub(element, "Outcome", decision.outcome)
    _sub(element, "GrantedLevel", decision.level)
    _sub(element, "AllowedCategories", " ".join(sorted(decision.categories)))
    if deadline is not None:
        _sub(element, "Deadline", format_time(deadline))
    if decision.obligations is not None:
        obligations = etree.SubElement(element, _C + "Obligations")
        duty = decision.obligations
        _sub(obligations, "RetentionDays", str(duty.retention_days))
        _sub(obligations, "NoOnwardSharing", _boolean(duty.no_onward_sharing))
        _sub(obligations, "NotifyOwner", _boolean(duty.notify_owner))
    for basis in decision.basis:
        attributes = {
            "isp": basis.isp_id,
            "version": str(basis.version),
            "digest": basis.digest,
            "side": basis.side,
        }
        if basis.rule_ids:
            attributes["rules"] = " ".join(basis.rule_ids)
        etree.SubElement(element, _C + "Basis", attributes)
    return element


def allowed_fields(grant: Grant) -> frozenset[str]:
    """The ``Involvement`` children a node may fill under ``grant``."""
    rank = level_rank(grant.level)
    return frozenset(name for name, level in FIELD_LEVELS.items() if level_rank(level) <= rank)


def overdisclosure(response: etree._Element, grant: Grant) -> str | None:
    """Why ``response`` (a ``KnownToResponse``) discloses more than ``grant``, or ``None``."""
    status = response.findtext(_K + "Status")
    involvements = response.findall(_K + "Involvement")
    if involvements and status != "known":
        return f"a {status} answer carries {len(involvements)} involvement(s)"
    if involvements and level_rank(grant.level) < level_rank("agencies"):
        return f"involvements disclosed at granted level {grant.level!r}"
    allowed = allowed_fields(grant)
    for number, involvement in enumerate(involvements, start=1):
        category = involvement.findtext(_K + "Category")
        if category is None:
            return f"involvement {number} does not state its data category"
        if category not in grant.categories:
            return f"involvement {number} is of category {category!r}, which was not granted"
        extra = sorted(_names(involvement) - allowed)
        if extra:
            return (
                f"involvement {number} discloses {', '.join(extra)} above granted level "
                f"{grant.level!r}"
            )
    return None


def _names(element: etree._Element) -> set[str]:
    return {etree.QName(child).localname for child in element if isinstance(child.tag, str)}


def _sub(parent: etree._Element, name: str, text: str) -> None:
    etree.SubElement(parent, _C + name).text = text


def _boolean(value: bool) -> str:
    return "true" if value else "false"
