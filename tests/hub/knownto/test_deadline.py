"""The deadline is a promise, and a valid query is never the requester's fault.

A real hub over mutual TLS whose nodes are played in memory
(``tests.support.knownto_world``): one never answers before its timeout,
another breaks its transport. Requesters' clocks run 1 s behind or ahead of
the hub's; ``Expires`` lands inside the fan-out; the hub's wall clock jumps
while it builds forwards. Each time the requester gets its signed
``KnownToResult`` by its deadline plus ``MARGIN`` — the time for the answer
to cross loopback on a busy machine — outstanding targets ``timeout``, and
never ``schema-invalid``. Well-formed codes the directory does not hold are
``unknown-recipient``.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import pytest
import pytest_asyncio

from hub.clock import SystemClock
from hub.disclosure import KNOWNTO_NS
from hub.envelope import Recipient
from hub.identifiers import AuthorityCode
from hub.knownto.settings import FanoutSettings
from hub.pki.layout import PkiLayout
from tests.support.knownto_world import KnownToHub, PlayedNodes, Posted, knownto_hub
from tests.support.parties import CROYDON, SOUTHWARK
from tests.support.signed_messages import SignerFor

pytestmark = pytest.mark.asyncio(loop_scope="module")

SLOW: Final = AuthorityCode("E09000032")  # Wandsworth: never answers in time
BROKEN: Final = AuthorityCode("E09000024")  # Merton: its transport raises
_3S: Final = timedelta(seconds=3)
MARGIN: Final = 0.5
"""Seconds an answer may take to reach the requester after the deadline."""
_K: Final = f"{{{KNOWNTO_NS}}}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hub(
    dev_pki: PkiLayout,
    signed_protocols: Path,
    signer_for: SignerFor,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[KnownToHub]:
    nodes = PlayedNodes(signer_for, delay=0.1, slow=frozenset({SLOW}), broken=frozenset({BROKEN}))
    workdir = tmp_path_factory.mktemp("deadline-hub")
    async with knownto_hub(dev_pki, signed_protocols, workdir, signer_for, nodes) as running:
        yield running


def _to(*codes: str) -> tuple[Recipient, ...]:
    return tuple(Recipient(authority=AuthorityCode(code)) for code in codes)


def _entries(hub: KnownToHub, posted: Posted) -> dict[str, tuple[str, str]]:
    assert posted.status == 200, posted.body[:600]
    message = hub.answer(posted.body)
    assert message.header.message_class == "KnownToResult"
    return {
        entry.get("authority", ""): (entry.get("status", ""), entry.findtext(_K + "Reason") or "")
        for entry in message.body.iterfind(_K + "Entry")
    }


def _error(hub: KnownToHub, posted: Posted) -> tuple[str, str]:
    message = hub.answer(posted.body)
    assert message.header.message_class == "Error"
    return message.body.get("code", ""), message.body.text or ""


@pytest.mark.parametrize("skew", [-1.0, 1.0], ids=["requester-behind", "requester-ahead"])
async def test_a_skewed_requester_is_answered_by_its_deadline(hub: KnownToHub, skew: float) -> None:
    lifetime = timedelta(seconds=2.5)
    created = SystemClock().now() + timedelta(seconds=skew)
    raw = hub.query(to=_to(SOUTHWARK, CROYDON, SLOW), created=created, expires=lifetime)
    # The deadline is the absolute Expires (capped by the hub's 5 s default).
    promised = min((created + lifetime - SystemClock().now()).total_seconds(), 5.0)
    posted = await hub.post(raw)
    entries = _entries(hub, posted)
    assert {code: status for code, (status, _) in entries.items()} == {
        SOUTHWARK: "not-known",
        CROYDON: "not-known",
        SLOW: "timeout",
    }
    assert posted.seconds <= promised + MARGIN


async def test_expires_landing_inside_a_london_wide_fanout_times_out_the_rest(
    hub: KnownToHub,
) -> None:
    misses_before = hub.metric("irt_deadline_misses_total", message_class="KnownToQuery")
    raw = hub.query(expires=timedelta(seconds=1.5))
    posted = await hub.post(raw)
    entries = _entries(hub, posted)
    assert len(entries) == 32
    status, reason = entries[SLOW]
    assert status == "timeout"
    assert reason.startswith("no answer")  # within its timeout, or before the deadline
    assert entries[BROKEN] == ("error", "the hub failed while asking it")
    assert {status for code, (status, _) in entries.items() if code != BROKEN} <= {
        "not-known", "refused", "timeout",
    }  # fmt: skip
    assert posted.seconds <= 1.5 + MARGIN
    assert hub.metric("irt_deadline_misses_total", message_class="KnownToQuery") == misses_before


async def test_a_broken_target_is_its_own_error_and_its_exception_is_logged_once(
    hub: KnownToHub, caplog: pytest.LogCaptureFixture
) -> None:
    posted = await hub.post(hub.query(to=_to(SOUTHWARK, BROKEN)))
    entries = _entries(hub, posted)
    assert entries == {
        SOUTHWARK: ("not-known", ""),
        BROKEN: ("error", "the hub failed while asking it"),
    }
    gc.collect()  # an unretrieved task exception is reported when the task is collected
    await asyncio.sleep(0)
    broke = [r for r in caplog.records if "broke the transport" in str(r.exc_info)]
    assert len(broke) == 1
    assert "never retrieved" not in caplog.text


async def test_a_query_that_leaves_too_little_time_is_refused_at_once(hub: KnownToHub) -> None:
    forwards = len(hub.nodes.forwards)
    before = hub.metric("irt_fanout_rejections_total", reason="too-late")
    posted = await hub.post(hub.query(to=_to(SOUTHWARK), expires=timedelta(seconds=0.6)))
    assert posted.status == 400
    code, reason = _error(hub, posted)
    assert code == "stale-message"
    assert "the hub needs at least 1 s to ask the authorities and answer" in reason
    assert posted.seconds < 0.6 + MARGIN
    assert hub.metric("irt_fanout_rejections_total", reason="too-late") == before + 1
    assert len(hub.nodes.forwards) == forwards


async def test_a_query_already_expired_is_stale_not_schema_invalid(hub: KnownToHub) -> None:
    created = SystemClock().now() - timedelta(seconds=10)
    raw = hub.query(to=_to(SOUTHWARK), created=created, expires=timedelta(seconds=5))
    posted = await hub.post(raw)
    assert posted.status == 400
    code, reason = _error(hub, posted)
    assert code == "stale-message"
    assert reason.startswith("message expired at")


@pytest.mark.parametrize("code", ["E09000034", "E08000025"])
async def test_a_well_formed_code_the_directory_does_not_hold_is_unknown_recipient(
    hub: KnownToHub, code: str
) -> None:
    posted = await hub.post(hub.query(to=_to(SOUTHWARK, code)))
    assert posted.status == 404
    assert _error(hub, posted) == (
        "unknown-recipient",
        f"the directory holds no authority {code!r}",
    )


async def test_to_hub_is_unknown_recipient_without_the_hubs_internals(hub: KnownToHub) -> None:
    posted = await hub.post(hub.query(to=_to("HUB")))
    assert posted.status == 404
    code, reason = _error(hub, posted)
    assert code == "unknown-recipient"
    assert reason == "a known-to query asks authorities; HUB is not one"


async def test_a_malformed_code_is_still_schema_invalid(hub: KnownToHub) -> None:
    posted = await hub.post(hub.query(to=_to("E0900003X")))
    assert posted.status == 400
    code, reason = _error(hub, posted)
    assert code == "schema-invalid"
    assert "'E0900003X' is not accepted by the pattern" in reason


@dataclass
class _JumpingClock:
    """The system clock, until an operator's NTP step puts it ``offset`` ahead."""

    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return SystemClock().now() + self.offset


