"""Precision–recall of ``known`` as the match threshold moves, for the matching benchmarks
(not a benchmark: `make bench` skips bench/_*.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Final

from adapters.index.model import Subject
from adapters.matching.decision import REVIEW_THRESHOLD, ScoredCandidate, Thresholds, decide

__all__ = ["Ranked", "figures", "outcome", "threshold_curve"]

Ranked = tuple[str | None, Subject, Sequence[ScoredCandidate]]
"""The right record's local id (``None`` for a child not in the index), the query
and its ranked candidates."""

_FROM: Final = 5.0
_STEP: Final = 1.0
_STEPS: Final = 12


def outcome(truth: str | None, status: str, found: str | None) -> str:
    """``present-known-right``, ``absent-ambiguous``…: one answer against the truth."""
    side = "present" if truth is not None else "absent"
    if status == "known":
        return f"{side}-known-{'right' if found == truth else 'wrong'}"
    return f"{side}-{status}"


def figures(outcomes: Counter[str]) -> dict[str, float | int]:
    """Precision and recall of ``known``, the share of present queries ``ambiguous``, and
    present queries answered ``known`` rightly or ``ambiguous``."""
    present = sum(n for key, n in outcomes.items() if key.startswith("present"))
    right = outcomes["present-known-right"]
    known = right + outcomes["present-known-wrong"] + outcomes["absent-known-wrong"]
    return {
        "precision": round(right / known, 4) if known else 1.0,
        "recall": round(right / present, 4) if present else 0.0,
        "ambiguous": round(outcomes["present-ambiguous"] / present, 4) if present else 0.0,
        "known_or_ambiguous_recall": (
            round((right + outcomes["present-ambiguous"]) / present, 4) if present else 0.0
        ),
        "present_queries": present,
        "absent_queries": sum(n for key, n in outcomes.items() if key.startswith("absent")),
        "false_known": known - right,
    }


def threshold_curve(ranked: Sequence[Ranked]) -> list[dict[str, float]]:
    """Precision and recall of ``known`` for match thresholds from 5 to 16 points (the
    review threshold at most the match threshold, the margin as configured)."""
    curve = []
    for step in range(_STEPS):
        match = _FROM + step * _STEP
        thresholds = Thresholds(match=match, review=min(REVIEW_THRESHOLD, match))
        outcomes: Counter[str] = Counter()
        for truth, subject, candidates in ranked:
            answer = decide(subject, candidates, thresholds)
            found = None if answer.record is None else answer.record.local_id
            outcomes[outcome(truth, answer.status, found)] += 1
        result = figures(outcomes)
        curve.append(
            {
                "match_threshold": match,
                "precision": result["precision"],
                "recall": result["recall"],
                "known_or_ambiguous_recall": result["known_or_ambiguous_recall"],
            }
        )
    return curve
