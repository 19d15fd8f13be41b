"""Store-and-forward delivery of the hub's outbox (SPEC §6 Referral).

The courier loops over the ``Outbox``:

(1) on start it frees the leases its previous run held (a crash mid-attempt
    leaves rows claimed by a process that no longer exists);
(2) it claims due rows as delivery slots free up (``batch_size`` in flight
    at most, so a slow node holds only its own rows), counting one attempt
    each before it posts, so a crash during an attempt still counts it;
(3) a row whose deadline has passed is not posted again: its bytes carry
    ``Expires`` at the deadline and would be refused;
(4) it makes sure the message log holds the row's bytes (a crash may have
    come between the commit that queued them and their logging; see
    ``hub.referral.handlers``), then posts them, the same bytes on every
    attempt, so the receiver's duplicate elimination answers a repeat with
    its first receipt;
(5) it verifies the answer: a ``ReferralReceipt`` signed by the recipient,
    correlating with the posted message and naming the referral, ends the
    row; a signed refusal the recipient will repeat (a 4xx other than
    ``stale-message``) gives up at once; anything else is retried after an
    exponentially growing, jittered wait, the last try just before the deadline;
(6) when a forward is given up, the referral is marked failed and a
    hub-signed ``ReferralDeliveryFailure`` is queued for the referrer's node,
    in the same transaction; it is logged by (4) before its first attempt.

A notice names what failed in plain words; the transport's own account
(addresses, library messages) stays in the hub's log and the outbox row.

Delivery is at least once; the receivers' duplicate elimination on the
unchanged bytes makes the effect exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from hub.clock import Clock
from hub.errors import DeliveryFailure, InternalError, IrtError
from hub.identifiers import AuthorityCode
from hub.messenger import Messenger
from hub.referral.messages import REFERRAL_NS, failure_body
from hub.referral.settings import ReferralSettings
from hub.referral.store import (
    Delivered,
    GiveUp,
    Outbox,
    OutboxItem,
    Outcome,
    Outgoing,
    ReferralStore,
    RetryLater,
)
from hub.transport.delivery import Answer, Delivery
from hub.verify import EnvelopeVerifier, VerifiedMessage

__all__ = ["TRANSIENT_CODES", "Courier"]

TRANSIENT_CODES: Final = frozenset(
    {"stale-message", "internal-error", "recipient-unavailable", "timeout", "busy"}
)
"""Signed refusals worth retrying: a clock put right, a database back up, a
receiver no longer busy."""

_LAST_TRY_BEFORE_DEADLINE: Final = timedelta(seconds=1)
_R: Final = f"{{{REFERRAL_NS}}}"
_LOG = logging.getLogger(__name__)


@dataclass
class Courier:
    """Delivers the outbox; see the module docstring."""

    outbox: Outbox
    referrals: ReferralStore
    delivery: Delivery
    answers: EnvelopeVerifier
    """Verifies recipients' answers; without a replay guard, since a repeated
    attempt legitimately gets the same receipt bytes back."""
    messenger: Messenger
    """The hub's identity: signs delivery-failure notices."""
    node_urls: Mapping[AuthorityCode, str]
    clock: Clock
    settings: ReferralSettings
    rng: random.Random = field(default_factory=random.Random)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled, ``batch_size`` rows in flight at most.

        Rows are claimed as slots free up, so a slow node holds only its own
        rows, never a whole batch. Storage failures are logged and retried
        after a poll.
        """
        await self.messenger.run(self.outbox.release, self.settings.worker_name)  # (1)
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while True:
                self._wake.clear()
                free = self.settings.batch_size - len(in_flight)
                items = await self._claim(free) if free > 0 else []
                for item in items:
                    task = asyncio.create_task(self._deliver(item))
                    in_flight.add(task)
                    task.add_done_callback(functools.partial(self._finished, in_flight))
                if items and len(items) == free:
                    continue  # perhaps more are due
                await self._sleep()
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    def _finished(self, in_flight: set[asyncio.Task[None]], task: asyncio.Task[None]) -> None:
        in_flight.discard(task)
        self.wake()  # a slot is free

    async def run_once(self) -> int:
        """Claim one batch of due rows and deliver them concurrently; return how many."""
        items = await self._claim(self.settings.batch_size)
        await asyncio.gather(*(self._deliver(item) for item in items))
        return len(items)

    async def _claim(self, limit: int) -> list[OutboxItem]:
        try:
            return await self.messenger.run(  # (2)
                self.outbox.claim,
                owner=self.settings.worker_name,
                now=self.clock.now(),
                lease_seconds=self.settings.lease_seconds,
                limit=limit,
            )
        except IrtError:
            _LOG.exception("cannot claim outbox rows; retrying after a poll")
            return []

    async def _sleep(self) -> None:
        due = await self._next_due()
        wait = self.settings.poll_seconds
        if due is not None:
            wait = min(wait, max((due - self.clock.now()).total_seconds(), 0.0))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _next_due(self) -> datetime | None:
        try:
            return await self.messenger.run(self.outbox.next_due)
        except IrtError:
            return None

    async def _deliver(self, item: OutboxItem) -> None:
        try:
            outcome = await self._attempt(item)
            await self.messenger.run(self.outbox.settle, item, outcome, now=self.clock.now())
        except IrtError:
            # The lease runs out and the row is tried again: at least once.
            _LOG.exception("cannot record the outcome of outbox row %s", item.id)

    async def _attempt(self, item: OutboxItem) -> Outcome:
        outgoing = item.outgoing
        now = self.clock.now()
        if now >= outgoing.deadline - _LAST_TRY_BEFORE_DEADLINE:  # (3)
            return await self._give_up(item, "the delivery window ended", now)
        url = self.node_urls.get(outgoing.recipient)
        if url is None:
            return self._retry(item, f"the directory lists no node for {outgoing.recipient}", now)
        await self._log_before_sending(outgoing)  # (4)
        try:
            answer = await self.delivery.post(
                url, outgoing.payload, timeout=self.settings.attempt_timeout_seconds
            )
        except DeliveryFailure as failure:
            _LOG.info("%s %s to %s: %s", outgoing.kind, outgoing.message_id, url, failure)
            return self._retry(item, _plain(failure), self.clock.now())
        problem, permanent = await self._check(outgoing, answer)  # (5)
        if problem is None:
            return Delivered(answer.body)
        if permanent:
            return await self._give_up(item, problem, self.clock.now())
        return self._retry(item, problem, self.clock.now())

    async def _log_before_sending(self, outgoing: Outgoing) -> None:
        """Log the row's bytes unless the log holds them; raises ``InternalError``."""
        digest = None
        if outgoing.kind != "failure":  # a forward or relay carries the referral's decision
            record = await self.messenger.run(self.referrals.get, outgoing.referral_id)
            digest = record.decision_digest if record is not None else None
        await self.messenger.record_once(outgoing.payload, decision_digest=digest)

    async def _check(self, outgoing: Outgoing, answer: Answer) -> tuple[str | None, bool]:
        """``(problem, permanent)`` for an answer; ``problem`` is ``None`` for a good receipt."""
        try:
            message = await self.messenger.run(self.answers.verify_envelope, answer.body)
        except IrtError as error:
            _LOG.info("unusable answer from %s: %s", outgoing.recipient, error)
            return f"unusable answer (HTTP {answer.status}, {error.code})", False
        # Logged (SPEC §8) whatever it says: a refusal is evidence too.
        await self.messenger.record(message.raw, message.header, "in")
        header = message.header
        if header.message_class == "Error" and _answers(message, outgoing) is None:
            code = message.body.get("code", "internal-error")
            text = f"{outgoing.recipient} refused ({code}): {message.body.text}"
            return text, code not in TRANSIENT_CODES and 400 <= answer.status < 500
        problem = _answers(message, outgoing) or _receipt_problem(message, outgoing, answer)
        return problem, False

    def _retry(self, item: OutboxItem, error: str, now: datetime) -> RetryLater:
        wait = self.settings.retry_delay(item.attempts, self.rng)
        last_try = item.outgoing.deadline - _LAST_TRY_BEFORE_DEADLINE
        return RetryLater(at=min(now + wait, last_try), error=error)

    async def _give_up(self, item: OutboxItem, error: str, now: datetime) -> GiveUp:
        outgoing = item.outgoing
        _LOG.warning(
            "giving up %s %s to %s after %d attempt(s): %s",
            outgoing.kind,
            outgoing.message_id,
            outgoing.recipient,
            item.attempts,
            error,
        )
        if outgoing.kind != "forward":
            return GiveUp(error)
        return GiveUp(error, notice=await self._failure_notice(item, error, now))

    async def _failure_notice(self, item: OutboxItem, error: str, now: datetime) -> Outgoing:
        """(6) The referrer's ``ReferralDeliveryFailure``, signed once, queued with the fail."""
        forward = item.outgoing
        record = await self.messenger.run(self.referrals.get, forward.referral_id)
        if record is None:
            raise InternalError(f"outbox row {item.id} names no stored referral")
        referrer = record.referrer
        deadline = now + self.settings.delivery_window
        window = self.settings.delivery_window
        header = self.messenger.header(
            message_class="ReferralDeliveryFailure",
            qualifier="notification",
            to=referrer,
            correlation_id=forward.referral_id,
            expires=deadline,
        )
        body = failure_body(
            forward.referral_id,
            reason=f"{forward.recipient}'s node did not accept the referral within the "
            f"delivery window of {_duration(window)}; last error: {error}",
            attempts=item.attempts,
            last_attempt=now,
        )
        payload = await self.messenger.sign(header, body)  # logged before it is sent: (4)
        return Outgoing(
            referral_id=forward.referral_id,
            kind="failure",
            recipient=referrer,
            message_id=header.message_id,
            payload=payload,
            deadline=deadline,
        )


def _answers(message: VerifiedMessage, outgoing: Outgoing) -> str | None:
    """Why ``message`` is not an answer from ``outgoing``'s recipient to it, or ``None``."""
    header = message.header
    if header.sender.authority != outgoing.recipient:
        return f"answer signed by {header.sender.authority}, not {outgoing.recipient}"
    if header.correlation_id != outgoing.message_id:
        return "answer does not correlate with the message sent"
    return None


def _receipt_problem(message: VerifiedMessage, outgoing: Outgoing, answer: Answer) -> str | None:
    named = message.body.findtext(_R + "ReferralMessageID")
    if message.header.message_class != "ReferralReceipt" or named != outgoing.referral_id:
        return f"unexpected {message.header.message_class} answer (HTTP {answer.status})"
    if answer.status not in (200, 202):
        return f"receipt came with HTTP {answer.status}"
    return None


def _plain(failure: DeliveryFailure) -> str:
    """A transport failure as the referrer may read it: what happened, not where or how."""
    if failure.code == "timeout":
        return "timeout: the node did not answer in time"
    return "recipient-unavailable: the node could not be reached"


def _duration(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours >= 48 else f"{hours:g} hours"
