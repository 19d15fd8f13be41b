"""The known-to fan-out at the hub (SPEC §6.3, IHE XCPD-style discovery).

For one verified ``KnownToQuery`` the hub:

(1) expands ``To`` (authorities, or a scope from the directory) into target
    authorities, never the requester itself; ``HUB``, or a well-formed code
    the directory does not hold, is ``unknown-recipient``;
(2) decides per target with both ISPs (SPEC §7); when the requester's own
    ISP denies asking at all, the query is refused as ``policy-denied``;
    otherwise a denied target is ``refused`` with its rule ids and is never
    contacted;
(3) fixes one overall deadline: the query's ``Expires`` or the configured
    default, capped, whichever is sooner. A deadline that leaves less than
    ``min_fanout_seconds`` is refused at once as ``stale-message``;
(4) takes an admission slot (``hub.knownto.admission``): at once, after a
    short bounded wait, or refused ``busy`` with ``Retry-After``; never left
    to expire in a queue;
(5) sends every permitted target, concurrently and without retry, a
    hub-signed ``KnownToForward`` carrying the decision and the requester's
    original signed query, unchanged, each holding one of its node's slots
    (``forwards_per_node``), its ``Expires`` the deadline and always later
    than its ``Created``;
(6) verifies each answer as a ``KnownToResponse`` signed by that target and
    answering that forward; an answer that discloses more than its grant is
    withheld and reported as ``error``;
(7) stops waiting at the deadline less a reserve (``ResultReserve``: at
    least ``result_reserve_seconds``, more when recent results took longer
    to sign and log): a target that has not answered by then is
    ``timeout``. Whatever goes wrong while asking one target (building,
    signing, logging or sending its forward) is that target's ``error`` or
    ``timeout``, never the requester's; every task's exception is collected,
    and logged once;
(8) answers ``KnownToResult`` promised by the deadline (``Reply.answer_by``),
    one entry per target, each answer travelling inside as the node's own
    signed bytes; it is signed in ``Lane.ANSWER``, ahead of any fan-out work
    still queued (``hub.lanes``), and logged, and how long that took from
    the stop teaches the reserve.

Entry reasons go to the requester: they name what happened in plain words,
never a URL, host or library message (those go to the hub's log).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final

from lxml import etree

from hub.clock import Clock
from hub.directory.model import Directory
from hub.disclosure import KNOWNTO_NS, Grant, decision_element, overdisclosure
from hub.endpoint import Reply
from hub.errors import DeliveryFailure, IrtError, PolicyDenied, StaleMessage, UnknownRecipient
from hub.identifiers import HUB, AuthorityCode
from hub.knownto.admission import Admission, NodeSlots
from hub.knownto.reserve import ResultReserve
from hub.knownto.settings import FanoutSettings
from hub.messenger import Messenger
from hub.metrics import Metrics
from hub.policy.decision import Decision
from hub.policy.engine import PolicyEngine
from hub.policy.request import PolicyRequest
from hub.policy.shadow import decide_with_shadow
from hub.transport.delivery import Delivery
from hub.verify import VerifiedMessage

__all__ = ["MIN_FORWARD_SECONDS", "KnownToFanout", "TargetOutcome"]

MIN_FORWARD_SECONDS: Final = 0.05
"""Least time before the cut-off worth sending a forward in: less cannot
carry a signed query to a node and its signed answer back."""

_K: Final = f"{{{KNOWNTO_NS}}}"
_LOG = logging.getLogger(__name__)


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
    settings: FanoutSettings = field(default_factory=FanoutSettings)
    admission: Admission = field(init=False)
    """This instance's fan-out slots; shared by every query it handles."""
    node_slots: NodeSlots = field(init=False)
    reserve: ResultReserve = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "admission", Admission(self.settings, self.metrics))
        object.__setattr__(self, "node_slots", NodeSlots(self.settings.forwards_per_node))
        object.__setattr__(self, "reserve", ResultReserve(self.settings.result_reserve_seconds))

    async def handle(self, query: VerifiedMessage) -> Reply:
        """Fan ``query`` out and gather one outcome per target authority.

        Raises ``UnknownRecipient``, ``PolicyDenied``, ``StaleMessage``,
        ``RequesterBusy`` or ``Busy`` before anything is sent.
        """
        targets = self._targets(query)  # (1)
        decisions = [self._decide(query, target) for target in targets]  # (2)
        _refuse_if_requester_may_not_ask(decisions)
        now = self.clock.now()
        deadline = self._deadline(query, now)  # (3)
        left = (deadline - now).total_seconds()
        settings = self.settings
        if left < settings.min_fanout_seconds:
            self.metrics.fanout_rejections.labels("too-late").inc()
            raise StaleMessage(
                f"the query's Expires leaves {max(left, 0.0):.2f} s; the hub needs at least "
                f"{settings.min_fanout_seconds:g} s to ask the authorities and answer"
            )
        ends_at = _loop_time() + left
        async with self.admission.admit(  # (4)
            query.header.sender.authority,
            ends_at=ends_at,
            latest_start=ends_at - settings.min_fanout_seconds,
        ):
            stop = ends_at - min(self.reserve.seconds(), left / 2)
            outcomes = await self._fan_out(query, targets, decisions, deadline, stop=stop)
        stopped = min(stop, _loop_time())
        for outcome in outcomes:
            self.metrics.target_outcomes.labels(outcome.authority, outcome.status).inc()
        body = _result_body(outcomes)  # (8)
        signed = await self._sign_result(query, body)
        self.reserve.observe(_loop_time() - stopped)
        self.metrics.fanout_reserve.set(self.reserve.seconds())
        return Reply(body=body, presigned=signed, answer_by=deadline)

    async def _sign_result(self, query: VerifiedMessage, body: etree._Element) -> bytes:
        """The ``KnownToResult`` signed first in the pool's queue, and logged."""
        header = self.messenger.header(
            message_class="KnownToResult",
            qualifier="response",
            to=query.header.sender.authority,
            correlation_id=query.header.message_id,
        )
        raw = await self.messenger.sign_answer(header, body)
        await self.messenger.record(raw, header, "out")
        return raw

    async def _fan_out(
        self,
        query: VerifiedMessage,
        targets: tuple[AuthorityCode, ...],
        decisions: list[Decision],
        deadline: datetime,
        *,
        stop: float,
    ) -> list[TargetOutcome]:
        """One outcome per target, in target order, by loop time ``stop`` at the latest."""
        settled: dict[AuthorityCode, TargetOutcome] = {}
        asking: dict[asyncio.Task[TargetOutcome], AuthorityCode] = {}
        for target, decision in zip(targets, decisions, strict=True):
            outcome = self._without_asking(target, decision)
            if outcome is not None:
                settled[target] = outcome
                continue
            task = asyncio.create_task(
                self._ask(query, target, decision, deadline, stop),
                name=f"known-to {query.header.message_id} -> {target}",
            )
            task.add_done_callback(_collect)
            asking[task] = target
        if asking:
            try:
                await asyncio.wait(asking, timeout=max(stop - _loop_time(), 0.0))  # (7)
            finally:
                for task in asking:
                    task.cancel()
        for task, target in asking.items():
            settled[target] = _outcome_of(task, target)
        return [
            replace(settled[target], decision_digest=decision.digest())
            for target, decision in zip(targets, decisions, strict=True)
        ]

    def _targets(self, query: VerifiedMessage) -> tuple[AuthorityCode, ...]:
        requester = query.header.sender.authority
        targets: list[AuthorityCode] = []
        for recipient in query.header.recipients:
            if recipient.scope is not None:
                targets.extend(self.directory.expand_scope(requester, recipient.scope))
            elif recipient.authority == HUB:
                raise UnknownRecipient("a known-to query asks authorities; HUB is not one")
            elif recipient.authority is not None:
                self.directory.authority(recipient.authority)  # UnknownRecipient if not held
                targets.append(recipient.authority)
        unique = tuple(dict.fromkeys(t for t in targets if t != requester))
        if not unique:
            raise UnknownRecipient("the query names no authority other than the requester")
        return unique

    def _deadline(self, query: VerifiedMessage, now: datetime) -> datetime:
        deadline = now + min(self.default_deadline, self.max_deadline)
        expires = query.header.expires
        return min(deadline, expires) if expires is not None else deadline

    def _without_asking(self, target: AuthorityCode, decision: Decision) -> TargetOutcome | None:
        """The outcome of a target that is not to be asked, or ``None``."""
        if not decision.permitted:
            rules = tuple(
                rule
                for basis in decision.basis
                if basis.kind != "permit"
                for rule in basis.rule_ids
            )
            return TargetOutcome(target, "refused", decision.reason, rules)
        if target not in self.node_urls:
            return TargetOutcome(target, "unavailable", "the directory lists no node for it")
        return None

    async def _ask(
        self,
        query: VerifiedMessage,
        target: AuthorityCode,
        decision: Decision,
        deadline: datetime,
        stop: float,
    ) -> TargetOutcome:
        """(5)-(6) for one target; every failure is this target's outcome."""
        if not await self.node_slots.acquire(target, until=stop):
            return TargetOutcome(
                target,
                "timeout",
                f"its node was busy with {self.settings.forwards_per_node} other queries "
                "until the deadline",
            )
        try:
            return await self._exchange(query, target, decision, deadline, stop)
        except IrtError as error:
            _LOG.warning(
                "known-to %s: asking %s failed: %s", query.header.message_id, target, error
            )
            return TargetOutcome(target, "error", f"the hub could not ask it ({error.code})")
        except Exception:
            _LOG.exception("known-to %s: asking %s failed", query.header.message_id, target)
            return TargetOutcome(target, "error", "the hub failed while asking it")
        finally:
            self.node_slots.release(target)

    async def _exchange(
        self,
        query: VerifiedMessage,
        target: AuthorityCode,
        decision: Decision,
        deadline: datetime,
        stop: float,
    ) -> TargetOutcome:
        if stop - _loop_time() < MIN_FORWARD_SECONDS:
            return TargetOutcome(target, "timeout", "the deadline came before it could be asked")
        forward = await self._forward_envelope(query, target, decision, deadline)  # (5)
        timeout = max(stop - _loop_time(), 0.001)
        try:
            answer = await self.delivery.post(self.node_urls[target], forward.raw, timeout=timeout)
        except DeliveryFailure as failure:
            self.metrics.authority_up.labels(target).set(0)
            _LOG.info("known-to forward to %s failed: %s", target, failure)
            if failure.code == "timeout":
                return TargetOutcome(target, "timeout", f"no answer within {timeout:.1f} s")
            return TargetOutcome(target, "unavailable", "its node could not be reached")
        self.metrics.authority_up.labels(target).set(1)
        return await self._check_answer(target, forward, answer.status, answer.body)  # (6)

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
        created = self.clock.now()
        # The deadline is after Created unless the wall clock jumped past it
        # meanwhile; even then the header stays valid and the node judges it.
        expires = max(deadline, created + timedelta(seconds=MIN_FORWARD_SECONDS))
        body = etree.Element(_K + "KnownToForward", nsmap={"kt": KNOWNTO_NS})
        body.append(decision_element(_K + "Decision", decision, deadline=deadline))
        etree.SubElement(body, _K + "OriginalMessage").text = base64.b64encode(query.raw).decode()
        header = self.messenger.header(
            message_class="KnownToForward",
            qualifier="request",
            to=target,
            correlation_id=query.header.message_id,
            created=created,
            expires=expires,
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
            _LOG.info("unusable known-to answer from %s: %s", target, error)
            return TargetOutcome(target, "error", f"unusable answer (HTTP {status}, {error.code})")
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


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


def _outcome_of(task: asyncio.Task[TargetOutcome], target: AuthorityCode) -> TargetOutcome:
    """A finished task's outcome; one still running at the cut-off is ``timeout``."""
    if not task.done() or task.cancelled():
        return TargetOutcome(target, "timeout", "no answer before the overall deadline")
    if task.exception() is not None:  # logged by _collect
        return TargetOutcome(target, "error", "the hub failed while asking it")
    return task.result()


def _collect(task: asyncio.Task[TargetOutcome]) -> None:
    """Retrieve a finished task's exception, logging it once; ``_ask`` catches every
    ``Exception`` itself, so only something graver arrives here."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        _LOG.error("%s failed", task.get_name(), exc_info=error)


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
