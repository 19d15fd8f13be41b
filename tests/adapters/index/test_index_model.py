"""The records and the query subject: every value is checked where it is made."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.index.fields import DateFormat
from adapters.index.model import (
    MAX_BIRTH_RANGE_DAYS,
    Subject,
    child_from_fields,
    involvement_from_fields,
    read_child,
)
from hub.errors import SchemaInvalid
from hub.identifiers import nhs_check_digit, upn_check_letter
from tests.support.subjects import SubjectFields

VALID_NHS = "9434765919"
VALID_UPN = upn_check_letter("208201215001") + "208201215001"

CHILD = {
    "local_id": "C1",
    "given_names": "Mary Jane;Ann",
    "family_name": "O'Brien-Smith",
    "other_names": "",
    "birth_date": "2015-03-04",
    "sex": "F",
    "postcode": "sw2 1rw",
    "address": " 12  Acre Lane ",
    "nhs_number": "943 476 5919",
    "upn": VALID_UPN.lower(),
}
INVOLVEMENT = {
    "local_id": "C1",
    "agency": "health",
    "service": "CAMHS",
    "category": "mental-health",
    "status": "closed",
    "start_date": "2024-01-01",
    "end_date": "2024-06-30",
    "lead_professional": "no",
    "caf": "yes",
    "practitioner_name": "Ann Lee",
    "practitioner_role": "Clinical psychologist",
    "practitioner_phone": "020 7946 0001",
    "practitioner_email": "ann.lee@lambeth.example",
}


def test_valid_nhs_number_fixture() -> None:
    assert nhs_check_digit(VALID_NHS[:9]) == int(VALID_NHS[9])


def test_child_fields_are_normalised() -> None:
    child = child_from_fields(CHILD)
    assert child.given_names == ("Mary Jane", "Ann")
    assert child.sex == "female"
    assert child.postcode == "SW2 1RW"
    assert child.address == "12 Acre Lane"
    assert child.nhs_number == VALID_NHS
    assert child.upn == VALID_UPN
    assert child.other_names == ()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("local_id", "C 1", "local_id 'C 1' must be"),
        ("given_names", "Ann;", "given_names is empty"),
        ("given_names", "Baby1", "given_names 'Baby1' contains '1'"),
        ("family_name", "Sm1th", "family_name 'Sm1th' contains '1'"),
        ("birth_date", "04/03/2015", "birth_date '04/03/2015' is not a date of the form"),
        ("birth_date", "2015-02-30", "birth_date '2015-02-30' is not a calendar date"),
        ("sex", "X", "sex 'X' must be one of"),
        ("postcode", "SW2", "postcode 'SW2' is not a UK postcode"),
        ("nhs_number", "9434765918", "not a valid NHS number"),
        ("upn", "A123", "not a valid UPN"),
        ("given_names", ";".join(["Ann"] * 6), "given_names holds 6 names; at most 5"),
    ],
)
def test_bad_child_field_is_named(field: str, value: str, message: str) -> None:
    with pytest.raises(SchemaInvalid, match=message):
        child_from_fields({**CHILD, field: value})


@pytest.mark.parametrize(
    ("changes", "given", "family", "born", "partial", "warning"),
    [
        ({"birth_date": ""}, ("Mary Jane", "Ann"), "O'Brien-Smith", None,
         {"no-birth-date"}, "no birth date: found by NHS number or UPN, or by name only"),
        ({"given_names": ""}, (), "O'Brien-Smith", date(2015, 3, 4),
         {"no-given-name"}, "no given name: matched on the family name and other traits"),
        ({"given_names": "Baby of Jane O'Brien", "birth_date": "2027-01-05"}, (),
         "O'Brien-Smith", None, {"no-given-name", "no-birth-date"},
         "given_names \"Baby of Jane O'Brien\" stands for a child not yet named"),
        ({"given_names": "UNBORN", "birth_date": ""}, (), "O'Brien-Smith", None,
         {"no-given-name", "no-birth-date"}, "stands for a child not yet named"),
        ({"given_names": "baby girl"}, (), "O'Brien-Smith", date(2015, 3, 4),
         {"no-given-name"}, "given_names 'baby girl' stands for a child not yet named"),
        ({"family_name": "Not known"}, ("Mary Jane", "Ann"), None, date(2015, 3, 4),
         {"no-family-name"}, "family_name 'Not known' read as not recorded"),
        ({"family_name": " "}, ("Mary Jane", "Ann"), None, date(2015, 3, 4),
         {"no-family-name"}, "no family name: matched on the given names and other traits"),
    ],
    ids=["undated", "no-given", "unborn", "unborn-no-date", "baby-girl", "foundling", "one-name"],
)  # fmt: skip
def test_partial_records_are_read_with_a_warning(
    changes: dict[str, str],
    given: tuple[str, ...],
    family: str | None,
    born: date | None,
    partial: set[str],
    warning: str,
) -> None:
    read = read_child({**CHILD, **changes}, today=date(2026, 12, 1))
    assert (read.record.given_names, read.record.family_name) == (given, family)
    assert read.record.birth_date == born
    assert read.partial == partial
    assert any(warning in line for line in read.warnings), read.warnings


def test_a_complete_record_has_no_warning() -> None:
    read = read_child(CHILD, today=date(2026, 12, 1))
    assert (read.partial, read.warnings) == (frozenset(), ())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"given_names": "", "family_name": ""}, "the child has neither a given nor a family name"),
        ({"given_names": "Unknown", "family_name": "NK"}, "neither a given nor a family name"),
        ({"birth_date": "2026-12-02"},
         r"birth_date 2026-12-02 is in the future \(today is 2026-12-01\)"),
        ({"birth_date": "unknown"}, "birth_date 'unknown' is not a date of the form YYYY-MM-DD"),
    ],
)  # fmt: skip
def test_malformed_is_still_refused(changes: dict[str, str], message: str) -> None:
    with pytest.raises(SchemaInvalid, match=message):
        read_child({**CHILD, **changes}, today=date(2026, 12, 1))


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("DD/MM/YYYY", "14/03/2015", date(2015, 3, 14)),
        ("DD/MM/YYYY", "4/3/2015", date(2015, 3, 4)),
        ("MM-DD-YYYY", "03-14-2015", date(2015, 3, 14)),
        ("YYYY.MM.DD", " 2015.03.14 ", date(2015, 3, 14)),
        ("YYYY-MM-DD", "2015-03-14", date(2015, 3, 14)),
    ],
)
def test_date_formats_read_their_dates(pattern: str, text: str, expected: date) -> None:
    assert DateFormat(pattern).parse(text, "birth_date") == expected


@pytest.mark.parametrize(
    ("pattern", "text", "message"),
    [
        ("DD/MM/YYYY", "2015-03-14", "birth_date '2015-03-14' is not a date of the form DD/"),
        ("DD/MM/YYYY", "30/02/2015", "birth_date '30/02/2015' is not a calendar date"),
        ("DD/MM/YYYY", "14/03/2015 00:00", "is not a date of the form DD/MM/YYYY"),
    ],
)  # fmt: skip
def test_date_formats_refuse_other_dates(pattern: str, text: str, message: str) -> None:
    with pytest.raises(SchemaInvalid, match=message):
        DateFormat(pattern).parse(text, "birth_date")


@pytest.mark.parametrize(
    "pattern", ["DD/MM/YY", "DD/MM", "YYYY-MM-DD-DD", "DD:MM:YYYY", "%d/%m/%Y"]
)
def test_a_date_format_must_be_unambiguous(pattern: str) -> None:
    with pytest.raises(SchemaInvalid, match=r"must hold YYYY, MM and DD once each.*DD/MM/YYYY"):
        DateFormat(pattern)


def test_involvement_dates_follow_the_format() -> None:
    involvement = involvement_from_fields(
        {**INVOLVEMENT, "start_date": "01/01/2024", "end_date": "30/06/2024"},
        dates=DateFormat("DD/MM/YYYY"),
    )
    assert (involvement.start_date, involvement.end_date) == (date(2024, 1, 1), date(2024, 6, 30))


def test_involvement_fields_are_parsed() -> None:
    involvement = involvement_from_fields(INVOLVEMENT)
    assert involvement.caf is True
    assert involvement.lead_professional is False
    assert involvement.end_date == date(2024, 6, 30)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"agency": "school"}, "agency 'school' is not one of social-care"),
        ({"category": "secret"}, "category 'secret' is not one of identity"),
        ({"status": "pending"}, "status 'pending' must be open or closed"),
        ({"end_date": "2023-01-01"}, "end_date 2023-01-01 is before start_date 2024-01-01"),
        ({"status": "open"}, "an open involvement cannot have an end_date"),
        ({"caf": "maybe"}, "caf 'maybe' must be true or false"),
        ({"practitioner_email": "ann"}, "practitioner_email 'ann' is not an e-mail address"),
        ({"practitioner_phone": "call me"}, "practitioner_phone 'call me' is not a phone"),
        ({"service": " "}, "service is empty"),
    ],
)
def test_bad_involvement_field_is_named(changes: dict[str, str], message: str) -> None:
    with pytest.raises(SchemaInvalid, match=message):
        involvement_from_fields({**INVOLVEMENT, **changes})


def test_subject_with_name_and_birth_date() -> None:
    subject = Subject.create(
        given_names=["Amara"],
        family_name="Okafor",
        birth_date=date(2015, 3, 14),
        sex="unknown",
        postcode="se15 4qs",
    )
    assert subject.sex is None
    assert subject.postcode == "SE15 4QS"


def test_subject_with_identifier_only() -> None:
    subject = Subject.create(nhs_number=VALID_NHS)
    assert subject.nhs_number == VALID_NHS
    assert subject.given_names == ()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"nhs_number": "9434765918"}, "NHSNumber '9434765918' is not a valid NHS number"),
        ({"upn": "B00000000000A"}, "UPN 'B00000000000A' is not a valid UPN"),
        ({"given_names": ["Amara"], "family_name": "Okafor"}, "needs an NHS number or UPN"),
        ({"family_name": "Okafor", "birth_date": date(2015, 1, 1)}, "needs an NHS number"),
        (
            {
                "given_names": ["Amara"],
                "family_name": "Okafor",
                "birth_date": date(2015, 1, 1),
                "birth_range": (date(2015, 1, 1), date(2015, 2, 1)),
            },
            "either a birth date or a birth date range, not both",
        ),
        (
            {
                "given_names": ["Amara"],
                "family_name": "Okafor",
                "birth_range": (date(2015, 2, 1), date(2015, 1, 1)),
            },
            "starts 2015-02-01 after it ends 2015-01-01",
        ),
        (
            {
                "given_names": ["Amara"],
                "family_name": "Okafor",
                "birth_range": (date(2010, 1, 1), date(2015, 1, 1)),
            },
            f"wider than {MAX_BIRTH_RANGE_DAYS} days",
        ),
        ({"nhs_number": VALID_NHS, "given_names": ["A"] * 6}, "at most 5 given names"),
        ({"nhs_number": VALID_NHS, "postcode": "nowhere"}, "Postcode 'nowhere' is not"),
        ({"nhs_number": VALID_NHS, "sex": "robot"}, "Sex 'robot' must be one of"),
    ],
)
def test_subject_refuses(arguments: SubjectFields, message: str) -> None:
    with pytest.raises(SchemaInvalid, match=message):
        Subject.create(**arguments)
