"""The known-to fan-out at the hub (SPEC §6, IHE XCPD-style discovery).

For one verified ``KnownToQuery`` the hub:

(1) expands ``To`` (authorities, or a scope from the directory) into target
    authorities, never the requester itself;
(2) decides per target with both ISPs (SPEC §7); when the requester's own
    ISP denies asking at all, the query is refused as ``policy-denied``;
    otherwise a denied target is ``refused`` with its rule ids and is never
    contacted;
(3) fixes one overall deadline: the query's ``Expires`` or the configured
    default, capped, whichever is sooner;
(4) sends every permitted target, concurrently and without retry, a
    hub-signed ``KnownToForward`` carrying the decision and the requester's
    original signed query, unchanged;
(5) verifies each answer as a ``KnownToResponse`` signed by that target and
    answering that forward; an answer that discloses more than its grant is
    withheld and reported as ``error``;
(6) answers ``KnownToResult`` at the deadline at the latest, one entry per
    target, each answer travelling inside as the node's own signed bytes.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from lxml import etree

from hub.clock import Clock
from hub.directory.model import Directory
from hub.disclosure import KNOWNTO_NS, Grant, decision_element, overdisclosure
from hub.endpoint import Reply
from hub.errors import DeliveryFailure, IrtError, PolicyDenied, UnknownRecipient
from hub.identifiers import AuthorityCode
from hub.messenger import Messenger
from hub.metrics import Metrics
from hub.policy.decision import Decision
from hub.policy.engine import PolicyEngine
from hub.policy.request import PolicyRequest
from hub.policy.shadow import decide_with_shadow
from hub.transport.delivery import Delivery
from hub.verify import VerifiedMessage

__all__ = ["KnownToFanout", "TargetOutcome"]

_K: Final = f"{{{KNOWNTO_NS}}}"


@dataclass(frozen=True, slots=True)
class TargetOutcome:
    """One ``KnownToResult`` entry before it is written as XML."""

    authority: AuthorityCode
    status: str
    reason: str | None = None
    rules: tuple[str, ...] = ()
    signed_response: bytes | None = None
    decision_digest: str | None = None
    """``Decision.digest()`` of the policy decision for this target (for the message log)."""


@dataclass(frozen=True)
class KnownToFanout:
    """Handles ``KnownToQuery`` at the hub; see the module docstring."""

    messenger: Messenger
    directory: Directory
    policy: PolicyEngine
    delivery: Delivery
    node_urls: Mapping[AuthorityCode, str]
    clock: Clock
    metrics: Metrics
    default_deadline: timedelta
    max_deadline: timedelta

    async def handle(self, query: VerifiedMessage) -> Reply:
        """Fan ``query`` out and gather one outcome per target authority."""
        targets = self._targets(query)  # (1)
        decisions = [self._decide(query, target) for target in targets]  # (2)
        _refuse_if_requester_may_not_ask(decisions)
        now = self.clock.now()
        deadline = self._deadline(query, now)  # (3)
        tasks = [
            asyncio.ensure_future(self._ask(query, target, decision, deadline))
            for target, decision in zip(targets, decisions, strict=True)
        ]
        remaining = max((deadline - self.clock.now()).total_seconds(), 0.0)
        done, pending = await asyncio.wait(tasks, timeout=remaining)
        for task in pending:
            task.cancel()
        outcomes = [
            replace(
                task.result()
                if task in done
                else TargetOutcome(target, "timeout", "no answer before the overall deadline"),
                decision_digest=decision.digest(),
            )
            for task, target, decision in zip(tasks, targets, decisions, strict=True)
        ]
        for outcome in outcomes:
            self.metrics.target_outcomes.labels(outcome.authority, outcome.status).inc()
        return Reply(body=_result_body(outcomes))  # (6)

    def _targets(self, query: VerifiedMessage) -> tuple[AuthorityCode, ...]:
        requester = query.header.sender.authority
        targets: list[AuthorityCode] = []
        for recipient in query.header.recipients:
            if recipient.scope is not None:
                targets.extend(self.directory.expand_scope(requester, recipient.scope))
            elif recipient.authority is not None:
                self.directory.authority(recipient.authority)  # UnknownRecipient if not London
                targets.append(recipient.authority)
        unique = tuple(dict.fromkeys(t for t in targets if t != requester))
        if not unique:
            raise UnknownRecipient("the query names no authority other than the requester")
        return unique

    def _deadline(self, query: VerifiedMessage, now: datetime) -> datetime:
        deadline = now + min(self.default_deadline, self.max_deadline)
        expires = query.header.expires
        return min(deadline, expires) if expires is not None else deadline

    async def _ask(
        self, query: VerifiedMessage, target: AuthorityCode, decision: Decision, deadline: datetime
    ) -> TargetOutcome:
        if not decision.permitted:
            rules = tuple(
                rule
                for basis in decision.basis
                if basis.kind != "permit"
                for rule in basis.rule_ids
            )
            return TargetOutcome(target, "refused", decision.reason, rules)
        url = self.node_urls.get(target)
        if url is None:
            return TargetOutcome(target, "unavailable", "the directory lists no node for it")
        forward = await self._forward_envelope(query, target, decision, deadline)  # (4)
        remaining = (deadline - self.clock.now()).total_seconds()
        try:
            answer = await self.delivery.post(url, forward.raw, timeout=max(remaining, 0.001))
        except DeliveryFailure as failure:
            self.metrics.authority_up.labels(target).set(0)
            status = "timeout" if failure.code == "timeout" else "unavailable"
            return TargetOutcome(target, status, failure.reason)
        self.metrics.authority_up.labels(target).set(1)
        return await self._check_answer(target, forward, answer.status, answer.body)  # (5)

    def _decide(self, query: VerifiedMessage, target: AuthorityCode) -> Decision:
        header = query.header
        # Header guarantees OnBehalfOf, Purpose and Consent on a KnownToQuery;
        # PolicyRequest refuses the empty values should that ever change.
        agency = header.on_behalf_of.agency if header.on_behalf_of else ""
        return decide_with_shadow(
            self.policy,
            PolicyRequest(
                requester=header.sender.authority,
                responder=target,
                purpose=header.purpose or "",
                consent=header.consent or "",
                agency=agency,
                level=query.body.findtext(_K + "RequestedLevel") or "existence",
                message_class="known-to",
            ),
            metrics=self.metrics,
        )

    async def _forward_envelope(
        self,
        query: VerifiedMessage,
        target: AuthorityCode,
        decision: Decision,
        deadline: datetime,
    ) -> _Forward:
        body = etree.Element(_K + "KnownToForward", nsmap={"kt": KNOWNTO_NS})
        body.append(decision_element(_K + "Decision", decision, deadline=deadline))
        etree.SubElement(body, _K + "OriginalMessage").text = base64.b64encode(query.raw).decode()
        header = self.messenger.header(
            message_class="KnownToForward",
            qualifier="request",
            to=target,
            correlation_id=query.header.message_id,
            expires=deadline,
        )
        raw = await self.messenger.sign_and_record(header, body, decision_digest=decision.digest())
        grant = Grant(level=decision.level, categories=decision.categories, deadline=deadline)
        return _Forward(
            raw=raw, message_id=header.message_id, grant=grant, decision_digest=decision.digest()
        )

    async def _check_answer(
        self, target: AuthorityCode, forward: _Forward, status: int, body: bytes
    ) -> TargetOutcome:
        try:
            answer = await self.messenger.run(self.messenger.verifier.verify_envelope, body)
        except IrtError as error:
            return TargetOutcome(
                target, "error", f"unusable answer (HTTP {status}, {error.code}): {error.reason}"
            )
        # Logged even when it is then withheld: an over-disclosing answer is
        # exactly the evidence an auditor needs.
        await self.messenger.record(
            answer.raw, answer.header, "in", decision_digest=forward.decision_digest
        )
        problem = _answer_problem(answer, target, forward, status)
        if problem is not None:
            return TargetOutcome(target, "error", problem)
        node_status = answer.body.findtext(_K + "Status") or "error"
        reason = answer.body.findtext(_K + "Reason")
        return TargetOutcome(target, node_status, reason, signed_response=answer.raw)


def _refuse_if_requester_may_not_ask(decisions: list[Decision]) -> None:
    """SPEC §6: the requester's own ISP must allow asking for this purpose at all.

    When the requester's side denies every target, the query is refused as a
    whole (``policy-denied``) instead of fanning out refusals.
    """
    requester_denials = [
        next((b for b in d.basis if b.side == "requester" and b.kind != "permit"), None)
        for d in decisions
    ]
    if not decisions or any(denial is None for denial in requester_denials):
        return
    rules = sorted({rule for basis in requester_denials if basis for rule in basis.rule_ids})
    named = f" (rules {', '.join(rules)})" if rules else " (no rule permits it)"
    raise PolicyDenied(f"{decisions[0].reason}{named}")


def _answer_problem(
    answer: VerifiedMessage, target: AuthorityCode, forward: _Forward, status: int
) -> str | None:
    """Why a verified answer cannot stand as ``target``'s response, or ``None``."""
    header = answer.header
    if header.sender.authority != target:
        return f"answer signed by {header.sender.authority}, not by {target}"
    if header.correlation_id != forward.message_id:
        return "answer does not correlate with the query sent"
    if header.message_class == "Error":
        code = answer.body.get("code", "internal-error")
        return f"node refused ({code}): {answer.body.text}"
    if header.message_class != "KnownToResponse" or status != 200:
        return f"unexpected {header.message_class} answer (HTTP {status})"
    violation = overdisclosure(answer.body, forward.grant)
    if violation is not None:
        return f"answer withheld: policy violation by the responder: {violation}"
    return None


@dataclass(frozen=True, slots=True)
class _Forward:
    raw: bytes
    message_id: str
    grant: Grant
    decision_digest: str


def _result_body(outcomes: list[TargetOutcome]) -> etree._Element:
    body = etree.Element(_K + "KnownToResult", nsmap={"kt": KNOWNTO_NS})
    for outcome in outcomes:
        entry = etree.SubElement(body, _K + "Entry", authority=outcome.authority)
        entry.set("status", outcome.status)
        if outcome.rules:
            entry.set("rules", " ".join(outcome.rules))
        if outcome.reason:
            etree.SubElement(entry, _K + "Reason").text = outcome.reason[:1000]
        if outcome.signed_response is not None:
            etree.SubElement(entry, _K + "SignedResponse").text = base64.b64encode(
                outcome.signed_response
            ).decode()
    return body
