"""Plain-English explanations of a decision, naming the rules of both sides.

Used by ``irthub policy explain``; the text is for practitioners, information
governance leads and auditors, so it says which document, which version
(digest) and which rule in which line said what.
"""

from __future__ import annotations

from collections.abc import Mapping

from hub.directory import Directory
from hub.identifiers import DATA_CATEGORIES, AuthorityCode
from hub.policy.decision import Decision
from hub.policy.model import IspDocument, Rule, Side
from hub.policy.request import PolicyRequest

__all__ = ["explain"]


def _categories(categories: frozenset[str]) -> str:
    ordered = [c for c in DATA_CATEGORIES if c in categories]
    return ", ".join(ordered) if ordered else "none"


def _name(code: AuthorityCode, directory: Directory) -> str:
    return f"{directory.authority(code).name} ({code})"


def _rule_line(rule: Rule) -> str:
    grant = (
        f"up to {rule.max_level}; categories: {_categories(rule.categories)}"
        if rule.effect == "permit"
        else "refuses"
    )
    about = f" — {rule.description}" if rule.description else ""
    return f"{rule.effect} rule {rule.id} (line {rule.line}): {grant}{about}"


def _side_lines(
    title: str,
    doc: IspDocument | None,
    side: Side,
    other: AuthorityCode,
    request: PolicyRequest,
    decided: tuple[str, ...],
    directory: Directory,
) -> list[str]:
    if doc is None:
        return [f"{title}: no ISP in force."]
    lines = [
        f"{title}: {doc.id} version {doc.version} (sha256 {doc.digest}), {side} side.",
    ]
    partners = doc.partners.resolve(doc.authority, directory)
    within = "is" if other in partners else "is NOT"
    lines.append(
        f"  {_name(other, directory)} {within} among its partners ({doc.partners.describe()})."
    )
    matched = False
    for rule in doc.rules_for(side):
        if not rule.matches(request.purpose, request.consent, request.agency):
            continue
        matched = True
        mark = "  <- decided" if rule.id in decided else ""
        if rule.partners is not None and other not in rule.partners.resolve(
            doc.authority, directory
        ):
            lines.append(
                f"  does not apply: {_rule_line(rule)} (only for {rule.partners.describe()})"
            )
            continue
        lines.append(f"  matches: {_rule_line(rule)}{mark}")
    if not matched:
        lines.append("  no rule of this side matches: deny by default.")
    return lines


def explain(
    request: PolicyRequest,
    decision: Decision,
    *,
    documents: Mapping[AuthorityCode, IspDocument],
    directory: Directory,
) -> list[str]:
    """Lines of plain English: the request, the decision, each side's rules."""
    decided = {b.side: b.rule_ids for b in decision.basis}
    lines = [
        f"{_name(request.requester, directory)} asks {_name(request.responder, directory)}",
        f"  for {request.purpose}, consent {request.consent}, practitioner agency "
        f"{request.agency}, asking for {request.level} ({request.message_class}).",
    ]
    if decision.permitted:
        lines.append(f"Decision: PERMIT at level {decision.level}.")
        lines.append(f"  Categories: {_categories(decision.categories)}.")
        if decision.obligations is not None:
            o = decision.obligations
            lines.append(
                f"  Obligations (the responder's): keep for at most {o.retention_days} days; "
                f"onward sharing {'forbidden' if o.no_onward_sharing else 'allowed'}; "
                f"owner {'is' if o.notify_owner else 'is not'} notified of the access."
            )
    else:
        lines.append("Decision: DENY.")
    lines.append(f"  Why: {decision.reason}.")
    lines += _side_lines(
        "Requester's ISP",
        documents.get(request.requester),
        "request",
        request.responder,
        request,
        decided.get("requester", ()),
        directory,
    )
    lines += _side_lines(
        "Responder's ISP",
        documents.get(request.responder),
        "disclose",
        request.requester,
        request,
        decided.get("responder", ()),
        directory,
    )
    lines.append(f"Decision digest (logged): {decision.digest()}")
    return lines
