"""Two hub processes on one PostgreSQL, one killed with SIGKILL mid-load.

Both hubs run as real processes (``irthub hub run --config``) with their own
port and data folder, the same database, PKI, protocols and log key. Lambeth's
system spreads referrals and known-to queries over both, as a load balancer
would, and when a hub stops answering it sends the same bytes to the other.
Each referral is also posted a second time through the *other* hub. Hub B is
killed while referrals are being accepted and delivered. At the end:

- every referral has one receipt: a repeat through either hub got the very
  same bytes, signed by the hub, naming that referral;
- every referral reached its node exactly once, including those hub B had
  accepted or claimed before it died (hub A takes them over when B's leases
  run out), and the node receipt the hub stored is the one the node kept;
- the one shared log, audited with ``irthub audit verify --dsn``, verifies.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from adapters.client.exchange import Signed
from adapters.client.knownto import ChildQuery, KnownToClient
from adapters.client.referrals import ReferralClient
from hub.errors import DeliveryFailure, InternalError
from hub.identifiers import HUB, AuthorityCode
from hub.log.keyfiles import DEFAULT_LOG_ORIGIN, write_key_pair
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.verify import EnvelopeVerifier
from tests.support.hub_process import HubProcess
from tests.support.loopback import free_port, message_url
from tests.support.parties import CROYDON, LAMBETH, SOCIAL_WORKER, SOUTHWARK
from tests.support.referral_world import ReferralWorld, camhs_referral, hub_toml, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REFERRALS = 48
IN_FLIGHT = 8
PURPOSE = "child-in-need-s17"
TARGETS = {SOUTHWARK: "southwark-camhs", CROYDON: "croydon-camhs"}


@dataclass
class Cluster:
    nodes: ReferralWorld
    hubs: list[HubProcess]
    dsn: str
    log_pub: Path


@pytest_asyncio.fixture
async def cluster(
    dev_pki: PkiLayout, signed_protocols: Path, tmp_path: Path, pg_dsn: str
) -> AsyncIterator[Cluster]:
    keys = write_key_pair(tmp_path / "log-key", DEFAULT_LOG_ORIGIN)
    # Each hub is a process that binds its own port.
    urls = [message_url(free_port()) for _ in range(2)]
    nodes = ReferralWorld(dev_pki, signed_protocols, tmp_path, authorities=(LAMBETH, *TARGETS))
    nodes.hub_url = urls[0]
    await nodes.start_nodes()
    hubs = []
    for name, url in zip("ab", urls, strict=True):
        config = tmp_path / f"hub-{name}.toml"
        port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
        config.write_text(
            hub_toml(dev_pki, signed_protocols, tmp_path / f"hub-{name}", port, nodes.node_urls,
                     tables=_hub_tables(name, pg_dsn, keys.signer))
        )  # fmt: skip
        hubs.append(HubProcess(config, tmp_path / f"hub-{name}.log", url))
    await asyncio.gather(*(hub.start() for hub in hubs))
    await nodes.publish_catalogues(list(TARGETS))  # through hub A only
    yield Cluster(nodes, hubs, pg_dsn, keys.verifier)
    for hub in hubs:
        hub.stop()
    await nodes.stop()


def _hub_tables(name: str, dsn: str, log_key: Path) -> str:
    return f"""[storage]
backend = "postgresql"
dsn = "{dsn}"
pool_size = 4
catalogue_refresh_seconds = 0.5

[log]
key = "{log_key}"
checkpoint_seconds = 1

[referrals]
worker_name = "hub-{name}"
retry_base_seconds = 0.1
retry_max_seconds = 0.5
poll_seconds = 0.1
attempt_timeout_seconds = 2.0
lease_seconds = 3.0
"""


class Balancer:
    """Lambeth's view of the two hubs: round robin over those still answering."""

    def __init__(self, cluster: Cluster) -> None:
        self.hubs = cluster.hubs
        self.referrals: list[ReferralClient] = []
        self.knownto: list[KnownToClient] = []
        for hub in self.hubs:
            cluster.nodes.hub_url = hub.url
            self.referrals.append(cluster.nodes.referrals(LAMBETH))
            self.knownto.append(KnownToClient(cluster.nodes.exchange(LAMBETH)))
        self.failovers = 0

    def order(self, start: int) -> list[int]:
        return [(start + k) % len(self.hubs) for k in range(len(self.hubs))]

    async def submit(self, referral: Signed, start: int) -> list[bytes]:
        """Post until receipted, then once more through the next hub: both receipts."""
        receipts: list[bytes] = []
        turn = start
        while len(receipts) < 2:
            hub = turn % len(self.hubs)
            turn += 1
            if not self.hubs[hub].alive:
                continue
            try:
                receipt = await self.referrals[hub].submit(referral, timeout=5.0)
            except (DeliveryFailure, InternalError):
                self.failovers += 1
                await asyncio.sleep(0.1)
                continue
            receipts.append(receipt.signed)
        return receipts

    async def ask(self, start: int) -> bool:
        """One known-to query through the first hub that answers."""
        for hub in self.order(start):
            if not self.hubs[hub].alive:
                continue
            try:
                answer = await self.knownto[hub].ask(
                    ChildQuery(("Amara",), "Okafor", date(2015, 3, 14)),
                    practitioner=SOCIAL_WORKER,
                    purpose="child-protection-s47",
                    consent="not-required",
                    targets=list(TARGETS),
                )
            except (DeliveryFailure, InternalError):
                self.failovers += 1
                continue
            return {row.authority for row in answer.rows} == set(TARGETS)
        return False


