"""Building and reading envelope headers (SPEC §2) without signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypedDict, Unpack

import pytest
from lxml import etree

from hub.envelope import (
    ENV_NS,
    Header,
    Party,
    Practitioner,
    Qualifier,
    Recipient,
    body_of,
    build_envelope,
    format_time,
    parse_time,
    read_header,
)
from hub.errors import SchemaInvalid
from hub.identifiers import AuthorityCode

CREATED = datetime(2026, 11, 22, 10, 15, 30, 123000, tzinfo=UTC)
LAMBETH = AuthorityCode("E09000022")
SOUTHWARK = AuthorityCode("E09000028")


def _body(name: str = "KnownToQuery") -> etree._Element:
    return etree.Element(f"{{urn:lcpc:irt:knownto:1}}{name}")


class _HeaderFields(TypedDict, total=False):
    message_class: str
    qualifier: Qualifier
    sender: Party
    recipients: tuple[Recipient, ...]
    created: datetime
    expires: datetime | None
    on_behalf_of: Practitioner | None
    purpose: str | None
    consent: str | None


def _header(**changes: Unpack[_HeaderFields]) -> Header:
    fields: _HeaderFields = {
        "message_class": "KnownToQuery",
        "qualifier": "request",
        "sender": Party(LAMBETH, "lambeth-irt"),
        "recipients": (Recipient(authority=SOUTHWARK), Recipient(scope="neighbours")),
        "created": CREATED,
        "expires": CREATED + timedelta(seconds=10),
        "on_behalf_of": Practitioner("sw-4471", "Social worker", "social-care"),
        "purpose": "child-protection-s47",
        "consent": "not-required",
    }
    fields.update(changes)
    return Header(**fields)


def test_header_round_trips_through_xml() -> None:
    header = _header()
    envelope = build_envelope(header, _body())
    assert read_header(envelope) == header


def test_built_envelope_follows_the_spec_layout() -> None:
    envelope = build_envelope(_header(), _body())
    assert envelope.tag == f"{{{ENV_NS}}}Envelope"
    assert envelope.get("Version") == "1.0"
    names = [etree.QName(child).localname for child in envelope[0]]
    assert names == [
        "MessageID", "Class", "Qualifier", "Created", "Expires", "From", "To", "To",
        "OnBehalfOf", "Purpose", "Consent",
    ]  # fmt: skip
    assert envelope[0].findtext(f"{{{ENV_NS}}}Created") == "2026-11-22T10:15:30.123Z"


def test_body_is_copied_not_moved() -> None:
    body = _body()
    holder = etree.Element("holder")
    holder.append(body)
    build_envelope(_header(), body)
    assert body.getparent() is holder


def test_class_must_name_the_body_element() -> None:
    envelope = build_envelope(_header(), _body("KnownToResponse"))
    with pytest.raises(SchemaInvalid, match="Class 'KnownToQuery' does not name the body element"):
        read_header(envelope)


def test_body_must_hold_exactly_one_element() -> None:
    envelope = build_envelope(_header(), _body())
    envelope[1].append(_body())
    with pytest.raises(SchemaInvalid, match="exactly one element, found 2"):
        body_of(envelope)


def test_recipient_needs_exactly_one_of_authority_and_scope() -> None:
    with pytest.raises(SchemaInvalid, match="exactly one of authority and scope"):
        Recipient(authority=SOUTHWARK, scope="london")
    with pytest.raises(SchemaInvalid, match="exactly one of authority and scope"):
        Recipient()


def test_query_must_say_on_whose_behalf_and_why() -> None:
    with pytest.raises(
        SchemaInvalid, match="KnownToQuery must say OnBehalfOf, Purpose and Consent"
    ):
        _header(purpose=None)


def test_expires_after_created() -> None:
    with pytest.raises(SchemaInvalid, match="Expires must be later than Created"):
        _header(expires=CREATED)


def test_times_are_utc_with_z() -> None:
    assert parse_time("2026-11-22T10:15:30.123Z") == CREATED
    assert format_time(CREATED) == "2026-11-22T10:15:30.123Z"
    with pytest.raises(SchemaInvalid, match="must be UTC and end with Z"):
        parse_time("2026-11-22T10:15:30+01:00")
    with pytest.raises(SchemaInvalid, match="is not an xs:dateTime"):
        parse_time("yesterdayZ")
