"""From scored candidates to a known-to answer: known, not-known or ambiguous (SPEC §6).

Steps:

1. An identifier both sides hold and agree on outranks the scorer: one
   record with the query's NHS number is ``known``; several (a duplicated
   record) are ``ambiguous``. A UPN decides the same way, unless that
   record's NHS number contradicts the query's. But an identifier is never
   ``known`` on its own against contradicting traits: when the record's
   names and birth date, taken together, say another child (their points sum
   below zero, ``conflicting``), the answer is ``ambiguous`` and names the
   identifier and the traits that contradict it, since either the query
   carries a mistyped number or the record a wrong one.
2. Otherwise candidates scoring at least ``REVIEW_THRESHOLD`` are plausible.
   None: ``not-known``. The best one is ``known`` when it reaches
   ``MATCH_THRESHOLD``, no other plausible candidate comes within
   ``AMBIGUITY_MARGIN`` of it, its given name does not disagree outright
   with the query's (a twin shares every other trait: ``Score.given_disagrees``),
   and, if it is a partial record (no birth date, no given name or no family
   name), the query agrees with it on where the child lives too
   (``corroborated``).
3. Anything else is ``ambiguous``: two or more candidates too close to tell
   apart, one in the grey zone between the thresholds, or a partial record
   that agrees on names (and perhaps a birth date) alone. An ambiguous
   answer carries no record, only the traits that would decide: those on
   which the candidates differ (identifiers first), or, for one grey-zone
   candidate, those it holds and the query did not give.

The thresholds are in the points of ``adapters.matching.scoring``; see each
constant for why it sits where it does. ``bench/matching.py`` measures them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from adapters.index.model import ChildRecord, Involvement, Subject
from adapters.index.normalise import fold
from adapters.matching.scoring import Score

__all__ = [
    "AMBIGUITY_MARGIN",
    "MATCH_THRESHOLD",
    "REVIEW_THRESHOLD",
    "TRAITS",
    "MatchResult",
    "MatchStatus",
    "ScoredCandidate",
    "Thresholds",
    "conflicting",
    "corroborated",
    "decide",
    "is_partial",
]

MATCH_THRESHOLD: Final = 9.0
"""A record is ``known`` from here. Names shared by one child in a thousand
earn about 5 points each and an exact birth date 6, so such a child found
by name and birth date scores 16; with the commonest names (2-3 points each)
and an exact date about 12. A same-named stranger born a digit away (2
points) reaches 9 only when the names are rare or other traits agree. Set on
the synthetic benchmark as the lowest threshold keeping precision above
0.997 (4,000 queries against 100,000 children)."""
REVIEW_THRESHOLD: Final = 6.5
"""Below this a candidate is not plausible: it disagrees on a birth date or
a whole name that the other traits cannot make up for. Lowered from 7 on
FEBRL 1-3 (``bench/matching_febrl.py``), where exact names at the same
address and postcode with a wholly different birth date (6.8-6.9 points)
are the same person more often than not: worth a closer look."""
AMBIGUITY_MARGIN: Final = 2.0
"""A runner-up within this of the best makes the answer ambiguous: less than
a near birth date's worth of evidence separates them (an exact date beats a
day/month swap by 2.5)."""

MatchStatus = Literal["known", "not-known", "ambiguous"]
TRAITS: Final = (
    "NHSNumber",
    "UPN",
    "BirthDate",
    "GivenName",
    "FamilyName",
    "OtherName",
    "Sex",
    "Postcode",
    "Address",
)
"""Trait names (``kt:Trait``) in the order deciding traits are listed: most decisive first."""


@dataclass(frozen=True, slots=True)
class ScoredCandidate:
    """A record and its score against one query. Local diagnostics only: never sent."""

    record: ChildRecord
    score: Score


@dataclass(frozen=True, slots=True)
class MatchResult:
    """A node's answer to one query, holding only what that answer may disclose.

    ``known`` carries the one record and its involvements (the responder
    filters them by the granted level); ``ambiguous`` carries only
    ``deciding_traits``; ``not-known`` carries nothing.
    """

    status: MatchStatus
    record: ChildRecord | None = None
    involvements: tuple[Involvement, ...] = ()
    deciding_traits: tuple[str, ...] = ()
    decided_by: str = ""
    """Why: ``NHSNumber``, ``UPN`` or ``score 15.5``; for the local audit trail."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The points that turn scores into answers; the defaults are the constants above.
    Benchmarks sweep them to draw precision–recall curves (``bench/matching_febrl.py``)."""

    match: float = MATCH_THRESHOLD
    review: float = REVIEW_THRESHOLD
    margin: float = AMBIGUITY_MARGIN


def decide(
    subject: Subject, ranked: Sequence[ScoredCandidate], thresholds: Thresholds = Thresholds()
) -> MatchResult:
    """Turn candidates, best first, into an answer (steps in the module docstring)."""
    # (1) identifiers decide
    for trait in ("NHSNumber", "UPN"):
        agreeing = _distinct([c for c in ranked if _identified_by(c, trait)])
        if len(agreeing) == 1 and (conflict := conflicting(agreeing[0])):
            return MatchResult(
                "ambiguous",
                deciding_traits=(trait, *conflict),
                decided_by=f"{trait} conflicts with {', '.join(conflict)}",
            )
        if len(agreeing) == 1:
            return MatchResult("known", record=agreeing[0].record, decided_by=trait)
        if agreeing:
            return _ambiguous(subject, agreeing, trait)
    # (2) plausible candidates by score
    plausible = _distinct([c for c in ranked if c.score.total >= thresholds.review])
    if not plausible:
        return MatchResult("not-known")
    plausible.sort(key=lambda c: -c.score.total)
    best = plausible[0]
    rivals = [c for c in plausible[1:] if best.score.total - c.score.total < thresholds.margin]
    if (
        best.score.total >= thresholds.match
        and not rivals
        and corroborated(best)
        and not best.score.given_disagrees
    ):
        return MatchResult("known", record=best.record, decided_by=f"score {best.score.total:.1f}")
    # (3) too close to call, or in the grey zone
    return _ambiguous(subject, [best, *rivals], f"score {best.score.total:.1f}")


def is_partial(record: ChildRecord) -> bool:
    """A record without a birth date, a given name or a family name."""
    return record.birth_date is None or not record.given_names or record.family_name is None


def corroborated(candidate: ScoredCandidate) -> bool:
    """May this candidate be ``known`` by score? Always for a complete record; for a
    partial one only when the full postcode or the address agrees as well.

    A complete record reaching ``MATCH_THRESHOLD`` agrees on names and a birth
    date, which together single out one child in a borough. A partial record
    lacks one of the three, and its names alone may be shared by another
    child (siblings share a family name; a name without a birth date is
    shared by the children of every year): so a name match with it is at
    most ``ambiguous`` unless the query also places the child at its
    address. An identifier (step 1) decides for partial records as for any.
    """
    if not is_partial(candidate.record):
        return True
    return any(
        (e.trait == "Postcode" and e.outcome == "full")
        or (e.trait == "Address" and e.outcome == "same")
        for e in candidate.score.evidence
    )


def conflicting(candidate: ScoredCandidate) -> tuple[str, ...]:
    """The traits that contradict an agreeing identifier, most decisive first; empty
    when there is no conflict.

    A conflict is the name and birth date evidence (everything but the
    identifiers) summing below zero: an NHS number held by a child of
    another name and birth date. A single slip (a wrong birth date with the
    names right, a changed surname with the date right) sums above zero and
    is no conflict.
    """
    evidence = [e for e in candidate.score.evidence if e.trait not in ("NHSNumber", "UPN")]
    if sum(e.points for e in evidence) >= 0:
        return ()
    against = {e.trait for e in evidence if e.points < 0}
    return tuple(t for t in TRAITS if t in against)


def _identified_by(candidate: ScoredCandidate, trait: str) -> bool:
    if trait == "NHSNumber":
        return candidate.score.identifier == "NHSNumber"
    contradicted = any(
        e.trait == "NHSNumber" and e.outcome == "different" for e in candidate.score.evidence
    )
    return candidate.score.identifier == "UPN" and not contradicted


def _distinct(candidates: list[ScoredCandidate]) -> list[ScoredCandidate]:
    seen: set[str] = set()
    unique = []
    for candidate in candidates:
        if candidate.record.local_id not in seen:
            seen.add(candidate.record.local_id)
            unique.append(candidate)
    return unique


def _ambiguous(subject: Subject, candidates: list[ScoredCandidate], why: str) -> MatchResult:
    records = [c.record for c in candidates]
    if len(records) == 1:
        traits = [t for t in TRAITS if _asked(subject, t) is None and _held(records[0], t)]
    else:
        traits = [t for t in TRAITS if len({_value(r, t) for r in records}) > 1]
    return MatchResult("ambiguous", deciding_traits=tuple(traits), decided_by=why)


_VALUES: Final[dict[str, Callable[[ChildRecord], object]]] = {
    "NHSNumber": lambda r: r.nhs_number,
    "UPN": lambda r: r.upn,
    "BirthDate": lambda r: r.birth_date,
    "GivenName": lambda r: tuple(fold(n) for n in r.given_names),
    "FamilyName": lambda r: None if r.family_name is None else fold(r.family_name),
    "OtherName": lambda r: tuple(fold(n) for n in r.other_names),
    "Sex": lambda r: r.sex if r.sex in ("female", "male") else None,
    "Postcode": lambda r: r.postcode,
    "Address": lambda r: None if r.address is None else fold(r.address),
}


def _value(record: ChildRecord, trait: str) -> object:
    return _VALUES[trait](record)


def _held(record: ChildRecord, trait: str) -> bool:
    value = _value(record, trait)
    return value is not None and value != ()


def _asked(subject: Subject, trait: str) -> object:
    """The query's value for a trait; a birth date range counts as not given."""
    asked: dict[str, object] = {
        "NHSNumber": subject.nhs_number,
        "UPN": subject.upn,
        "BirthDate": subject.birth_date,
        "GivenName": subject.given_names or None,
        "FamilyName": subject.family_name,
        "OtherName": subject.other_names or None,
        "Sex": subject.sex,
        "Postcode": subject.postcode,
        "Address": subject.address,
    }
    return asked[trait]
