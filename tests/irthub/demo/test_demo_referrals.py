"""The demo's referral story runs end to end on a small demo world."""

from __future__ import annotations

from pathlib import Path

from hub.identifiers import AuthorityCode
from irthub.demo.referrals import referral_story
from irthub.demo.scenario import REQUESTER, SOUTHWARK
from irthub.demo.world import DemoOptions, DemoWorld, prepare

CROYDON = AuthorityCode("E09000008")


async def test_story_refers_follows_and_shows_a_refusal(tmp_path: Path) -> None:
    options = DemoOptions(
        workdir=tmp_path, children_per_authority=5, authorities=(REQUESTER, SOUTHWARK, CROYDON)
    )
    prepare(options)
    lines: list[str] = []
    async with DemoWorld(options) as world:
        await referral_story(world, lines.append)
    text = "\n".join(lines)
    assert "southwark-camhs" in text
    assert "Delivered: Southwark's node verified Lambeth's signature" in text
    assert "delivered, then accepted, allocated" in text
    assert "refused: policy-denied: not eligible for E09000028 service southwark-yjs" in text
    assert "(eligibility:residence)" in text
