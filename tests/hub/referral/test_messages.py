"""Referral bodies: the rules referral.xsd leaves to code, and what the hub writes validates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TypedDict

import pytest
from lxml import etree

from hub.errors import SchemaInvalid
from hub.identifiers import HUB, AuthorityCode, new_message_id
from hub.referral.messages import (
    Contact,
    ReferralSummary,
    StatusUpdate,
    failure_body,
    history_body,
    receipt_body,
)
from hub.schemas import default_registry
from tests.support.paths import ASSETS

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def referral() -> etree._Element:
    return etree.parse(str(ASSETS / "bodies" / "Referral.xml")).getroot()


def test_summary_reads_what_eligibility_needs(referral: etree._Element) -> None:
    summary = ReferralSummary.from_element(referral, header_consent="given")
    assert summary.service_id == "swk-camhs-teen"
    assert summary.concern_level == 2
    assert summary.categories == {"involvement", "mental-health"}
    assert summary.birth_date == date(2014, 3, 9)
    facts = summary.facts(AuthorityCode("E09000022"))
    assert facts.residence == "E09000022"


def test_body_consent_must_agree_with_the_envelope(referral: etree._Element) -> None:
    with pytest.raises(SchemaInvalid, match=r"Consent \(given\) does not agree.*\(not-sought\)"):
        ReferralSummary.from_element(referral, header_consent="not-sought")


def test_an_inverted_birth_date_range_is_refused(referral: etree._Element) -> None:
    c = "{urn:lcpc:irt:common:1}"
    child = referral.find("{urn:lcpc:irt:referral:1}Child")
    assert child is not None
    born = child.find(c + "BirthDate")
    assert born is not None
    span = etree.Element(c + "BirthDateRange")
    etree.SubElement(span, c + "From").text = "2015-01-01"
    etree.SubElement(span, c + "To").text = "2014-01-01"
    born.addnext(span)
    child.remove(born)
    with pytest.raises(SchemaInvalid, match="BirthDateRange From 2015-01-01 is after To"):
        ReferralSummary.from_element(referral, header_consent="given")


class _Details(TypedDict, total=False):
    reason: str | None
    practitioner: Contact | None
    outcome: str | None


@pytest.mark.parametrize(
    ("status", "extra", "reason"),
    [
        ("accepted", {"reason": "r"}, "a accepted status cannot carry Reason"),
        ("declined", {"outcome": "o"}, "only a closed status does"),
        ("closed", {"practitioner": Contact("Ann")}, "only a allocated status does"),
        ("lost", {}, "status 'lost' is not one of"),
    ],
)
def test_status_details_go_only_with_their_status(
    status: str, extra: _Details, reason: str
) -> None:
    with pytest.raises(SchemaInvalid, match=reason):
        StatusUpdate(new_message_id(), status, NOW, **extra)


def test_everything_the_hub_writes_is_schema_valid() -> None:
    registry = default_registry()
    referral_id = new_message_id()
    allocated = StatusUpdate(
        referral_id,
        "allocated",
        NOW,
        practitioner=Contact("Dr Hannah Blake", phone="020 3228 2000"),
    )
    assert StatusUpdate.from_element(allocated.body()) == allocated
    for body in (
        allocated.body(),
        receipt_body(referral_id, received_at=NOW, received_by=HUB, note="Queued."),
        history_body(referral_id, delivery_state="delivered", statuses=[allocated.body()]),
        failure_body(referral_id, reason="window ended", attempts=0, last_attempt=NOW),
    ):
        registry.validate(body)
