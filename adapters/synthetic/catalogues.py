"""Synthetic, reproducible service catalogues: what each demo borough offers across borders.

Every borough gets the services London children's services commonly run,
named after the borough, with its own waiting times, contact numbers and a
few services closed to new referrals. Geography follows how such services
are really organised:

- CAMHS and domestic abuse services are commissioned across a cluster, so
  they take residents of the borough and its neighbours;
- parenting programmes take neighbours' residents when they have places;
- youth services and young carers' projects are open to any London child;
- family support, early help, youth justice, SEND advice and substance
  misuse services take the borough's own residents only.

``demo_catalogue`` returns a schema-valid, unsigned ``d:ServiceCatalogue``;
the node signs it when it publishes. Nothing here describes a real service.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

from lxml import etree

from adapters.synthetic.tables import borough
from hub.directory.model import Directory, default_directory
from hub.envelope import format_time
from hub.identifiers import AuthorityCode
from hub.services.catalogue import DIRECTORY_NS

__all__ = ["TEMPLATES", "ServiceTemplate", "demo_catalogue", "write_demo_catalogue"]

_D: Final = f"{{{DIRECTORY_NS}}}"
Reach = Literal["own", "neighbours", "london"]


@dataclass(frozen=True, slots=True)
class ServiceTemplate:
    """One kind of service, instantiated per borough."""

    key: str
    name: str
    """With ``{borough}`` for the borough's name."""
    type: str
    agency: str
    ages: tuple[int, int]
    levels: str
    categories: str
    criteria: tuple[str, ...]
    reach: Reach
    consent_required: bool = True
    notes: str | None = None
    offered: float = 1.0
    """Share of boroughs that run this service."""


TEMPLATES: Final = (
    ServiceTemplate(
        "camhs", "{borough} CAMHS", "camhs", "health", (0, 18), "2 3",
        "identity involvement assessment mental-health",
        ("Moderate to severe emotional or mental health difficulties, including self-harm, "
         "anxiety, low mood and eating difficulties.",
         "Registered with a GP in {borough} or a neighbouring borough."),
        "neighbours", notes="Include any school, GP or counselling reports you hold.",
    ),
    ServiceTemplate(
        "mhst", "{borough} Mental Health Support Team in Schools", "camhs", "health", (5, 18),
        "1 2", "identity involvement mental-health",
        ("Mild to moderate anxiety or low mood; the child attends a school in {borough}.",),
        "own", offered=0.7,
    ),
    ServiceTemplate(
        "family-support", "{borough} Family Support Service", "family-support", "social-care",
        (0, 17), "1 2", "identity involvement contact assessment",
        ("Families who need help with routines, school attendance, housing or money worries.",),
        "own",
    ),
    ServiceTemplate(
        "early-help", "{borough} Early Help Hub", "early-help-hub", "early-help", (0, 18),
        "1 2", "identity involvement contact assessment",
        ("Any family with emerging needs below the threshold for statutory social care.",),
        "own",
    ),
    ServiceTemplate(
        "youth", "{borough} Youth Service", "youth-service", "early-help", (11, 19), "1 2",
        "identity involvement contact",
        ("Young people who would benefit from a trusted adult, youth clubs or mentoring.",),
        "london", consent_required=False,
    ),
    ServiceTemplate(
        "dv-children", "{borough} Children and Young People's Domestic Abuse Service",
        "domestic-abuse", "voluntary", (4, 18), "2 3",
        "identity involvement assessment domestic-abuse",
        ("Children who have lived with domestic abuse at home.",
         "The non-abusing parent is safe to engage with the service."),
        "neighbours", notes="Say whether a MARAC referral has been made.", offered=0.8,
    ),
    ServiceTemplate(
        "parenting", "{borough} Parenting Programmes", "parenting", "early-help", (0, 12),
        "1 2", "identity involvement contact",
        ("Parents and carers of children up to 12 who want help with behaviour and "
         "relationships (Incredible Years, Triple P).",),
        "neighbours",
    ),
    ServiceTemplate(
        "substance", "{borough} Young People's Substance Misuse Service", "substance-misuse",
        "health", (10, 18), "1 2 3", "identity involvement assessment substance-misuse",
        ("Young people using alcohol or drugs, or affected by a parent's use.",),
        "own",
    ),
    ServiceTemplate(
        "young-carers", "{borough} Young Carers Project", "young-carers", "voluntary", (5, 18),
        "1 2", "identity involvement contact",
        ("Caring for a parent or sibling with an illness, disability or addiction.",),
        "london", offered=0.6,
    ),
    ServiceTemplate(
        "sexual-health", "{borough} Young People's Sexual Health Clinic", "sexual-health",
        "health", (13, 24), "1 2 3", "identity involvement sexual-health",
        ("Young people needing confidential contraception, testing or advice.",),
        "london", consent_required=False, offered=0.5,
    ),
    ServiceTemplate(
        "yjs", "{borough} Youth Justice Service", "youth-justice-service", "youth-justice",
        (10, 17), "2 3", "identity involvement assessment youth-justice",
        ("Young people on an out-of-court disposal or court order, or at risk of offending.",),
        "own",
    ),
    ServiceTemplate(
        "sendiass", "{borough} SEND Information, Advice and Support Service", "send-support",
        "education", (0, 25), "1 2", "identity involvement assessment",
        ("Children and young people with special educational needs or disabilities, "
         "and their parents.",),
        "own", consent_required=False,
    ),
)  # fmt: skip


