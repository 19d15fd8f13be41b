"""Synthetic service catalogues: valid, reproducible, open across borders as real ones are."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from adapters.synthetic.catalogues import TEMPLATES, demo_catalogue, write_demo_catalogue
from hub.directory.model import default_directory
from hub.identifiers import ALL_AUTHORITIES, AuthorityCode
from hub.schemas import default_registry
from hub.services.catalogue import ServiceId, parse_catalogue

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
LAMBETH = AuthorityCode("E09000022")


@pytest.mark.parametrize("code", ALL_AUTHORITIES)
def test_every_boroughs_catalogue_is_valid_and_its_own(code: AuthorityCode) -> None:
    element = demo_catalogue(code, published=NOW)
    default_registry().validate(element)
    catalogue = parse_catalogue(element, sender=code)
    assert catalogue.published == NOW
    assert len(catalogue.services) >= 8
    assert {s.type for s in catalogue.services} >= {"camhs", "family-support", "youth-service"}


def test_the_same_seed_gives_the_same_catalogue() -> None:
    first = etree.tostring(demo_catalogue(LAMBETH, published=NOW, seed=7))
    assert etree.tostring(demo_catalogue(LAMBETH, published=NOW, seed=7)) == first
    assert etree.tostring(demo_catalogue(LAMBETH, published=NOW, seed=8)) != first


def test_reach_follows_how_services_are_organised() -> None:
    services = {s.id: s for s in parse_catalogue(demo_catalogue(LAMBETH, published=NOW),
                                                 sender=LAMBETH).services}  # fmt: skip
    neighbours = set(default_directory().neighbours(LAMBETH))
    camhs = services[ServiceId("lambeth-camhs")]
    assert camhs.residence_required == neighbours | {LAMBETH}
    assert services[ServiceId("lambeth-youth")].served is None  # all London
    assert services[ServiceId("lambeth-family-support")].residence_required == {LAMBETH}


def test_templates_name_known_types_and_agencies() -> None:
    keys = [t.key for t in TEMPLATES]
    assert len(keys) == len(set(keys))


def test_written_file_round_trips(tmp_path: Path) -> None:
    path = write_demo_catalogue(LAMBETH, tmp_path / "x" / "services.xml", published=NOW)
    root = etree.parse(str(path)).getroot()
    assert parse_catalogue(root, sender=LAMBETH).authority == LAMBETH
