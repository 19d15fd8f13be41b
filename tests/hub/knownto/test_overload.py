"""More London-wide queries in flight than the hub admits: the admitted are
answered by their deadline, the rest are refused at once.

A real hub over mutual TLS admits ``ADMITTED`` fan-outs (two per authority,
one more may wait ``MAX_WAIT`` s); its 32 nodes are played in memory and one
never answers, so every admitted query runs to its deadline. ``WAVE`` queries
from five boroughs arrive together, Lambeth sending three. Bounded: one wave,
about ``DEADLINE`` seconds, a few hundred signatures.

Each admitted query gets its signed ``KnownToResult`` by its deadline plus
``MARGIN`` (loopback on a busy 2-core machine); each other query is refused
with ``busy`` and ``Retry-After`` within ``MAX_WAIT + REFUSAL_MARGIN``, and
before any admitted answer — never ``stale-message``, never
``schema-invalid``, never left to expire — and no task's exception goes
unretrieved.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Final

import pytest
import pytest_asyncio

from hub.envelope import Recipient
from hub.errors import Busy
from hub.identifiers import AuthorityCode
from hub.knownto.settings import FanoutSettings
from hub.pki.layout import PkiLayout
from tests.support.knownto_world import UNKNOWN_CHILD, KnownToHub, PlayedNodes, knownto_hub
from tests.support.parties import LAMBETH, SOCIAL_WORKER
from tests.support.signed_messages import SignerFor

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMITTED: Final = 3
MAX_WAIT: Final = 0.1
DEADLINE: Final = 4.0
MARGIN: Final = 0.5
"""Seconds an admitted answer may take to reach the requester after its deadline."""
REFUSAL_MARGIN: Final = 1.5
"""Seconds a refusal may take beyond the longest wait: the TLS handshake,
verifying and logging the query and signing the refusal, on a loaded 2-core
machine busy with the admitted fan-outs (and, here, with their played nodes
and the requesters, all in one process)."""
SLOW: Final = AuthorityCode("E09000032")
REQUESTERS: Final = (
    LAMBETH,
    LAMBETH,
    LAMBETH,
    AuthorityCode("E09000028"),
    AuthorityCode("E09000008"),
    AuthorityCode("E09000023"),
    AuthorityCode("E09000012"),
    AuthorityCode("E09000019"),
)
WAVE: Final = len(REQUESTERS)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hub(
    dev_pki: PkiLayout,
    signed_protocols: Path,
    signer_for: SignerFor,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[KnownToHub]:
    nodes = PlayedNodes(signer_for, delay=0.05, slow=frozenset({SLOW}))
    fanout = FanoutSettings(
        max_in_flight=ADMITTED,
        max_in_flight_per_authority=2,
        max_waiting=1,
        max_wait_seconds=MAX_WAIT,
    )
    workdir = tmp_path_factory.mktemp("overload-hub")
    async with knownto_hub(
        dev_pki, signed_protocols, workdir, signer_for, nodes, fanout=fanout
    ) as running:
        yield running


async def test_a_wave_beyond_admission_is_answered_in_time_or_refused_at_once(
    hub: KnownToHub, caplog: pytest.LogCaptureFixture
) -> None:
    queries = [hub.query(r, expires=timedelta(seconds=DEADLINE)) for r in REQUESTERS]
    answers = await asyncio.gather(
        *(hub.post(raw, requester=r) for raw, r in zip(queries, REQUESTERS, strict=True))
    )
    admitted = [(r, a) for r, a in zip(REQUESTERS, answers, strict=True) if a.status == 200]
    refused = [(r, a) for r, a in zip(REQUESTERS, answers, strict=True) if a.status != 200]

    assert 1 <= len(admitted) <= ADMITTED
    assert len(refused) >= WAVE - ADMITTED
    assert sum(1 for r, _ in admitted if r == LAMBETH) <= 2  # its share
    for _, answer in admitted:
        result = hub.answer(answer.body)
        assert result.header.message_class == "KnownToResult"
        assert answer.seconds <= DEADLINE + MARGIN
    for requester, answer in refused:
        assert answer.status in (429, 503), answer.body[:300]
        error = hub.answer(answer.body)
        assert error.body.get("code") == "busy"
        assert error.header.correlation_id is not None  # it was read and verified
        assert answer.retry_after is not None
        assert 1 <= int(answer.retry_after) <= DEADLINE + 1
        assert answer.seconds <= MAX_WAIT + REFUSAL_MARGIN
        assert answer.answered < min(a.answered for _, a in admitted)
        if answer.status == 429:
            assert requester == LAMBETH
            assert "its share of 2" in (error.body.text or "")

    rejections = sum(
        hub.metric("irt_fanout_rejections_total", reason=reason)
        for reason in ("hub-busy", "requester-busy")
    )
    assert rejections == len(refused)
    assert hub.metric("irt_fanout_in_flight") == 0
    assert hub.metric("irt_fanout_waiting") == 0
    gc.collect()  # an unretrieved task exception is reported when the task is collected
    await asyncio.sleep(0)
    assert "never retrieved" not in caplog.text


async def test_a_borough_client_is_told_busy_with_the_retry_after(hub: KnownToHub) -> None:
    wave = [
        asyncio.create_task(
            hub.post(hub.query(r, expires=timedelta(seconds=DEADLINE)), requester=r)
        )
        for r in REQUESTERS[3:6]
    ]
    async with asyncio.timeout(DEADLINE):  # every slot taken
        while hub.metric("irt_fanout_in_flight") < ADMITTED:
            await asyncio.sleep(0.01)
    exchange = hub.exchange(AuthorityCode("E09000033"))
    signed = exchange.sign(
        UNKNOWN_CHILD.body(),
        qualifier="request",
        recipients=(Recipient(scope="london"),),
        expires=exchange.clock.now() + timedelta(seconds=DEADLINE),
        practitioner=SOCIAL_WORKER,
        purpose="child-protection-s47",
        consent="not-required",
    )
    with pytest.raises(Busy, match="the hub is running all the known-to queries it admits") as busy:
        await exchange.send(signed, attempts=1)
    assert busy.value.http_status == 503
    assert 1 <= busy.value.retry_after <= DEADLINE + 1  # from the answer's Retry-After
    assert [a.status for a in await asyncio.gather(*wave)] == [200] * ADMITTED


async def test_slots_free_again_after_the_wave(hub: KnownToHub) -> None:
    answers = await asyncio.gather(
        *(
            hub.post(hub.query(r, expires=timedelta(seconds=DEADLINE)), requester=r)
            for r in REQUESTERS[2:5]
        )
    )
    assert [a.status for a in answers] == [200] * 3