def demo_catalogue(
    code: AuthorityCode,
    *,
    published: datetime,
    seed: int = 2026,
    directory: Directory | None = None,
) -> etree._Element:
    """The synthetic ``d:ServiceCatalogue`` of ``code``; the same for the same seed."""
    directory = directory or default_directory()
    place = borough(code)
    rng = random.Random(f"{seed}:{code}")  # noqa: S311 - test data, not secrets
    catalogue = etree.Element(_D + "ServiceCatalogue", nsmap={"d": DIRECTORY_NS})
    _sub(catalogue, "Authority", code)
    _sub(catalogue, "Published", format_time(published))
    for template in TEMPLATES:
        if rng.random() >= template.offered:
            continue
        reach = _reach(template.reach, code, directory)
        catalogue.append(_service(template, place.name, place.slug, reach, rng))
    return catalogue


def write_demo_catalogue(
    code: AuthorityCode, path: Path, *, published: datetime, seed: int = 2026
) -> Path:
    """Write ``demo_catalogue(code)`` to ``path`` (UTF-8 XML) and return it."""
    element = demo_catalogue(code, published=published, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(etree.tostring(element, encoding="UTF-8", xml_declaration=True))
    return path


def _reach(kind: Reach, code: AuthorityCode, directory: Directory) -> str:
    if kind == "london":
        return "london"
    codes = {code} | (set(directory.neighbours(code)) if kind == "neighbours" else set())
    return " ".join(sorted(codes))


def _service(
    template: ServiceTemplate, name: str, slug: str, reach: str, rng: random.Random
) -> etree._Element:
    service = etree.Element(_D + "Service")
    _sub(service, "ID", f"{slug}-{template.key}")
    _sub(service, "Name", template.name.format(borough=name))
    _sub(service, "Type", template.type)
    _sub(service, "Agency", template.agency)
    ages = etree.SubElement(service, _D + "AgeRange")
    _sub(ages, "Min", str(template.ages[0]))
    _sub(ages, "Max", str(template.ages[1]))
    _sub(service, "ConcernLevels", template.levels)
    _sub(service, "Categories", template.categories)
    eligibility = etree.SubElement(service, _D + "Eligibility")
    for criterion in template.criteria:
        _sub(eligibility, "Criteria", criterion.format(borough=name))
    if reach != "london":
        _sub(eligibility, "ResidenceRequired", reach)
    _sub(etree.SubElement(service, _D + "Geography"), "AuthoritiesServed", reach)
    capacity = etree.SubElement(service, _D + "Capacity")
    _sub(capacity, "WaitingWeeks", str(rng.choice((0, 1, 2, 3, 4, 6, 8, 12, 18))))
    _sub(capacity, "Open", "false" if rng.random() < 0.05 else "true")
    requirements = etree.SubElement(service, _D + "ReferralRequirements")
    _sub(requirements, "ConsentRequired", "true" if template.consent_required else "false")
    if template.notes:
        _sub(requirements, "Notes", template.notes)
    contact = etree.SubElement(service, _D + "Contact")
    _sub(contact, "Name", f"{template.name.format(borough=name)} duty desk"[:200])
    _sub(contact, "Phone", f"020 {rng.randint(7000, 8999)} {rng.randint(1000, 9999)}")
    _sub(contact, "Email", f"{template.key}@{slug}.example.gov.uk")
    return service


def _sub(parent: etree._Element, name: str, text: str) -> None:
    etree.SubElement(parent, _D + name).text = text