async def test_a_killed_instance_loses_and_duplicates_nothing(
    cluster: Cluster, trust: TrustStore
) -> None:
    nodes, (hub_a, hub_b) = cluster.nodes, cluster.hubs
    balancer = Balancer(cluster)
    # Hub B serves the catalogues hub A received once it has reloaded them.
    await asyncio.sleep(1.5)
    pool = [
        (to, balancer.referrals[0].prepare(camhs_referral(to=to, service_id=service),
                                           practitioner=SOCIAL_WORKER, purpose=PURPOSE))
        for i in range(REFERRALS)
        for to, service in [list(TARGETS.items())[i % 2]]
    ]  # fmt: skip
    receipts: dict[str, list[bytes]] = {}
    answered: list[bool] = []

    async def referrals() -> None:
        for first in range(0, len(pool), IN_FLIGHT):
            batch = list(enumerate(pool[first : first + IN_FLIGHT], start=first))
            results = await asyncio.gather(*(balancer.submit(r, n) for n, (_, r) in batch))
            for (_, (_, referral)), got in zip(batch, results, strict=True):
                receipts[referral.message_id] = got

    async def queries() -> None:
        n = 0
        while len(receipts) < len(pool):
            answered.append(await balancer.ask(n))
            n += 1

    async def kill_b() -> None:
        await wait_until(lambda: len(receipts) >= IN_FLIGHT * 2, timeout=60)
        hub_b.kill()

    await asyncio.wait_for(asyncio.gather(referrals(), queries(), kill_b()), timeout=180)
    print(f"{len(pool)} referrals, {len(answered)} known-to queries, "
          f"{balancer.failovers} failovers")  # fmt: skip
    assert not hub_b.alive
    assert all(answered)
    assert len(answered) >= 4

    # (1) one receipt per referral, whichever hub answered
    verifier = EnvelopeVerifier(trust=trust)
    for _, referral in pool:
        answers = receipts[referral.message_id]
        assert len(answers) == 2
        assert answers[0] == answers[1], "receipts differ between hubs"
        receipt = verifier.verify_envelope(answers[0])
        assert receipt.header.sender.authority == HUB
        assert receipt.header.correlation_id == referral.message_id

    # (2) every referral delivered once, B's in-flight ones by A after B's leases end
    expected: dict[AuthorityCode, list[str]] = {code: [] for code in TARGETS}
    for to, referral in pool:
        expected[to].append(referral.message_id)
    stores = {code: nodes.node_store(code) for code in TARGETS}

    def all_delivered() -> bool:
        return all(
            sorted(r.referral_id for r in stores[c].received()) == sorted(expected[c])
            for c in stores
        )

    await wait_until(all_delivered, timeout=60)
    connection = await asyncpg.connect(cluster.dsn)
    try:

        async def delivered() -> int:
            return int(
                await connection.fetchval("SELECT count(*) FROM referral WHERE state = 'delivered'")
            )

        for _ in range(120):
            if await delivered() == len(pool):
                break
            await asyncio.sleep(0.5)
        assert await delivered() == len(pool)
        for store in stores.values():
            for entry in store.received():
                stored = await connection.fetchval(
                    "SELECT node_receipt FROM referral WHERE message_id = $1", entry.referral_id
                )
                assert bytes(stored) == entry.receipt  # one processing, one receipt
    finally:
        await connection.close()

    # (3) one consistent log: hub A signs a last checkpoint on a clean stop
    hub_a.stop()
    audit = subprocess.run(
        [sys.executable, "-c", "from irthub.cli import main; main()", "audit", "verify",
         "--dsn", cluster.dsn, "--trust-root", str(nodes.pki.root_cert),
         "--crl", str(nodes.pki.crl), "--log-key", str(cluster.log_pub)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "log verified: OK" in audit.stdout
    # (4) the access report reads the same shared log
    access = subprocess.run(
        [sys.executable, "-c", "from irthub.cli import main; main()", "audit", "access",
         "--dsn", cluster.dsn, "--authority", "E09000022",
         "--since", "2000-01-01T00:00:00", "--until", "2100-01-01T00:00:00"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert access.returncode == 0, access.stdout + access.stderr
    assert "accesses;" in access.stdout
