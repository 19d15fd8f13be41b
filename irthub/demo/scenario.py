"""The demo's story: children planted in borough indexes and the questions asked about them.

A Lambeth social worker, during a section 47 enquiry, asks all of London
about four children:

- Amara Okafor, known to Southwark (social care, and CAMHS — a sensitive
  category) and to Croydon (education welfare);
- Zebedee Quill, known nowhere;
- Mohammed Ahmed, where Lewisham holds two children of that name born the
  same day in different streets, and so can only say which extra traits
  would decide;
- and, for every query, Bromley's node is down and Wandsworth's answers
  too slowly for the deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from adapters.client.knownto import ChildQuery
from adapters.index.fields import LocalId
from adapters.index.model import ChildRecord, Involvement
from hub.identifiers import AuthorityCode

__all__ = [
    "DOWN",
    "PLANTED",
    "QUERIES",
    "REQUESTER",
    "SLOW",
    "DemoQuery",
]

REQUESTER: Final = AuthorityCode("E09000022")
"""Lambeth asks."""
DOWN: Final = AuthorityCode("E09000006")
"""Bromley's node is not started."""
SLOW: Final = AuthorityCode("E09000032")
"""Wandsworth's node answers after the deadline."""
SOUTHWARK: Final = AuthorityCode("E09000028")
CROYDON: Final = AuthorityCode("E09000008")
LEWISHAM: Final = AuthorityCode("E09000023")


@dataclass(frozen=True, slots=True)
class DemoQuery:
    """One example query and what the demo expects of it."""

    title: str
    child: ChildQuery
    expected: str


def _child(local_id: str, given: str, family: str, born: date, sex: str, postcode: str,
           nhs: str | None = None) -> ChildRecord:  # fmt: skip
    return ChildRecord(
        local_id=LocalId(local_id),
        given_names=(given,),
        family_name=family,
        other_names=(),
        birth_date=born,
        sex=sex,  # type: ignore[arg-type]
        postcode=postcode,
        address=None,
        nhs_number=nhs,
        upn=None,
    )


def _involvement(local_id: str, agency: str, service: str, category: str, name: str,
                 role: str, phone: str, email: str, start: date) -> Involvement:  # fmt: skip
    return Involvement(
        local_id=LocalId(local_id),
        agency=agency,
        service=service,
        category=category,
        status="open",
        start_date=start,
        end_date=None,
        lead_professional=agency == "social-care",
        caf=False,
        practitioner_name=name,
        practitioner_role=role,
        practitioner_phone=phone,
        practitioner_email=email,
    )


_AMARA_BORN: Final = date(2015, 3, 14)
_AHMED_BORN: Final = date(2016, 5, 2)

PLANTED: Final[dict[AuthorityCode, tuple[list[ChildRecord], list[Involvement]]]] = {
    SOUTHWARK: (
        [_child("SWK-DEMO-1", "Amara", "Okafor", _AMARA_BORN, "female", "SE15 4QN", "9434765919")],
        [
            _involvement("SWK-DEMO-1", "social-care", "Family Support Team", "involvement",
                         "Priya Raman", "Senior Social Worker", "020 7946 0101",
                         "priya.raman@southwark.example", date(2026, 6, 2)),
            _involvement("SWK-DEMO-1", "health", "CAMHS Southwark", "mental-health",
                         "Dr Tom Hale", "Clinical Psychologist", "020 7946 0102",
                         "tom.hale@southwark.example", date(2026, 7, 20)),
        ],
    ),
    CROYDON: (
        [_child("CRO-DEMO-7", "Amara", "Okafor", _AMARA_BORN, "female", "CR0 2AB")],
        [
            _involvement("CRO-DEMO-7", "education", "Education Welfare Service", "involvement",
                         "Grace Mensah", "Education Welfare Officer", "020 7946 0103",
                         "grace.mensah@croydon.example", date(2025, 11, 10)),
        ],
    ),
    LEWISHAM: (
        [
            _child("LEW-DEMO-3", "Mohammed", "Ahmed", _AHMED_BORN, "male", "SE13 6AA"),
            _child("LEW-DEMO-4", "Mohammed", "Ahmed", _AHMED_BORN, "male", "SE6 4XR"),
        ],
        [],
    ),
}  # fmt: skip
"""Records added to the synthetic index of each named borough."""

QUERIES: Final = (
    DemoQuery(
        "A child known in two other boroughs",
        ChildQuery(("Amara",), "Okafor", _AMARA_BORN, "female", level="contacts"),
        "known to Southwark and Croydon, with what each ISP lets Lambeth see",
    ),
    DemoQuery(
        "A child known nowhere",
        ChildQuery(("Zebedee",), "Quill", date(2012, 1, 1), "male", level="agencies"),
        "not-known everywhere that answers",
    ),
    DemoQuery(
        "An ambiguous child",
        ChildQuery(("Mohammed",), "Ahmed", _AHMED_BORN, level="agencies"),
        "ambiguous in Lewisham: no records, only the traits that would decide",
    ),
)
