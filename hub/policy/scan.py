"""The reference evaluation of one side of one ISP, by scanning its rules.

This is SPEC §7 read literally, one request at a time. It is the yardstick
that the compiled table (``hub.policy.compiled``) is tested against over the
whole request space, and the slow path the benchmark compares with. For one
document, one side and one request (counterparty, purpose, consent, agency):

(1) the counterparty must be among the document's partners, else
    ``not-partner``;
(2) a rule matches when its side is the one asked, each of its purpose,
    consent and agency conditions holds (an empty condition holds for any
    value), and the counterparty is within its own partners if it has any;
(3) if any forbid rule matches: ``forbid``, naming every matching forbid;
(4) else if any permit matches: ``permit`` at the highest ``MaxLevel`` among
    them, with the union of the categories of the permits at that level;
(5) else ``no-rule`` (deny by default).
"""

from __future__ import annotations

from hub.directory import Directory
from hub.identifiers import AuthorityCode
from hub.policy.decision import Decision, SideGrant, combine
from hub.policy.model import LEVEL_RANK, IspDocument, Side
from hub.policy.request import PolicyRequest

__all__ = ["scan_decide", "scan_side"]

_NOT_PARTNER = SideGrant("not-partner", 0, frozenset(), ())
_NO_RULE = SideGrant("no-rule", 0, frozenset(), ())


def scan_side(
    doc: IspDocument,
    side: Side,
    *,
    counterparty: AuthorityCode,
    purpose: str,
    consent: str,
    agency: str,
    directory: Directory,
) -> SideGrant:
    """Evaluate ``doc``'s ``side`` rules for one request by scanning every rule."""
    # (1) document partners
    if counterparty not in doc.partners.resolve(doc.authority, directory):
        return _NOT_PARTNER
    # (2) matching rules of this side
    matched = [
        rule
        for rule in doc.rules
        if rule.side == side
        and rule.matches(purpose, consent, agency)
        and (
            rule.partners is None or counterparty in rule.partners.resolve(doc.authority, directory)
        )
    ]
    # (3) forbid wins
    forbids = tuple(rule.id for rule in matched if rule.effect == "forbid")
    if forbids:
        return SideGrant("forbid", 0, frozenset(), forbids)
    # (4) the highest permit level, categories of the permits at that level
    permits = [rule for rule in matched if rule.effect == "permit"]
    if not permits:
        return _NO_RULE  # (5)
    top = max(LEVEL_RANK[rule.max_level] for rule in permits)
    deciding = [rule for rule in permits if LEVEL_RANK[rule.max_level] == top]
    categories = frozenset().union(*(rule.categories for rule in deciding))
    return SideGrant("permit", top, categories, tuple(rule.id for rule in deciding))


def scan_decide(
    request: PolicyRequest,
    documents: dict[AuthorityCode, IspDocument],
    *,
    directory: Directory,
) -> Decision:
    """Decide ``request`` against ``documents`` (one per authority) by rule scan."""
    request_doc = documents.get(request.requester)
    disclose_doc = documents.get(request.responder)
    request_grant = (
        None
        if request_doc is None
        else scan_side(
            request_doc,
            "request",
            counterparty=request.responder,
            purpose=request.purpose,
            consent=request.consent,
            agency=request.agency,
            directory=directory,
        )
    )
    disclose_grant = (
        None
        if disclose_doc is None
        else scan_side(
            disclose_doc,
            "disclose",
            counterparty=request.requester,
            purpose=request.purpose,
            consent=request.consent,
            agency=request.agency,
            directory=directory,
        )
    )
    return combine(
        requester=request.requester,
        responder=request.responder,
        requested_level=LEVEL_RANK[request.level],
        request_doc=request_doc,
        request_grant=request_grant,
        disclose_doc=disclose_doc,
        disclose_grant=disclose_grant,
    )
