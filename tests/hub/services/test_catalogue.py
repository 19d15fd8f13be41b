"""Reading service catalogues: the rules directory.xsd cannot say."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from hub.errors import SchemaInvalid, SenderMismatch
from hub.identifiers import AuthorityCode
from hub.schemas import default_registry
from hub.services.catalogue import DIRECTORY_NS, parse_catalogue
from tests.support.paths import ASSETS

SOUTHWARK = AuthorityCode("E09000028")
LAMBETH = AuthorityCode("E09000022")
CROYDON = AuthorityCode("E09000008")
_D = f"{{{DIRECTORY_NS}}}"


@pytest.fixture
def sample() -> etree._Element:
    root = etree.parse(str(ASSETS / "bodies" / "ServiceCatalogue.xml")).getroot()
    default_registry().validate(root)
    return root


def test_sample_catalogue_reads_as_published(sample: etree._Element) -> None:
    catalogue = parse_catalogue(sample, sender=SOUTHWARK)
    camhs = catalogue.service("swk-camhs-teen")
    assert camhs is not None
    assert (camhs.min_age, camhs.max_age) == (11, 18)
    assert camhs.concern_levels == {2, 3}
    assert "mental-health" in camhs.categories
    assert camhs.residence_required == {SOUTHWARK, LAMBETH}
    assert camhs.waiting_weeks == 6
    assert camhs.consent_required
    assert etree.QName(camhs.published_element()).localname == "Service"
    carers = catalogue.service("swk-young-carers")
    assert carers is not None
    assert carers.served is None  # london
    assert carers.waiting_weeks is None


def test_geography_and_residence_decide_who_is_served(sample: etree._Element) -> None:
    catalogue = parse_catalogue(sample, sender=SOUTHWARK)
    camhs, carers = catalogue.services
    assert camhs.serves_resident_of(LAMBETH)
    assert not camhs.serves_resident_of(CROYDON)
    assert carers.serves_resident_of(CROYDON)


def test_catalogue_of_another_authority_is_refused(sample: etree._Element) -> None:
    with pytest.raises(SenderMismatch, match="E09000022 cannot publish the service catalogue"):
        parse_catalogue(sample, sender=LAMBETH)


def test_duplicate_service_ids_are_refused(sample: etree._Element) -> None:
    service = sample.find(_D + "Service")
    assert service is not None
    sample.append(copy.deepcopy(service))
    with pytest.raises(SchemaInvalid, match="service ID 'swk-camhs-teen' appears twice"):
        parse_catalogue(sample, sender=SOUTHWARK)


def test_inverted_age_range_is_refused(sample: etree._Element) -> None:
    ages = sample.find(f"{_D}Service/{_D}AgeRange")
    assert ages is not None
    ages[0].text, ages[1].text = "18", "11"
    with pytest.raises(SchemaInvalid, match="AgeRange Min 18 is above Max 11"):
        parse_catalogue(sample, sender=SOUTHWARK)
