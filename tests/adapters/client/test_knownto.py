"""A query is checked before it travels: a child that cannot exist is never asked about."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from adapters.client.exchange import HubExchange
from adapters.client.knownto import ChildQuery, KnownToClient
from hub.clock import FixedClock
from hub.envelope import Practitioner
from hub.errors import SchemaInvalid
from hub.identifiers import AuthorityCode
from hub.transport.delivery import Answer

# 23:30 on 1 July in UTC is already 2 July in London (BST).
LATE_EVENING = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)


def test_a_query_is_normalised_as_the_wire_wants_it() -> None:
    child = ChildQuery(
        given_names=(" Amara  Grace ",),
        family_name="Okafor",
        birth_date=date(2015, 3, 14),
        sex="F",
        postcode="se15 4qs",
        nhs_number="943 476 5919",
    )
    assert (child.given_names, child.sex, child.postcode, child.nhs_number) == (
        ("Amara Grace",),
        "female",
        "SE15 4QS",
        "9434765919",
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "the query names no child: give an NHS number or UPN, or a given name, family name "
         "and birth date"),
        ({"given_names": (" ",), "family_name": ""}, "the query names no child"),
        ({"nhs_number": "9434765918"}, "NHSNumber '9434765918' is not a valid NHS number "
         r"\(ten digits, modulus 11 check digit\)"),
        ({"upn": "A12345678901"}, "UPN 'A12345678901' is not a valid UPN"),
        ({"given_names": ("Amara",), "family_name": "Okafor"},
         "a subject needs an NHS number or UPN, or given name, family name and birth date"),
        ({"nhs_number": "9434765919", "family_name": "Okafor"},
         "give both a given name and a family name, or neither"),
        ({"nhs_number": "9434765919", "postcode": "SW2"}, "Postcode 'SW2' is not a UK postcode"),
        ({"nhs_number": "9434765919", "sex": "x"}, "sex 'x' must be one of"),
        ({"nhs_number": "9434765919", "level": "everything"},
         "level 'everything' is not one of existence, agencies, contacts, details"),
    ],
    ids=["empty", "blank", "nhs-check-digit", "upn", "no-birth-date", "half-a-name", "postcode",
         "sex", "level"],
)  # fmt: skip
def test_a_query_that_cannot_be_right_is_refused_when_made(
    arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(SchemaInvalid, match=message):
        ChildQuery(**arguments)


def test_a_birth_date_in_the_future_is_refused_by_the_date_in_london() -> None:
    born_today_in_london = ChildQuery(("Amara",), "Okafor", date(2026, 7, 2))
    born_today_in_london.check_birth_date(now=LATE_EVENING)
    tomorrow = ChildQuery(("Amara",), "Okafor", date(2026, 7, 3))
    with pytest.raises(
        SchemaInvalid,
        match=r"birth date 2026-07-03 is in the future \(today is 2026-07-02\); check the date",
    ):
        tomorrow.check_birth_date(now=LATE_EVENING)


@dataclass
class _Recorder:
    """Stands in for the signer and the delivery: records whether either was used."""

    calls: list[str] = field(default_factory=list)

    def sign(self, *_: object) -> bytes:
        self.calls.append("sign")
        return b""

    async def post(self, *_: object, **__: object) -> Answer:
        self.calls.append("post")
        return Answer(500, b"")

    async def close(self) -> None:
        """Nothing to release."""


async def test_the_client_refuses_a_future_birth_date_before_signing_or_sending() -> None:
    recorder = _Recorder()
    exchange = HubExchange(
        authority=AuthorityCode("E09000022"),
        node_id="lambeth-irt",
        signer=recorder,  # type: ignore[arg-type]
        verifier=None,  # type: ignore[arg-type]
        delivery=recorder,
        hub_url="https://127.0.0.1:1/v1/messages",
        clock=FixedClock(LATE_EVENING),
    )
    child = ChildQuery(("Amara",), "Okafor", LATE_EVENING.date() + timedelta(days=30))
    with pytest.raises(SchemaInvalid, match="birth date 2026-07-31 is in the future"):
        await KnownToClient(exchange).ask(
            child,
            practitioner=Practitioner("sw-1", "Social worker", "social-care"),
            purpose="child-protection-s47",
            consent="not-required",
            scope="london",
        )
    assert recorder.calls == []
