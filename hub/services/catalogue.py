"""A borough's service catalogue (SPEC §6.6) as typed objects.

``parse_catalogue`` reads a schema-valid ``d:ServiceCatalogue`` body and
checks the rules directory.xsd cannot say:

(1) ``Authority`` is the authority that signed and sent the catalogue;
(2) service IDs are unique within the catalogue;
(3) each ``AgeRange`` has ``Min`` not above ``Max``.

A ``Service`` keeps its ``d:Service`` element exactly as published, so a
search result shows the service in the publisher's own words.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, NewType

from lxml import etree

from hub.envelope import parse_time
from hub.errors import SchemaInvalid, SenderMismatch
from hub.identifiers import AuthorityCode, parse_authority

__all__ = [
    "DIRECTORY_NS",
    "SERVICE_TYPES",
    "Catalogue",
    "Service",
    "ServiceId",
    "parse_catalogue",
    "read_service",
]

DIRECTORY_NS: Final = "urn:lcpc:irt:directory:1"
_D: Final = f"{{{DIRECTORY_NS}}}"

ServiceId = NewType("ServiceId", str)
"""A service's identifier, unique within its authority's catalogue."""

SERVICE_TYPES: Final = (
    "camhs",
    "family-support",
    "youth-service",
    "domestic-abuse",
    "parenting",
    "substance-misuse",
    "early-help-hub",
    "mash",
    "send-support",
    "young-carers",
    "sexual-health",
    "youth-justice-service",
    "other",
)
"""directory.xsd ``ServiceType``, in schema order."""


@dataclass(frozen=True, slots=True)
class Service:
    """One service a child from another authority can be referred to."""

    authority: AuthorityCode
    """The publishing authority, which receives referrals to the service."""
    id: ServiceId
    name: str
    type: str
    agency: str
    min_age: int
    max_age: int
    concern_levels: frozenset[int]
    categories: frozenset[str]
    criteria: tuple[str, ...]
    """Free-text eligibility criteria, for the practitioner to read."""
    residence_required: frozenset[AuthorityCode]
    """Only children resident in these authorities; empty when unrestricted."""
    served: frozenset[AuthorityCode] | None
    """The authorities whose children the service works with; ``None`` for all London."""
    open: bool
    waiting_weeks: int | None
    consent_required: bool
    notes: str | None
    element: etree._Element = field(compare=False, repr=False)
    """The ``d:Service`` element as published."""

    def serves_resident_of(self, authority: AuthorityCode) -> bool:
        """True when a child living in ``authority`` is within the service's geography."""
        if self.served is not None and authority not in self.served:
            return False
        return not self.residence_required or authority in self.residence_required

    def published_element(self) -> etree._Element:
        """A copy of the ``d:Service`` element, safe to append elsewhere."""
        return copy.deepcopy(self.element)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """An authority's complete catalogue; it replaces the previous one."""

    authority: AuthorityCode
    published: datetime
    services: tuple[Service, ...]

    def service(self, service_id: str) -> Service | None:
        """The service with ``service_id``, if the catalogue lists it."""
        return next((s for s in self.services if s.id == service_id), None)


def parse_catalogue(body: etree._Element, *, sender: AuthorityCode) -> Catalogue:
    """Read a schema-valid ``d:ServiceCatalogue`` sent by ``sender``.

    Raises ``SenderMismatch`` when the catalogue speaks for another
    authority and ``SchemaInvalid`` for duplicate IDs or an inverted age range.
    """
    authority = parse_authority(_text(body, "Authority"))
    if authority != sender:  # (1)
        raise SenderMismatch(f"{sender} cannot publish the service catalogue of {authority}")
    services = tuple(read_service(e, authority) for e in body.iterfind(_D + "Service"))
    seen: set[str] = set()
    for service in services:  # (2)
        if service.id in seen:
            raise SchemaInvalid(f"service ID {service.id!r} appears twice in the catalogue")
        seen.add(service.id)
    return Catalogue(
        authority=authority, published=parse_time(_text(body, "Published")), services=services
    )


def read_service(element: etree._Element, authority: AuthorityCode) -> Service:
    """Read one schema-valid ``d:Service``; raise ``SchemaInvalid`` on an inverted age range."""
    service_id = ServiceId(_text(element, "ID"))
    min_age = int(_text(element, "AgeRange/d:Min"))
    max_age = int(_text(element, "AgeRange/d:Max"))
    if min_age > max_age:  # (3)
        raise SchemaInvalid(f"service {service_id}: AgeRange Min {min_age} is above Max {max_age}")
    served_text = _text(element, "Geography/d:AuthoritiesServed").split()
    waiting = element.findtext(f"{_D}Capacity/{_D}WaitingWeeks")
    return Service(
        authority=authority,
        id=service_id,
        name=_text(element, "Name"),
        type=_text(element, "Type"),
        agency=_text(element, "Agency"),
        min_age=min_age,
        max_age=max_age,
        concern_levels=frozenset(int(v) for v in _text(element, "ConcernLevels").split()),
        categories=frozenset(_text(element, "Categories").split()),
        criteria=tuple(
            (c.text or "").strip() for c in element.iterfind(f"{_D}Eligibility/{_D}Criteria")
        ),
        residence_required=frozenset(
            parse_authority(code)
            for code in (element.findtext(f"{_D}Eligibility/{_D}ResidenceRequired") or "").split()
        ),
        served=None
        if served_text == ["london"]
        else frozenset(parse_authority(c) for c in served_text),
        open=_boolean(_text(element, "Capacity/d:Open")),
        waiting_weeks=int(waiting) if waiting is not None else None,
        consent_required=_boolean(_text(element, "ReferralRequirements/d:ConsentRequired")),
        notes=element.findtext(f"{_D}ReferralRequirements/{_D}Notes"),
        element=copy.deepcopy(element),
    )


def _text(element: etree._Element, path: str) -> str:
    found = element.find("d:" + path, namespaces={"d": DIRECTORY_NS})
    if found is None or found.text is None:
        raise SchemaInvalid(f"{etree.QName(element).localname} has no {path.replace('d:', '')}")
    return found.text.strip()


def _boolean(text: str) -> bool:
    # xs:boolean allows 1 and 0 as well as the words
    return text in ("true", "1")
