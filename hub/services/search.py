"""Finding services across London: ``ServiceSearch`` in, ranked matches out (SPEC §6).

Every criterion of a search is optional; the given ones must all hold
(several types or categories match any of them):

(1) ``Type``: the service is of one of the types;
(2) ``Age``: the age lies in the service's range;
(3) ``Category``: the service works with one of the categories;
(4) ``ConcernLevel``: the service takes that level;
(5) ``Authority``: a child living there is within the service's geography
    and residence requirement;
(6) ``Text``: every word of the text is found, allowing for misspellings
    (rapidfuzz), among the words of the name, type, criteria and notes, well
    enough to reach ``TEXT_THRESHOLD`` (see ``ServiceQuery.text_score``).

The score is that text match from 0 to 1, or 1 when no text was given.
Matches are ranked by score, then open before closed, fresh before stale,
services of the child's own authority first, shorter waits, and name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from lxml import etree
from rapidfuzz import fuzz, process, utils

from hub.identifiers import AuthorityCode, parse_authority
from hub.services.catalogue import DIRECTORY_NS, Catalogue, Service

__all__ = [
    "DEFAULT_MAX_RESULTS",
    "MAX_RESULTS",
    "TEXT_THRESHOLD",
    "Match",
    "ServiceQuery",
    "result_body",
    "search",
]

MAX_RESULTS: Final = 100
"""directory.xsd caps ``MaxResults`` and ``Match`` at 100."""
DEFAULT_MAX_RESULTS: Final = 20
"""Matches returned when the search does not say: one screen for a practitioner."""
TEXT_THRESHOLD: Final = 0.8
"""Weakest text match listed: every word found scores 1.0, one misspelt word
("self harn") about 0.81; a word of two that is only roughly like one in the
text ("sexual" for "severe") about 0.75, and one missing about 0.55: out."""
_PREFIX_MIN: Final = 3
"""Shortest word that may match as the beginning of a longer one."""

_D: Final = f"{{{DIRECTORY_NS}}}"


@dataclass(frozen=True, slots=True)
class ServiceQuery:
    """A ``d:ServiceSearch``: what the practitioner is looking for."""

    types: frozenset[str] = frozenset()
    age: int | None = None
    categories: frozenset[str] = frozenset()
    concern_level: int | None = None
    authority: AuthorityCode | None = None
    """The child's authority of residence."""
    text: str | None = None
    max_results: int = DEFAULT_MAX_RESULTS

    @classmethod
    def from_element(cls, body: etree._Element) -> ServiceQuery:
        """Read a schema-valid ``d:ServiceSearch`` body."""
        age = body.findtext(_D + "Age")
        level = body.findtext(_D + "ConcernLevel")
        authority = body.findtext(_D + "Authority")
        limit = body.findtext(_D + "MaxResults")
        return cls(
            types=frozenset(t.text or "" for t in body.iterfind(_D + "Type")),
            age=int(age) if age is not None else None,
            categories=frozenset(c.text or "" for c in body.iterfind(_D + "Category")),
            concern_level=int(level) if level is not None else None,
            authority=parse_authority(authority) if authority is not None else None,
            text=body.findtext(_D + "Text"),
            max_results=min(int(limit), MAX_RESULTS) if limit is not None else DEFAULT_MAX_RESULTS,
        )

    def body(self) -> etree._Element:
        """This query as a ``d:ServiceSearch`` element, in schema order."""
        body = etree.Element(_D + "ServiceSearch", nsmap={"d": DIRECTORY_NS})
        for kind in sorted(self.types):
            etree.SubElement(body, _D + "Type").text = kind
        if self.age is not None:
            etree.SubElement(body, _D + "Age").text = str(self.age)
        for category in sorted(self.categories):
            etree.SubElement(body, _D + "Category").text = category
        for name, value in (
            ("ConcernLevel", self.concern_level),
            ("Authority", self.authority),
            ("Text", self.text),
            ("MaxResults", self.max_results),
        ):
            if value is not None:
                etree.SubElement(body, _D + name).text = str(value)
        return body

    def admits(self, service: Service) -> bool:
        """Criteria (1)-(5): everything but the text."""
        return (
            (not self.types or service.type in self.types)
            and (self.age is None or service.min_age <= self.age <= service.max_age)
            and (not self.categories or bool(self.categories & service.categories))
            and (self.concern_level is None or self.concern_level in service.concern_levels)
            and (self.authority is None or service.serves_resident_of(self.authority))
        )

    def text_score(self, service: Service) -> float:
        """Criterion (6): how well the text matches, 0 to 1 (1 without text).

        Each word of the text is matched to the closest word of the service's
        name, type, criteria and notes (rapidfuzz ``ratio``; a word that begins
        a longer one counts as found, so "adol" finds "adolescent"); the score
        is the mean of the word scores averaged with the weakest, so that every
        word must be found somewhere for a match to rank high.
        """
        words = _words(self.text or "")
        if not words:
            return 1.0
        vocabulary = _vocabulary(service)
        best = [_closest(word, vocabulary) for word in words]
        return round((sum(best) / len(best) + min(best)) / 200, 3)


def _words(text: str) -> list[str]:
    return [w for w in utils.default_process(text).split() if w]


def _vocabulary(service: Service) -> frozenset[str]:
    fields = (service.name, service.type, *service.criteria, service.notes or "")
    return frozenset(word for text in fields for word in _words(text))


def _closest(word: str, vocabulary: frozenset[str]) -> float:
    if len(word) >= _PREFIX_MIN and any(v.startswith(word) for v in vocabulary):
        return 100.0
    found = process.extractOne(word, vocabulary, scorer=fuzz.ratio)
    return float(found[1]) if found is not None else 0.0


@dataclass(frozen=True, slots=True)
class Match:
    """One service found, with its score and whether its catalogue is stale."""

    service: Service
    score: float
    stale: bool


def search(
    catalogues: Iterable[Catalogue],
    query: ServiceQuery,
    *,
    now: datetime,
    stale_after: timedelta,
) -> list[Match]:
    """The services of ``catalogues`` that ``query`` admits, best first, at most ``max_results``.

    A catalogue published more than ``stale_after`` before ``now`` is stale:
    its services are still listed, flagged, and ranked below fresh ones.
    """
    matches = []
    for catalogue in catalogues:
        stale = now - catalogue.published > stale_after
        for service in catalogue.services:
            if not query.admits(service):
                continue
            score = query.text_score(service)
            if score >= TEXT_THRESHOLD:
                matches.append(Match(service, score, stale))
    matches.sort(key=lambda m: _rank(m, query.authority))
    return matches[: query.max_results]


def _rank(match: Match, home: AuthorityCode | None) -> tuple[object, ...]:
    service = match.service
    waiting = service.waiting_weeks if service.waiting_weeks is not None else 0
    return (
        -match.score,
        not service.open,
        match.stale,
        service.authority != home,
        waiting,
        service.name,
        service.authority,
    )


def result_body(matches: Iterable[Match]) -> etree._Element:
    """A ``d:ServiceSearchResult`` with one ``d:Match`` per match, in order."""
    body = etree.Element(_D + "ServiceSearchResult", nsmap={"d": DIRECTORY_NS})
    for match in matches:
        entry = etree.SubElement(
            body,
            _D + "Match",
            authority=match.service.authority,
            score=f"{match.score:.3f}",
        )
        entry.append(match.service.published_element())
        etree.SubElement(entry, _D + "Stale").text = "true" if match.stale else "false"
    return body
