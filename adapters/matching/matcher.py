"""Matching one known-to subject against a borough's children's index.

``find`` is what a node calls for each query; ``rank`` exposes the scored
candidates behind it for local debugging (``irthub node match``) and tests.
Steps:

1. When the query carries an NHS number or UPN, the records holding it are
   fetched first. One such record, with no identifier contradicting the
   query, is the answer at once: an identifier match is a match
   (``decision`` step 1).
2. Otherwise the index returns those records and up to ``MAX_CANDIDATES``
   more sharing the most blocks with the query (``blocking``), and each is
   scored (``scoring``), agreement on rare names counting more
   (``frequency``).
3. ``decision.decide`` turns the ranked candidates into the answer; for a
   ``known`` answer the record's involvements are read.

Synchronous by design (see ``adapters.index.base``): a node runs ``find`` in a
worker thread. Raises ``InternalError`` only when the index fails.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from adapters.index.base import ChildIndex
from adapters.index.blocking import BlockingKeys, subject_keys
from adapters.index.model import Subject
from adapters.matching.decision import MatchResult, ScoredCandidate, decide
from adapters.matching.scoring import Query, score

__all__ = ["MAX_CANDIDATES", "find", "rank"]

MAX_CANDIDATES: Final = 60
"""Records scored per query beyond those sharing an identifier. The true
record shares far more blocks with a query than a stranger does, so it ranks
near the top of the index's answer; sixty leaves room for a large family of
same-named children and keeps scoring within a couple of milliseconds."""


def find(subject: Subject, *, index: ChildIndex) -> MatchResult:
    """Match ``subject`` against ``index``: the answer, with involvements if ``known``."""
    query = Query.of(subject, index.name_frequencies())
    # (1) an identifier held by exactly one record, and not contradicted, decides at once
    identified = [candidate for candidate in _scored(query, index, limit=0) if _agrees(candidate)]
    if len(identified) == 1:
        result = decide(subject, identified)
    else:
        # (2) block and score, (3) decide
        result = decide(subject, rank(subject, index=index, query=query))
    if result.status == "known" and result.record is not None:
        involvements = tuple(index.involvements(result.record.local_id))
        return replace(result, involvements=involvements)
    return result


def rank(
    subject: Subject, *, index: ChildIndex, query: Query | None = None
) -> list[ScoredCandidate]:
    """Every candidate for ``subject`` with its score, best first."""
    query = query or Query.of(subject, index.name_frequencies())
    return _scored(query, index, limit=MAX_CANDIDATES)


def _scored(query: Query, index: ChildIndex, *, limit: int) -> list[ScoredCandidate]:
    subject = query.subject
    if limit == 0:
        if subject.nhs_number is None and subject.upn is None:
            return []
        keys = BlockingKeys(
            nhs_numbers=frozenset(_present(subject.nhs_number)),
            upns=frozenset(_present(subject.upn)),
        )
    else:
        keys = subject_keys(subject)
    records = index.candidates(keys, limit=limit)
    scored = [ScoredCandidate(record, score(query, record)) for record in records]
    scored.sort(key=lambda c: (-c.score.total, c.record.local_id))
    return scored


def _agrees(candidate: ScoredCandidate) -> bool:
    """Agrees with the query on an identifier and contradicts it on none."""
    contradicted = any(
        e.outcome == "different" and e.trait in ("NHSNumber", "UPN")
        for e in candidate.score.evidence
    )
    return candidate.score.identifier is not None and not contradicted


def _present(value: str | None) -> tuple[str, ...]:
    return () if value is None else (value,)
