"""Referrals end to end: borough systems, the hub and receiving nodes over mutual TLS.

One world (Lambeth, Southwark, Croydon, Sutton) for the module; each test
sends its own referrals. Nothing is faked: certificates, signatures, XSDs,
signed ISPs, SQLite and HTTPS are real.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Unpack

import pytest
import pytest_asyncio
from lxml import etree

from adapters.client.exchange import Signed
from adapters.synthetic.catalogues import demo_catalogue
from hub.envelope import Practitioner
from hub.errors import DuplicateMessage, IrtError
from hub.identifiers import HUB, MessageId
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.referral.messages import Contact, StatusUpdate
from hub.referral.settings import ReferralSettings
from hub.services.search import ServiceQuery
from hub.verify import EnvelopeVerifier
from tests.support.parties import CROYDON, LAMBETH, SOCIAL_WORKER, SOUTHWARK, SUTTON
from tests.support.referral_world import (
    AMARA,
    DraftChanges,
    ReferralWorld,
    camhs_referral,
    wait_until,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

PURPOSE = "child-in-need-s17"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    dev_pki: PkiLayout, signed_protocols: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ReferralWorld]:
    running = ReferralWorld(
        dev_pki,
        signed_protocols,
        tmp_path_factory.mktemp("referrals"),
        authorities=(LAMBETH, SOUTHWARK, CROYDON, SUTTON),
        settings=ReferralSettings(retry_base_seconds=0.2, poll_seconds=0.2),
    )
    await running.start()
    await running.publish_catalogues()
    yield running
    await running.stop()


@pytest.fixture(scope="module")
def verifier(trust: TrustStore) -> EnvelopeVerifier:
    return EnvelopeVerifier(trust=trust)


async def _refer(world: ReferralWorld, **changes: Unpack[DraftChanges]) -> Signed:
    client = world.referrals(LAMBETH)
    prepared = client.prepare(
        camhs_referral(**changes), practitioner=SOCIAL_WORKER, purpose=PURPOSE
    )
    await client.submit(prepared)
    return prepared


def _delivered(world: ReferralWorld, referral_id: MessageId) -> bool:
    stored = world.hub.store.get(referral_id)
    return stored is not None and stored.state == "delivered"


# ------------------------------------------------------------------ directory


async def test_search_finds_services_across_the_border(world: ReferralWorld) -> None:
    found = await world.catalogues(LAMBETH).search(
        ServiceQuery(types=frozenset({"camhs"}), age=14, authority=LAMBETH, concern_level=2),
        practitioner=SOCIAL_WORKER,
        purpose=PURPOSE,
        consent="given",
    )
    authorities = {f.service.authority for f in found}
    assert SOUTHWARK in authorities  # Southwark's CAMHS takes Lambeth's residents
    assert LAMBETH in authorities
    assert SUTTON not in authorities  # not a neighbour of Lambeth
    assert all(f.service.type == "camhs" and not f.stale for f in found)
    assert found[0].service.authority == LAMBETH  # the child's own borough first


async def test_free_text_ranks_the_best_match_first(world: ReferralWorld) -> None:
    found = await world.catalogues(CROYDON).search(
        ServiceQuery(text="young carers", authority=CROYDON),
        practitioner=SOCIAL_WORKER,
        purpose=PURPOSE,
        consent="given",
    )
    assert found
    assert found[0].service.type == "young-carers"
    assert found == sorted(found, key=lambda f: -f.score)


async def test_a_repeated_catalogue_gets_the_same_receipt(world: ReferralWorld) -> None:
    client = world.catalogues(SUTTON)
    signed = client.prepare(demo_catalogue(SUTTON, published=datetime.now(UTC)))
    first = await client.publish_signed(signed)
    again = await client.publish_signed(signed)
    assert first.installed
    assert again.signed == first.signed


async def test_an_older_catalogue_is_acknowledged_but_not_installed(world: ReferralWorld) -> None:
    old = demo_catalogue(CROYDON, published=datetime.now(UTC) - timedelta(days=30))
    ack = await world.catalogues(CROYDON).publish(old)
    assert not ack.installed
    assert ack.published > datetime.now(UTC) - timedelta(days=1)


async def test_a_borough_cannot_publish_another_boroughs_catalogue(world: ReferralWorld) -> None:
    with pytest.raises(IrtError, match=f"{LAMBETH} cannot publish the service catalogue of") as e:
        await world.catalogues(LAMBETH).publish(
            demo_catalogue(SOUTHWARK, published=datetime.now(UTC))
        )
    assert e.value.code == "sender-mismatch"


# ------------------------------------------------------------------- referral


async def test_referral_is_receipted_delivered_and_verifiable_by_the_receiver(
    world: ReferralWorld, verifier: EnvelopeVerifier
) -> None:
    client = world.referrals(LAMBETH)
    prepared = client.prepare(camhs_referral(), practitioner=SOCIAL_WORKER, purpose=PURPOSE)
    receipt = await client.submit(prepared)
    assert receipt.referral_id == prepared.message_id
    assert receipt.received_by == HUB
    hub_receipt = verifier.verify_envelope(receipt.signed)
    assert hub_receipt.header.sender.authority == HUB
    assert hub_receipt.header.qualifier == "acknowledgement"
    await wait_until(lambda: _delivered(world, prepared.message_id))
    received = world.node_store(SOUTHWARK).get(prepared.message_id)
    assert received is not None
    assert received.referral == prepared.raw  # the referrer's exact signed bytes
    assert received.referrer == LAMBETH
    assert received.granted_level == "contacts"
    node_receipt = world.hub.store.get(prepared.message_id)
    assert node_receipt is not None
    assert node_receipt.node_receipt is not None
    signed_by_node = verifier.verify_envelope(node_receipt.node_receipt)
    assert signed_by_node.header.sender.authority == SOUTHWARK


async def test_same_referral_twice_gets_the_original_receipt_and_one_delivery(
    world: ReferralWorld,
) -> None:
    client = world.referrals(LAMBETH)
    prepared = client.prepare(camhs_referral(), practitioner=SOCIAL_WORKER, purpose=PURPOSE)
    first = await client.submit(prepared)
    second = await client.submit(prepared)
    assert second.signed == first.signed
    await wait_until(lambda: _delivered(world, prepared.message_id))
    forwards = [
        r for r in world.node_store(SOUTHWARK).received() if r.referral_id == prepared.message_id
    ]
    assert len(forwards) == 1


async def test_same_message_id_with_other_bytes_is_a_duplicate(world: ReferralWorld) -> None:
    client = world.referrals(LAMBETH)
    prepared = await _refer(world)
    tampered_body = camhs_referral(reason="A different reason, same MessageID.").body()
    other = client.exchange.sign(
        tampered_body,
        qualifier="request",
        to=SOUTHWARK,
        expires=datetime.now(UTC) + timedelta(days=1),
        practitioner=SOCIAL_WORKER,
        purpose=PURPOSE,
        consent="given",
    )
    forged = Signed(prepared.message_id, _with_message_id(other.raw, prepared.message_id, client))
    with pytest.raises(DuplicateMessage, match="already received with different content"):
        await client.submit(forged)


def _with_message_id(raw: bytes, message_id: str, client: object) -> bytes:
    """Re-sign ``raw`` with its MessageID replaced (a sender reusing an ID)."""
    root = etree.fromstring(raw)
    field = root.find("{urn:lcpc:irt:envelope:1}Header/{urn:lcpc:irt:envelope:1}MessageID")
    assert field is not None
    field.text = message_id
    root.remove(root[-1])
    return client.exchange.signer.sign(root)  # type: ignore[attr-defined, no-any-return]


# ------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("changes", "rule", "reason"),
    [
        (
            {"child": replace(AMARA, birth_date=datetime(2006, 1, 1, tzinfo=UTC).date())},
            "eligibility:age",
            "the child is 20, and Southwark CAMHS takes only ages 0 to 18",
        ),
        ({"concern_level": 1}, "eligibility:concern-level", "takes concern level 2 or 3, not 1"),
        (
            {"categories": ("involvement", "substance-misuse")},
            "eligibility:categories",
            "does not work with substance-misuse",
        ),
        ({"consent": "not-required"}, "eligibility:consent", "requires the family's consent"),
        (
            {"child": replace(AMARA, birth_date=None)},
            "eligibility:age",
            "gives no birth date",
        ),
    ],
    ids=["too-old", "concern-level", "category", "consent", "no-birth-date"],
)
async def test_ineligible_referral_is_refused_with_rule_and_reason_and_not_stored(
    world: ReferralWorld, changes: DraftChanges, rule: str, reason: str
) -> None:
    client = world.referrals(LAMBETH)
    prepared = client.prepare(
        camhs_referral(**changes), practitioner=SOCIAL_WORKER, purpose=PURPOSE
    )
    with pytest.raises(IrtError, match=reason) as refused:
        await client.submit(prepared)
    assert refused.value.code == "policy-denied"
    assert rule in refused.value.reason
    assert world.hub.store.get(prepared.message_id) is None


async def test_service_not_open_to_the_childs_borough_is_refused(world: ReferralWorld) -> None:
    client = world.referrals(SUTTON)  # Sutton is not Southwark's neighbour
    prepared = client.prepare(camhs_referral(), practitioner=SOCIAL_WORKER, purpose=PURPOSE)
    with pytest.raises(IrtError, match=r"eligibility:residence.*resident in E09000029"):
        await client.submit(prepared)


async def test_isp_refusal_names_the_rules(world: ReferralWorld) -> None:
    client = world.referrals(LAMBETH)
    practitioner = Practitioner("lam-eh-1", "Early help worker", "early-help")
    prepared = client.prepare(
        camhs_referral(), practitioner=practitioner, purpose="child-protection-s47"
    )
    with pytest.raises(IrtError, match=r"E09000028, disclose side\) has no rule") as refused:
        await client.submit(prepared)
    assert refused.value.code == "policy-denied"
    assert world.hub.store.get(prepared.message_id) is None


async def test_sensitive_category_outside_the_isp_grant_is_refused(world: ReferralWorld) -> None:
    client = world.referrals(LAMBETH)
    prepared = client.prepare(camhs_referral(), practitioner=SOCIAL_WORKER, purpose="early-help")
    with pytest.raises(IrtError, match=r"not for mental-health \(rules: "):
        await client.submit(prepared)


async def test_unknown_service_is_unknown_recipient(world: ReferralWorld) -> None:
    with pytest.raises(IrtError, match="lists no service southwark-astrology") as refused:
        await _refer(world, service_id="southwark-astrology")
    assert refused.value.code == "unknown-recipient"


async def test_referral_to_own_borough_is_refused(world: ReferralWorld) -> None:
    with pytest.raises(IrtError, match="another authority's service, not to E09000022"):
        await _refer(world, to=LAMBETH, service_id="lambeth-camhs")


# -------------------------------------------------------------------- status


async def test_statuses_travel_back_to_the_referrer_and_into_the_history(
    world: ReferralWorld,
) -> None:
    prepared = await _refer(world)
    referral_id = prepared.message_id
    await wait_until(lambda: _delivered(world, referral_id))
    southwark = world.referrals(SOUTHWARK)
    now = datetime.now(UTC).replace(microsecond=0)
    updates = [
        StatusUpdate(referral_id, "received", now),
        StatusUpdate(referral_id, "accepted", now),
        StatusUpdate(
            referral_id,
            "allocated",
            now,
            practitioner=Contact("Dr Hannah Blake", "Clinical psychologist", "020 3228 2000"),
        ),
    ]
    for update in updates:
        ack = await southwark.post_status(update)
        assert ack.received_by == HUB
    history = await world.referrals(LAMBETH).history(referral_id)
    assert history.delivery_state == "delivered"
    assert [s.status for s in history.statuses] == ["received", "accepted", "allocated"]
    assert history.statuses[2].practitioner is not None
    assert history.statuses[2].practitioner.name == "Dr Hannah Blake"
    lambeth_store = world.node_store(LAMBETH)
    await wait_until(lambda: len(lambeth_store.events(referral_id)) == 3)
    events = lambeth_store.events(referral_id)
    assert [e.status for e in events] == ["received", "accepted", "allocated"]
    assert "Dr Hannah Blake" in (events[2].detail or "")


async def test_a_status_with_a_reason_must_be_a_decline(world: ReferralWorld) -> None:
    prepared = await _refer(world)
    with pytest.raises(IrtError, match="a accepted status cannot carry Reason"):
        StatusUpdate(prepared.message_id, "accepted", datetime.now(UTC), reason="because")


async def test_statuses_never_go_backwards(world: ReferralWorld) -> None:
    prepared = await _refer(world)
    referral_id = prepared.message_id
    await wait_until(lambda: _delivered(world, referral_id))
    southwark = world.referrals(SOUTHWARK)
    now = datetime.now(UTC)
    await southwark.post_status(StatusUpdate(referral_id, "accepted", now))
    await southwark.post_status(StatusUpdate(referral_id, "closed", now, outcome="Seen twice."))
    with pytest.raises(
        IrtError, match=r"referral-status-transition: received is not allowed .*closed is final"
    ) as refused:
        await southwark.post_status(StatusUpdate(referral_id, "received", now))
    assert refused.value.code == "policy-denied"
    history = await world.referrals(LAMBETH).history(referral_id)
    assert [s.status for s in history.statuses] == ["accepted", "closed"]


async def test_a_status_without_its_detail_is_refused_by_the_hub(world: ReferralWorld) -> None:
    prepared = await _refer(world)
    referral_id = prepared.message_id
    await wait_until(lambda: _delivered(world, referral_id))
    southwark = world.referrals(SOUTHWARK)
    await southwark.post_status(StatusUpdate(referral_id, "accepted", datetime.now(UTC)))
    with pytest.raises(
        IrtError, match="referral-status-detail: a allocated status must carry its Practitioner"
    ) as refused:
        await southwark.post_status(StatusUpdate(referral_id, "allocated", datetime.now(UTC)))
    assert refused.value.code == "schema-invalid"


async def test_only_the_receiving_authority_may_post_status(world: ReferralWorld) -> None:
    prepared = await _refer(world)
    update = StatusUpdate(prepared.message_id, "accepted", datetime.now(UTC))
    with pytest.raises(IrtError, match=f"no referral {prepared.message_id} was sent to {CROYDON}"):
        await world.referrals(CROYDON).post_status(update)


async def test_only_the_referrer_may_read_the_history(world: ReferralWorld) -> None:
    prepared = await _refer(world)
    with pytest.raises(IrtError, match="holds no referral") as refused:
        await world.referrals(CROYDON).history(prepared.message_id)
    assert refused.value.code == "unknown-recipient"


async def test_receiving_node_verifies_the_original_on_its_own(world: ReferralWorld) -> None:
    prepared = await _refer(world)
    await wait_until(lambda: _delivered(world, prepared.message_id))
    received = world.node_store(SOUTHWARK).get(prepared.message_id)
    assert received is not None
    forward = etree.fromstring(received.forward)
    original = forward.findtext(".//{urn:lcpc:irt:referral:1}OriginalMessage") or ""
    assert base64.b64decode("".join(original.split())) == prepared.raw


async def test_search_honours_max_results(world: ReferralWorld) -> None:
    found = await world.catalogues(LAMBETH).search(
        ServiceQuery(types=frozenset({"domestic-abuse"}), authority=LAMBETH, max_results=3),
        practitioner=SOCIAL_WORKER,
        purpose=PURPOSE,
        consent="not-sought",
    )
    assert 0 < len(found) <= 3
    assert {f.service.type for f in found} == {"domestic-abuse"}


async def test_every_referral_message_is_in_the_hubs_log(world: ReferralWorld) -> None:
    log = world.hub_log
    before = log.size()
    prepared = await _refer(world)
    await wait_until(lambda: _delivered(world, prepared.message_id))
    entries = [log.entry(index) for index in range(before, log.size())]
    seen = {(e.message_class, e.direction, e.sender) for e in entries}
    assert ("Referral", "in", LAMBETH) in seen
    assert ("ReferralReceipt", "out", HUB) in seen
    assert ("ReferralForward", "out", HUB) in seen
    assert ("ReferralReceipt", "in", SOUTHWARK) in seen  # the node's receipt
    (forward,) = [e for e in entries if e.message_class == "ReferralForward"]
    stored = world.hub.store.get(prepared.message_id)
    assert stored is not None
    assert forward.decision_digest == stored.decision_digest
