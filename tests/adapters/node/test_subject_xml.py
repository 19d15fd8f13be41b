"""A query's subject read at the node as the schema defines it, address included."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.client.knownto import ChildQuery
from adapters.index.model import Subject
from adapters.node.subject_xml import subject_from_element
from hub.disclosure import COMMON_NS, KNOWNTO_NS
from hub.errors import SchemaInvalid
from hub.schemas import default_registry


def _subject_of(child: ChildQuery) -> Subject:
    body = child.body()
    default_registry().validate(body)  # what a node receives is schema-valid
    subject = body.find(f"{{{KNOWNTO_NS}}}Subject")
    assert subject is not None
    return subject_from_element(subject)


def test_a_structured_address_travels_and_is_read_whole() -> None:
    child = ChildQuery(
        given_names=("Amara",),
        family_name="Okafor",
        birth_date=date(2015, 3, 14),
        postcode="se15 4qs",
        address_lines=("Flat 3,  12 Rye Lane", " ", "Peckham"),
        town="London",
    )
    subject = _subject_of(child)
    assert subject.address == "Flat 3, 12 Rye Lane, Peckham, London"
    assert subject.postcode == "SE15 4QS"
    address = child.body().find(f".//{{{COMMON_NS}}}Address")
    assert address is not None
    assert [e.text for e in address] == ["Flat 3, 12 Rye Lane", "Peckham", "London", "SE15 4QS"]


def test_a_query_without_an_address_reads_none() -> None:
    child = ChildQuery(given_names=("Amara",), family_name="Okafor", birth_date=date(2015, 3, 14))
    assert _subject_of(child).address is None


@pytest.mark.parametrize(
    ("lines", "town", "message"),
    [
        (("a",) * 5, None, "an address has at most 4 lines, not 5"),
        (("x" * 201,), None, "address line or town 'xxxxxxxxxxxxxxxxxxxx'… is over 200 characters"),
        ((), "London", "give an address line with the town"),
    ],
    ids=["five-lines", "long-line", "town-alone"],
)
def test_an_address_the_schema_would_refuse_is_refused_when_made(
    lines: tuple[str, ...], town: str | None, message: str
) -> None:
    with pytest.raises(SchemaInvalid, match=message):
        ChildQuery(nhs_number="9434765919", address_lines=lines, town=town)
