"""Writing a ``KnownToResponse`` that discloses no more than the grant allows.

The node redacts to the grant it receives (SPEC §7): involvements only from
``agencies`` up and only in granted categories, each field only at its level
(``hub.disclosure.FIELD_LEVELS``). An ambiguous answer carries no record,
only the traits that would decide.
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from adapters.index.model import Involvement
from adapters.matching.decision import MatchResult
from hub.disclosure import KNOWNTO_NS, Grant, allowed_fields, level_rank

__all__ = ["response_body"]

_K: Final = f"{{{KNOWNTO_NS}}}"
MAX_INVOLVEMENTS: Final = 50
"""knownto.xsd allows 50 involvements; the most recent are kept beyond that."""


def response_body(result: MatchResult, grant: Grant) -> etree._Element:
    """The ``kt:KnownToResponse`` for ``result`` under ``grant``."""
    body = etree.Element(_K + "KnownToResponse", nsmap={"kt": KNOWNTO_NS})
    etree.SubElement(body, _K + "Status").text = result.status
    if result.status == "known" and level_rank(grant.level) >= level_rank("agencies"):
        allowed = allowed_fields(grant)
        shown = [i for i in result.involvements if i.category in grant.categories]
        shown.sort(key=lambda i: (i.start_date is None, i.start_date), reverse=True)
        for involvement in shown[:MAX_INVOLVEMENTS]:
            body.append(_involvement(involvement, allowed))
    if result.status == "ambiguous" and result.deciding_traits:
        etree.SubElement(body, _K + "DecidingTraits").text = " ".join(result.deciding_traits)
    if result.status == "known" and result.record is not None:
        etree.SubElement(body, _K + "LocalReference").text = result.record.local_id
    return body


def _involvement(involvement: Involvement, allowed: frozenset[str]) -> etree._Element:
    element = etree.Element(_K + "Involvement")
    values = (
        ("AgencyType", involvement.agency),
        ("ServiceName", involvement.service),
        ("Category", involvement.category),
        ("Status", involvement.status),
        ("PractitionerName", involvement.practitioner_name),
        ("PractitionerRole", involvement.practitioner_role),
        ("PractitionerPhone", involvement.practitioner_phone),
        ("PractitionerEmail", involvement.practitioner_email),
        ("StartDate", _iso(involvement.start_date)),
        ("EndDate", _iso(involvement.end_date)),
        ("LeadProfessional", _boolean(involvement.lead_professional)),
        ("CAFIndicator", _boolean(involvement.caf)),
    )
    for name, value in values:
        if value is not None and name in allowed:
            etree.SubElement(element, _K + name).text = value
    return element


def _iso(value: object) -> str | None:
    return None if value is None else str(value)


def _boolean(value: bool) -> str:
    return "true" if value else "false"
