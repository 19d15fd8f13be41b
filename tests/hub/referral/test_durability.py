"""The hub killed with SIGKILL at random moments while referrals are in flight.

The hub runs as a real process (``irthub hub run --config``); three borough
nodes run in this test. Lambeth's system keeps eight referrals in flight and,
like a real borough system, posts the same bytes again until it has a
receipt. The hub is killed (no clean shutdown, no flush) several times at
random and restarted from its data folder. At the end:

- every referral was acknowledged, and every repeat of a referral got the
  very same receipt bytes, each a valid hub signature naming that referral;
- every referral reached its receiving node exactly once, and the node's
  signed receipt the hub recorded is the one the node stored;
- the message log tells what was sent (docs/audit.md): for each referral it
  holds exactly one hub-signed ``ReferralForward``, the bytes in the outbox
  that the node was sent, and exactly one hub-signed ``ReferralReceipt``,
  the bytes the borough received; nothing signed before a kill and then
  superseded is there to be mistaken for a duplicate.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from adapters.client.exchange import Signed
from adapters.client.referrals import ReferralClient
from hub.envelope import read_header
from hub.errors import DeliveryFailure, InternalError
from hub.identifiers import HUB, AuthorityCode
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.storage.log_folder import open_sqlite_log
from hub.verify import EnvelopeVerifier
from hub.xmlparse import XmlLimits, parse_untrusted
from tests.support.hub_process import HubProcess
from tests.support.loopback import free_port, message_url
from tests.support.parties import CROYDON, LAMBETH, SOCIAL_WORKER, SOUTHWARK
from tests.support.referral_world import ReferralWorld, camhs_referral, hub_toml, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

IN_FLIGHT = 8
MIN_REFERRALS = 32
MAX_REFERRALS = 400
KILLS = 3
PURPOSE = "child-in-need-s17"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    dev_pki: PkiLayout, signed_protocols: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[ReferralWorld, HubProcess]]:
    workdir = tmp_path_factory.mktemp("durability")
    nodes = ReferralWorld(
        dev_pki, signed_protocols, workdir, authorities=(LAMBETH, SOUTHWARK, CROYDON)
    )
    await nodes.start_nodes()
    port = free_port()  # the hub is a process that binds its own port
    nodes.hub_url = message_url(port)
    config = workdir / "hub.toml"
    config.write_text(
        hub_toml(dev_pki, signed_protocols, workdir / "hub-data", port, nodes.node_urls,
                 tables=_FAST_RETRIES)
    )  # fmt: skip
    hub = HubProcess(config, workdir / "hub.log")
    await hub.start()
    await nodes.publish_catalogues([SOUTHWARK, CROYDON])
    yield nodes, hub
    hub.stop()
    await nodes.stop()


_FAST_RETRIES = """[referrals]
retry_base_seconds = 0.1
retry_max_seconds = 0.5
poll_seconds = 0.1
attempt_timeout_seconds = 2.0
lease_seconds = 3.0
"""


async def _until_receipted(
    client: ReferralClient, referral: Signed, receipts: dict[str, list[bytes]]
) -> None:
    """Post the same bytes until the hub answers, as a borough system does."""
    while True:
        try:
            receipt = await client.submit(referral, timeout=5.0)
        except (DeliveryFailure, InternalError):
            receipts.setdefault("lost answers", []).append(b"")
            await asyncio.sleep(0.2)
            continue
        receipts.setdefault(referral.message_id, []).append(receipt.signed)
        if len(receipts[referral.message_id]) >= 2:
            return
        # Ask once more: a repeat must get the same receipt bytes.


async def _kill_at_random(hub: HubProcess, rng: random.Random) -> int:
    for _ in range(KILLS):
        await asyncio.sleep(rng.uniform(0.2, 0.8))
        hub.kill()
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        await hub.start()
    return KILLS


async def test_sigkill_never_loses_or_duplicates_a_referral(
    world: tuple[ReferralWorld, HubProcess], trust: TrustStore
) -> None:
    nodes, hub = world
    rng = random.Random(6)
    client = nodes.referrals(LAMBETH)
    targets = {SOUTHWARK: "southwark-camhs", CROYDON: "croydon-camhs"}
    pool = [
        (to, client.prepare(camhs_referral(to=to, service_id=service),
                            practitioner=SOCIAL_WORKER, purpose=PURPOSE))
        for i in range(MAX_REFERRALS)
        for to, service in [list(targets.items())[i % 2]]
    ]  # fmt: skip
    receipts: dict[str, list[bytes]] = {}
    killer = asyncio.create_task(_kill_at_random(hub, rng))
    sent: list[tuple[AuthorityCode, Signed]] = []
    # Keep IN_FLIGHT referrals in flight until every kill is done, so each
    # kill lands among requests being accepted and forwards being delivered.
    while (not killer.done() or len(sent) < MIN_REFERRALS) and len(sent) < len(pool):
        batch = pool[len(sent) : len(sent) + IN_FLIGHT]
        sent.extend(batch)
        await asyncio.gather(*(_until_receipted(client, r, receipts) for _, r in batch))
    kills = await killer
    lost = len(receipts.pop("lost answers", []))
    print(f"{kills} kills, {len(sent)} referrals, {lost} answers lost and repeated")

    # every receipt valid, and a repeat got the same bytes
    verifier = EnvelopeVerifier(trust=trust)
    for _, referral in sent:
        answers = receipts[referral.message_id]
        assert len(set(answers)) == 1, "a repeated referral got a different receipt"
        receipt = verifier.verify_envelope(answers[0])
        assert receipt.header.sender.authority == HUB
        assert receipt.header.correlation_id == referral.message_id

    # every referral delivered, exactly once, to the right node
    expected: dict[AuthorityCode, set[str]] = {code: set() for code in targets}
    for to, referral in sent:
        expected[to].add(referral.message_id)
    stores = {code: nodes.node_store(code) for code in expected}

    def all_delivered() -> bool:
        return all({r.referral_id for r in stores[c].received()} == expected[c] for c in stores)

    await wait_until(all_delivered, timeout=30)
    hub_db = sqlite3.connect(nodes.workdir / "hub-data" / "referrals.sqlite")
    delivered = "SELECT COUNT(*) FROM referral WHERE state = 'delivered'"
    await wait_until(lambda: hub_db.execute(delivered).fetchone()[0] == len(sent), timeout=30)
    for store in stores.values():
        for entry in store.received():
            (node_receipt,) = hub_db.execute(
                "SELECT node_receipt FROM referral WHERE message_id = ?", (entry.referral_id,)
            ).fetchone()
            assert bytes(node_receipt) == entry.receipt  # one processing, one receipt
    forwards_queued = {
        referral_id: hashlib.sha256(payload).hexdigest()
        for referral_id, payload in hub_db.execute(
            "SELECT referral_id, payload FROM outbox WHERE kind = 'forward'"
        )
    }
    hub_db.close()
    assert hub.starts == 1 + kills

    # the log's account: one forward and one receipt per referral, the ones sent
    logged = _hub_signed_referral_messages(nodes.workdir / "hub-data" / "log")
    for _, referral in sent:
        forwards = logged.get(("ReferralForward", referral.message_id), [])
        receipts_logged = logged.get(("ReferralReceipt", referral.message_id), [])
        assert forwards == [forwards_queued[referral.message_id]], "forward logged != sent"
        received = hashlib.sha256(receipts[referral.message_id][0]).hexdigest()
        assert receipts_logged == [received], "receipt logged != received"
    assert set(logged) == {
        (kind, referral.message_id)
        for _, referral in sent
        for kind in ("ReferralForward", "ReferralReceipt")
    }


def _hub_signed_referral_messages(log_dir: Path) -> dict[tuple[str, str], list[str]]:
    """(class, referral id) -> SHA-256 of each hub-signed forward and receipt logged."""
    log = open_sqlite_log(log_dir, read_only=True)
    found: dict[tuple[str, str], list[str]] = {}
    try:
        for index in range(log.size()):
            entry = log.entry(index)
            kind = entry.message_class
            if entry.direction != "out" or kind not in ("ReferralForward", "ReferralReceipt"):
                continue
            raw = log.message(index)
            assert isinstance(raw, bytes)
            header = read_header(parse_untrusted(raw, limits=XmlLimits(max_bytes=len(raw))))
            assert header.correlation_id is not None
            found.setdefault((kind, header.correlation_id), []).append(entry.message_sha256)
    finally:
        log.close()
    return found
