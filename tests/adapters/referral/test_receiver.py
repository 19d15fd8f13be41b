"""A receiving node refuses forwards it cannot trust, and answers a repeat with its first receipt.

Forwards are built and signed here (with the hub's real key, or another's)
and posted straight to Southwark's node over mutual TLS.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from lxml import etree

from hub.envelope import Header, Party, Recipient, build_envelope
from hub.identifiers import HUB, AuthorityCode, MessageId
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.referral.messages import REFERRAL_NS
from hub.signing import Signer
from hub.transport.delivery import HttpsDelivery
from hub.transport.tls import client_context
from hub.verify import EnvelopeVerifier, VerifiedMessage
from tests.support.parties import CROYDON, LAMBETH, SOCIAL_WORKER, SOUTHWARK, tls_files
from tests.support.paths import ASSETS
from tests.support.referral_world import ReferralWorld, camhs_referral

pytestmark = pytest.mark.asyncio(loop_scope="module")
_R = f"{{{REFERRAL_NS}}}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    dev_pki: PkiLayout, signed_protocols: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ReferralWorld]:
    running = ReferralWorld(
        dev_pki, signed_protocols, tmp_path_factory.mktemp("receiver"),
        authorities=(LAMBETH, SOUTHWARK, CROYDON),
    )  # fmt: skip
    await running.start()
    yield running
    await running.stop()


def _referral(world: ReferralWorld, to: AuthorityCode = SOUTHWARK) -> tuple[MessageId, bytes]:
    client = world.referrals(LAMBETH)
    signed = client.prepare(
        camhs_referral(to=to), practitioner=SOCIAL_WORKER, purpose="child-in-need-s17"
    )
    return signed.message_id, signed.raw


def _forward(
    signer: Signer, referral_id: MessageId, original: bytes, *, sender: AuthorityCode = HUB
) -> bytes:
    body = etree.parse(str(ASSETS / "bodies" / "ReferralForward.xml")).getroot()
    slot = body.find(_R + "OriginalMessage")
    assert slot is not None
    slot.text = base64.b64encode(original).decode()
    now = datetime.now(UTC)
    header = Header(
        message_class="ReferralForward",
        qualifier="request",
        sender=Party(sender),
        recipients=(Recipient(authority=SOUTHWARK),),
        created=now,
        expires=now + timedelta(days=1),
        correlation_id=referral_id,
    )
    return signer.sign(build_envelope(header, body))


async def _post(world: ReferralWorld, as_party: AuthorityCode, raw: bytes) -> VerifiedMessage:
    delivery = HttpsDelivery(client_context(tls_files(world.pki, as_party)))
    try:
        answer = await delivery.post(world.node_urls[SOUTHWARK], raw, timeout=10)
    finally:
        await delivery.close()
    trust = TrustStore.from_files(world.pki.root_cert, world.pki.crl)
    return EnvelopeVerifier(trust=trust).verify_envelope(answer.body)


def _refused(answer: VerifiedMessage, code: str, reason: str) -> None:
    assert answer.header.message_class == "Error"
    assert answer.body.get("code") == code
    assert reason in (answer.body.text or "")


async def test_a_forward_is_stored_once_and_a_repeat_gets_the_same_receipt(
    world: ReferralWorld, signer_for: Callable[[str], Signer]
) -> None:
    referral_id, original = _referral(world)
    forward = _forward(signer_for(HUB), referral_id, original)
    first = await _post(world, HUB, forward)
    again = await _post(world, HUB, forward)
    assert first.header.message_class == "ReferralReceipt"
    assert first.header.sender.authority == SOUTHWARK
    assert again.raw == first.raw
    assert len([r for r in world.node_store(SOUTHWARK).received()
                if r.referral_id == referral_id]) == 1  # fmt: skip


async def test_only_the_hub_may_forward(
    world: ReferralWorld, signer_for: Callable[[str], Signer]
) -> None:
    referral_id, original = _referral(world)
    forged = _forward(signer_for(LAMBETH), referral_id, original, sender=LAMBETH)
    _refused(await _post(world, LAMBETH, forged), "sender-mismatch", "only the hub may send")


async def test_a_referral_addressed_elsewhere_is_refused(
    world: ReferralWorld, signer_for: Callable[[str], Signer]
) -> None:
    referral_id, original = _referral(world, to=CROYDON)
    answer = await _post(world, HUB, _forward(signer_for(HUB), referral_id, original))
    _refused(answer, "sender-mismatch", "not addressed to E09000028")


async def test_a_forward_naming_another_referral_is_refused(
    world: ReferralWorld, signer_for: Callable[[str], Signer]
) -> None:
    _, original = _referral(world)
    other_id, _ = _referral(world)
    answer = await _post(world, HUB, _forward(signer_for(HUB), other_id, original))
    _refused(answer, "schema-invalid", "does not name the referral it carries")


async def test_a_tampered_original_is_refused(
    world: ReferralWorld, signer_for: Callable[[str], Signer]
) -> None:
    referral_id, original = _referral(world)
    tampered = original.replace(b"Self-harm", b"Self-HARM")
    answer = await _post(world, HUB, _forward(signer_for(HUB), referral_id, tampered))
    _refused(answer, "signature-invalid", "changed after signing")
    assert world.node_store(SOUTHWARK).get(referral_id) is None