async def test_a_wall_clock_jump_mid_fanout_still_gives_each_forward_a_valid_expiry(
    dev_pki: PkiLayout,
    signed_protocols: Path,
    signer_for: SignerFor,
    tmp_path: Path,
) -> None:
    """The hub's clock steps 10 s ahead while a forward waits for its node's one
    slot: built after the deadline by the hub's clock, the forward still gets an
    Expires after its Created, and the requester gets its result."""
    clock = _JumpingClock()
    nodes = PlayedNodes(signer_for, delay=1.0)
    one_slot = FanoutSettings(forwards_per_node=1)
    async with knownto_hub(
        dev_pki, signed_protocols, tmp_path, signer_for, nodes, clock=clock, fanout=one_slot
    ) as jumping:
        made = SystemClock().now()
        queries = [
            asyncio.create_task(
                jumping.post(jumping.query(to=_to(SOUTHWARK), created=made, expires=_3S))
            )
            for _ in range(2)
        ]
        async with asyncio.timeout(2):  # both admitted: their deadlines are fixed
            while jumping.metric("irt_fanout_in_flight") < 2:
                await asyncio.sleep(0.01)
        clock.offset = timedelta(seconds=10)
        for posted in await asyncio.gather(*queries):
            assert _entries(jumping, posted) == {SOUTHWARK: ("not-known", "")}
        assert len(nodes.forwards) == 2
        assert all(f.expires is not None and f.expires > f.created for f in nodes.forwards)
        # the edge was reached: the second forward was created after the deadline
        assert nodes.forwards[1].created > made + _3S
