"""The demo's referral story: find a service across the border, refer, follow it.

After the known-to queries, the Lambeth social worker searches London for
CAMHS that take Lambeth's residents, refers Amara to Southwark's, and sees
the hub's receipt, Southwark's delivery receipt and Southwark's statuses
come back; then a referral the service's criteria refuse, with the rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from adapters.client.exchange import HubExchange
from adapters.client.referrals import ReferralClient, ReferralDraft
from adapters.client.services import CatalogueClient
from adapters.config import load_node_config
from hub.app.referrals import REFERRALS_KEY
from hub.authorities import AUTHORITY_NAMES
from hub.envelope import Practitioner, format_time
from hub.errors import IrtError
from hub.identifiers import HUB, AuthorityCode, MessageId
from hub.referral.messages import Contact, StatusUpdate
from hub.services.search import ServiceQuery
from irthub.demo.scenario import QUERIES, REQUESTER, SOUTHWARK
from irthub.demo.world import DemoWorld

__all__ = ["referral_story"]

_WAIT_SECONDS: Final = 15.0
"""Longest wait for a catalogue to be published or a referral delivered."""
_PRACTITIONER: Final = Practitioner("lam-sw-0142", "Social worker", "social-care")


async def referral_story(world: DemoWorld, echo: Callable[[str], None]) -> None:
    """Tell the story on ``echo``; refusals are shown, not raised."""
    parts = world.apps[HUB][REFERRALS_KEY]
    await _until(lambda: parts.catalogues.catalogues() != ())
    lambeth, southwark = _exchange(world, REQUESTER), _exchange(world, SOUTHWARK)
    try:
        echo("== 4. Finding a service across the border, and referring")
        echo("   Lambeth searches London for CAMHS for an 11-year-old living in Lambeth:")
        found = await CatalogueClient(lambeth).search(
            ServiceQuery(types=frozenset({"camhs"}), age=11, authority=REQUESTER, max_results=8),
            practitioner=_PRACTITIONER,
            purpose="child-in-need-s17",
            consent="given",
        )
        for entry in found:
            service = entry.service
            wait = f"{service.waiting_weeks} weeks" if service.waiting_weeks is not None else "?"
            echo(f"     {_name(service.authority):<14} {service.id:<28} wait {wait}")
        referrals = ReferralClient(lambeth)
        receipt = await referrals.refer(_draft("southwark-camhs"), practitioner=_PRACTITIONER,
                                        purpose="child-in-need-s17")  # fmt: skip
        referral_id = receipt.referral_id
        echo(f"   Referral {referral_id} to southwark-camhs: the hub's signed receipt at "
             f"{format_time(receipt.received_at)}")  # fmt: skip
        if not await _until(lambda: _state(world, referral_id) == "delivered"):
            echo("   Not delivered yet: the hub keeps trying for five days.\n")
            return
        echo("   Delivered: Southwark's node verified Lambeth's signature and returned its own.")
        now = datetime.now(UTC)
        answering = ReferralClient(southwark)
        await answering.post_status(StatusUpdate(referral_id, "accepted", now))
        await answering.post_status(
            StatusUpdate(referral_id, "allocated", now, practitioner=Contact(
                "Dr Tom Hale", "Clinical Psychologist", "020 7946 0102")),
        )  # fmt: skip
        history = await referrals.history(referral_id)
        echo(f"   Lambeth asks how it stands: {history.delivery_state}, then "
             + ", ".join(s.status for s in history.statuses))  # fmt: skip
        echo("   A referral to Southwark's youth justice service, which takes only its own:")
        try:
            await referrals.refer(_draft("southwark-yjs"), practitioner=_PRACTITIONER,
                                  purpose="child-in-need-s17")  # fmt: skip
        except IrtError as refused:
            echo(f"     refused: {refused.code}: {refused.reason}")
        echo("")
    finally:
        await lambeth.close()
        await southwark.close()


def _draft(service_id: str) -> ReferralDraft:
    return ReferralDraft(
        to=SOUTHWARK,
        service_id=service_id,
        child=QUERIES[0].child,
        concern_level=2,
        categories=("involvement", "mental-health"),
        reason="Low mood and self-harm since September; her mother asks for specialist help.",
        consent="given",
        referrer=Contact("Sam Adeyemi", "Social worker", "020 7926 1000"),
    )


def _exchange(world: DemoWorld, code: AuthorityCode) -> HubExchange:
    config = load_node_config(world.options.node_dir(code) / "node.toml")
    return HubExchange.from_node_config(config, hub_url=world.hub_url)


def _state(world: DemoWorld, referral_id: MessageId) -> str | None:
    stored = world.apps[HUB][REFERRALS_KEY].store.get(referral_id)
    return stored.state if stored is not None else None


def _name(code: AuthorityCode) -> str:
    return AUTHORITY_NAMES.get(code, code)


async def _until(check: Callable[[], bool]) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _WAIT_SECONDS
    while not check():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True
