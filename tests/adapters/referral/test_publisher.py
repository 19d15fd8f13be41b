"""A node publishes its catalogue at start, and keeps trying until the hub is there."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.referral.publisher import load_catalogue
from hub.errors import SchemaInvalid
from hub.pki.layout import PkiLayout
from tests.support.parties import CROYDON, LAMBETH, SOUTHWARK
from tests.support.paths import ASSETS
from tests.support.referral_world import ReferralWorld, wait_until

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def test_nodes_started_before_the_hub_publish_once_it_is_up(
    dev_pki: PkiLayout, signed_protocols: Path, tmp_path: Path
) -> None:
    world = ReferralWorld(
        dev_pki, signed_protocols, tmp_path, authorities=(LAMBETH, SOUTHWARK, CROYDON),
        publish_at_start=True,
    )  # fmt: skip
    world.hold_hub_port()  # nodes name the hub's URL at start
    try:
        await world.start_nodes()  # the hub is not there yet: connections are refused
        await world.start_hub()
        await wait_until(lambda: len(world.hub.catalogues.catalogues()) == 3)
        held = {c.authority: c for c in world.hub.catalogues.catalogues()}
        assert held[SOUTHWARK].service("southwark-camhs") is not None
    finally:
        await world.stop()


def test_a_catalogue_file_is_dated_and_checked_as_the_hub_will(tmp_path: Path) -> None:
    catalogue = load_catalogue(ASSETS / "bodies" / "ServiceCatalogue.xml", published=NOW)
    assert catalogue.findtext("{urn:lcpc:irt:directory:1}Published") == "2026-11-24T09:00:00.000Z"


def test_a_missing_catalogue_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaInvalid, match=r"nope\.xml: cannot read the catalogue"):
        load_catalogue(tmp_path / "nope.xml", published=NOW)


def test_an_invalid_catalogue_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    data = (ASSETS / "bodies" / "ServiceCatalogue.xml").read_bytes()
    path.write_bytes(data.replace(b"<d:Min>11</d:Min>", b"<d:Min>eleven</d:Min>"))
    with pytest.raises(SchemaInvalid, match="Min"):
        load_catalogue(path, published=NOW)
