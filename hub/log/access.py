"""Who asked about which child: the access report an authority's auditor reads.

For one authority and a time window, ``access_report`` lists every
known-to query logged in the window that the authority was asked
(``asked-of``) or that its practitioners asked (``asked-by``): when, by which
authority and practitioner (id, role, agency), for which purpose and consent,
the policy decision (outcome, level, deciding rules), the answer, and the
answering node's local reference for the child — never a name. A ``known``
answer followed by no ``Referral`` from the same authority and practitioner to
that authority within ``referral_window`` is flagged: a search that led to no
referral.

The report is built from the message bytes in the log, linked by
``CorrelationID`` (query → forward → response; query → result). A message
pruned by a retention rule is reported as pruned, with what its leaf still
says. Bytes that do not match their leaf are refused: run ``audit verify``
for the full checks; this report does not verify signatures again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from lxml import etree

from hub.disclosure import COMMON_NS, KNOWNTO_NS
from hub.envelope import Header, read_header
from hub.errors import IrtError
from hub.identifiers import AuthorityCode
from hub.log.entry import LogEntry
from hub.log.errors import LogEvidenceInvalid
from hub.log.evidence import AUDIT_MAX_MESSAGE_BYTES
from hub.log.store import LeafStore, Pruned
from hub.xmlparse import XmlLimits, parse_untrusted

__all__ = ["DEFAULT_REFERRAL_WINDOW", "AccessRow", "access_report"]

DEFAULT_REFERRAL_WINDOW: Final = timedelta(days=30)
"""How long after a search a referral still counts as following from it."""

_K: Final = f"{{{KNOWNTO_NS}}}"
_C: Final = f"{{{COMMON_NS}}}"
_CLASSES: Final = frozenset(
    {"KnownToQuery", "KnownToForward", "KnownToResponse", "KnownToResult", "Referral"}
)
_LIMITS: Final = XmlLimits(max_bytes=AUDIT_MAX_MESSAGE_BYTES)
_ALL: Final = 2**63 - 1


@dataclass(frozen=True, slots=True)
class AccessRow:
    """One (query, target authority) pair, as the log shows it."""

    role: str
    """``asked-of`` (the authority was asked) or ``asked-by`` (it asked)."""
    asked_at: datetime
    query_id: str
    requester: str
    practitioner: str
    """``id (role, agency)``, or why it is unknown (pruned)."""
    purpose: str
    target: str
    decision: str
    answer: str
    local_reference: str
    referral: str
    """``yes <MessageID>``, ``none within N days`` (flagged), or ``n/a``."""

    @property
    def no_referral(self) -> bool:
        """A search with a ``known`` answer that no referral followed."""
        return self.referral.startswith("none")


@dataclass
class _Query:
    leaf: LogEntry
    header: Header | None = None
    pruned: str | None = None
    result: dict[str, str] = field(default_factory=dict)
    """Target authority → status (with rules when refused), from the result."""
    result_note: str | None = None


@dataclass
class _Forward:
    query_id: str | None
    target: str
    decision: str


def access_report(
    leaves: LeafStore,
    authority: AuthorityCode,
    *,
    since: datetime,
    until: datetime,
    referral_window: timedelta = DEFAULT_REFERRAL_WINDOW,
) -> list[AccessRow]:
    """The rows for ``authority``'s queries logged in ``[since, until)``, oldest first.

    Raises ``LogEvidenceInvalid`` for stored bytes that do not match their
    leaf, and ``LogStoreError`` if the log cannot be read.
    """
    queries: dict[str, _Query] = {}
    forwards: dict[str, list[tuple[str, _Forward]]] = {}
    answers: dict[str, tuple[str, str]] = {}
    referrals: dict[str, list[tuple[LogEntry, str | None]]] = {}
    for entry, root, header, pruned in _messages(leaves):
        name = entry.message_class
        if name == "KnownToQuery":
            queries[entry.message_id] = _Query(entry, header, pruned)
        elif name == "KnownToForward":
            decision = _decision(root) if root is not None else f"unknown: forward {pruned}"
            query_id = header.correlation_id if header else None
            forward = _Forward(query_id, entry.recipients[0], decision)
            forwards.setdefault(query_id or "", []).append((entry.message_id, forward))
        elif name == "KnownToResponse" and root is not None and header and header.correlation_id:
            body = root.find(f".//{_K}KnownToResponse")
            status = body.findtext(f"{_K}Status") if body is not None else None
            reference = body.findtext(f"{_K}LocalReference") if body is not None else None
            answers[header.correlation_id] = (status or "?", reference or "")
        elif name == "KnownToResult" and root is not None and header is not None:
            query = queries.get(header.correlation_id or "")
            if query is not None:
                query.result = _result_entries(root)
        elif name == "Referral":
            who = header.on_behalf_of.practitioner if header and header.on_behalf_of else None
            referrals.setdefault(entry.sender, []).append((entry, who))
    rows: list[AccessRow] = []
    for query in queries.values():
        if not since <= query.leaf.logged_at < until:
            continue
        sent = dict(forwards.get(query.leaf.message_id, []))
        targets = dict.fromkeys([*query.result, *(f.target for f in sent.values())])
        for target in targets:
            if authority not in (target, query.leaf.sender):
                continue
            forward_id = next((fid for fid, f in sent.items() if f.target == target), "")
            rows.append(
                _row(
                    query,
                    target,
                    authority,
                    sent.get(forward_id),
                    answers.get(forward_id),
                    referrals.get(query.leaf.sender, []),
                    referral_window,
                )
            )
    return sorted(rows, key=lambda r: (r.asked_at, r.query_id, r.target))


def _row(
    query: _Query,
    target: str,
    authority: str,
    forward: _Forward | None,
    answer: tuple[str, str] | None,
    referrals: list[tuple[LogEntry, str | None]],
    window: timedelta,
) -> AccessRow:
    header, leaf = query.header, query.leaf
    if header is not None and header.on_behalf_of is not None:
        who = header.on_behalf_of
        practitioner = f"{who.practitioner} ({who.role}, {who.agency})"
        purpose = f"{header.purpose} (consent {header.consent})"
    else:
        practitioner = purpose = f"unknown: query {query.pruned}"
    status = answer[0] if answer else query.result.get(target, "no answer logged")
    decision = forward.decision if forward else "not forwarded"
    if status.startswith("refused") and not forward:
        decision = status
    referral = "n/a"
    if status == "known":
        referral = _referral(leaf, header, target, referrals, window)
    return AccessRow(
        role="asked-of" if target == authority else "asked-by",
        asked_at=header.created if header else leaf.logged_at,
        query_id=leaf.message_id,
        requester=leaf.sender,
        practitioner=practitioner,
        purpose=purpose,
        target=target,
        decision=decision,
        answer=status,
        local_reference=answer[1] if answer else "",
        referral=referral,
    )


def _referral(
    query: LogEntry,
    header: Header | None,
    target: str,
    referrals: list[tuple[LogEntry, str | None]],
    window: timedelta,
) -> str:
    asker = header.on_behalf_of.practitioner if header and header.on_behalf_of else None
    for entry, practitioner in referrals:
        if (
            entry.sender == query.sender
            and target in entry.recipients
            and query.logged_at <= entry.logged_at <= query.logged_at + window
            and (asker is None or practitioner is None or practitioner == asker)
        ):
            return f"yes {entry.message_id}"
    return f"none within {window.days} days"


def _messages(
    leaves: LeafStore,
) -> Iterator[tuple[LogEntry, etree._Element | None, Header | None, str | None]]:
    """The known-to and referral messages: entry, parsed envelope and header, or why not."""
    for record in leaves.records(0, _ALL):
        entry = LogEntry.from_leaf_bytes(record.leaf)
        if entry.message_class not in _CLASSES:
            continue
        if isinstance(record.message, Pruned):
            yield entry, None, None, str(record.message)
            continue
        if record.message is None:
            yield entry, None, None, "deleted without a pruning record"
            continue
        if hashlib.sha256(record.message).hexdigest() != entry.message_sha256:
            raise LogEvidenceInvalid(
                f"leaf {record.index}: stored message bytes do not match the leaf's SHA-256 "
                "(tampered or replaced); run 'irthub audit verify'"
            )
        try:
            root = parse_untrusted(record.message, limits=_LIMITS)
            header = read_header(root)
        except IrtError as exc:
            raise LogEvidenceInvalid(f"leaf {record.index}: {exc.reason}") from exc
        yield entry, root, header, None


def _decision(root: etree._Element) -> str:
    decision = root.find(f".//{_K}Decision")
    if decision is None:
        return "no decision in the forward"
    rules = " ".join(
        rule
        for basis in decision.iterfind(f"{_C}Basis")
        for rule in (basis.get("rules") or "").split()
    )
    outcome = decision.findtext(f"{_C}Outcome") or "?"
    level = decision.findtext(f"{_C}GrantedLevel") or "?"
    return f"{outcome} {level} [{rules}]"


def _result_entries(root: etree._Element) -> dict[str, str]:
    entries: dict[str, str] = {}
    for entry in root.iterfind(f".//{_K}Entry"):
        status = entry.get("status", "?")
        rules = entry.get("rules")
        entries[entry.get("authority", "?")] = f"{status} [{rules}]" if rules else status
    return entries
