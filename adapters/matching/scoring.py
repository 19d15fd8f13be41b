"""Scoring one index record against a query: evidence for and against, in points.

Steps, in order:

1. Identifiers decide when both sides hold one (NHS number, then UPN): equal
   is a match whatever else differs (``Score.identifier``); different is
   strong evidence against (``NHS_MISMATCH``, ``UPN_MISMATCH``), since a
   valid number on both sides rarely differs for the same child.
2. Otherwise, and in addition, each trait adds points, positive for
   agreement and negative for disagreement, in the manner of a
   Fellegi–Sunter weight (log odds of "same child" against "another child"):
   given name and family name (``adapters.matching.names``, graded by
   similarity), birth date (exact, one-digit typo, day/month swap, a year
   out, within a range), sex, postcode (full, sector, district) and address
   (same, same street, different: ``adapters.matching.address``).
   A trait missing on either side adds nothing: a partial record (no birth
   date, a single name) scores on what it has, and ``decision`` keeps it from
   being ``known`` on its names alone.

The weights were set from how often each error occurs in the synthetic
corrupted queries and tuned on them (``bench/matching.py``); the thresholds
that turn a total into a decision are in ``adapters.matching.decision``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from adapters.index.frequency import NameFrequencies, agreement_bits
from adapters.index.model import ChildRecord, Subject
from adapters.index.normalise import postcode_district, postcode_sector
from adapters.matching.address import AddressAgreement, compare_addresses
from adapters.matching.names import Names, compare_names

__all__ = [
    "NHS_AGREEMENT",
    "NHS_MISMATCH",
    "POINTS_PER_BIT",
    "UPN_AGREEMENT",
    "UPN_MISMATCH",
    "Evidence",
    "Query",
    "Score",
    "birth_date_agreement",
    "score",
]

NHS_AGREEMENT: Final = 20.0
"""Equal NHS numbers decide; the points only rank the record first in listings."""
UPN_AGREEMENT: Final = 15.0
NHS_MISMATCH: Final = -25.0
"""Two valid, different NHS numbers: almost certainly two children."""
UPN_MISMATCH: Final = -15.0
"""Two valid, different UPNs: usually two children, though a pupil given a
temporary UPN and later a permanent one also shows this."""

# Name weights: similarity >= _AGREE earns the full weight, <= _DISAGREE the
# full penalty, linearly between. Jaro–Winkler puts one typo in a 6-letter
# name near 0.95 and unrelated names below 0.7.
_AGREE: Final = 0.97
_DISAGREE: Final = 0.75
POINTS_PER_BIT: Final = 0.5
"""Scale from bits of evidence to points: an exact birth date (about 12.7 bits
for ages 0-17) is worth 6 points."""
_MAX_NAME_POINTS: Final = 7.0
"""Agreement on the rarest names is capped: a unique spelling may be a typo."""
_GIVEN_DISAGREE: Final = -5.0
"""Stronger than independence would give (about -3): a twin shares family
name, birth date, sex and address. A query about a twin who is not in the
index must never be answered with the other twin's record, which
``decision`` guarantees outright (``Score.given_disagrees``: never ``known``);
the points only need to keep such a record below a real match, and leave it
plausible (``ambiguous``) when every other trait agrees, as a record whose
forename was replaced does (FEBRL)."""
_FAMILY_DISAGREE: Final = -2.0
"""A surname disagreement is less damning than a forename one: children
change surname on adoption, marriage of a parent, or choice, and a record
keeps either name (about one pair in sixteen, 4 bits). At -2 an exact
forename shared by one child in a hundred and an exact birth date with a
replaced surname stays plausible (``ambiguous``), as real records need."""

_SWAP_POINTS: Final = -0.5
"""Forename and surname swapped is a common clerical error, but not free."""

BirthAgreement = Literal[
    "exact",
    "in-range",
    "day-month-swap",
    "one-digit",
    "year-out",
    "two-digits",
    "different",
    "out-of-range",
]
_BIRTH_POINTS: Final[dict[BirthAgreement, float]] = {
    "exact": 6.0,
    "in-range": 6.0,
    "day-month-swap": 3.5,
    "one-digit": 2.0,
    "year-out": 3.5,
    "two-digits": -1.5,
    "different": -7.0,
    "out-of-range": -7.0,
}
"""An exact date is about one in 6,500 for a child aged 0-17; a near date (one
digit, a swap, a year out) is a few dozen times likelier by chance, and two
wrong digits are as likely to be another child as a double slip. ``in-range``
is scaled down by the width of the range (``_range_points``)."""
_DAYS_OF_CHILDHOOD: Final = 18 * 365
_SEX_POINTS: Final = (0.5, -3.0)
_POSTCODE_POINTS: Final = {"full": 4.0, "sector": 2.0, "district": 1.0, "different": -1.5}
"""A different postcode costs little: families move, often across boroughs,
but most children asked about still live where the index last saw them."""
_ADDRESS_POINTS: Final[dict[AddressAgreement, float]] = {
    "same": 3.0,
    "street": 0.0,
    "different": -1.0,
}
"""One door in a borough of some 100,000 households is worth more than a full
postcode (about fifteen doors), but the two are mostly the same evidence and
a family that moved disagrees on both: so the address adds less than its
bits, and a different one costs little."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """One trait's contribution: which trait (a ``c:ChildSubject`` element name), how it
    compared, and the points it added."""

    trait: str
    outcome: str
    points: float


@dataclass(frozen=True, slots=True)
class Score:
    """The total points of one record against one query, and how they were reached."""

    total: float
    evidence: tuple[Evidence, ...]
    identifier: Literal["NHSNumber", "UPN"] | None
    """The identifier both sides hold and agree on, if any: it decides the match."""
    given_disagrees: bool = False
    """The given names disagree outright (similarity at most ``names``' disagreement
    level): another child, a twin perhaps, unless the record's forename is wrong."""


@dataclass(frozen=True, slots=True)
class Query:
    """A subject prepared once for scoring against many records of one index."""

    subject: Subject
    names: Names
    frequencies: NameFrequencies

    @classmethod
    def of(cls, subject: Subject, frequencies: NameFrequencies | None = None) -> Query:
        """Fold the subject's names once; ``frequencies`` are the index's name counts."""
        names = Names.of(subject.given_names, subject.family_name, subject.other_names)
        return cls(subject, names, frequencies or NameFrequencies.unknown())


def score(query: Query, record: ChildRecord) -> Score:
    """Score ``record`` against ``query`` (steps in the module docstring)."""
    subject = query.subject
    # (1) identifiers
    evidence, identifier = _identifiers(subject, record)
    # (2) traits
    names = compare_names(
        query.names, Names.of(record.given_names, record.family_name, record.other_names)
    )
    swap = " (swapped)" if names.swapped else ""
    if names.swapped:
        evidence.append(Evidence("GivenName", "swapped with family name", _SWAP_POINTS))
    frequencies = query.frequencies
    if names.given is not None:
        agree = _name_points(frequencies.given_share(names.given_part))
        points = _graded(names.given, agree, _GIVEN_DISAGREE)
        evidence.append(Evidence("GivenName", f"{names.given:.2f}{swap}", points))
    if names.family is not None:
        agree = _name_points(frequencies.family_share(names.family_parts))
        points = _graded(names.family, agree, _FAMILY_DISAGREE)
        evidence.append(Evidence("FamilyName", f"{names.family:.2f}{swap}", points))
    birth = birth_date_agreement(subject, record.birth_date)
    if birth is not None:
        points = _BIRTH_POINTS[birth]
        if birth == "in-range" and subject.birth_range is not None:
            points = _range_points(*subject.birth_range)
        evidence.append(Evidence("BirthDate", birth, points))
    if subject.sex is not None and record.sex in ("female", "male"):
        agree = subject.sex == record.sex
        evidence.append(Evidence("Sex", "equal" if agree else "different", _SEX_POINTS[not agree]))
    if subject.postcode is not None and record.postcode is not None:
        level = _postcode_level(subject.postcode, record.postcode)
        evidence.append(Evidence("Postcode", level, _POSTCODE_POINTS[level]))
    if subject.address is not None and record.address is not None:
        address = compare_addresses(subject.address, record.address)
        if address is not None:
            evidence.append(Evidence("Address", address, _ADDRESS_POINTS[address]))
    total = sum(item.points for item in evidence)
    disagrees = names.given is not None and names.given <= _DISAGREE
    return Score(total, tuple(evidence), identifier, given_disagrees=disagrees)


def birth_date_agreement(subject: Subject, born: date | None) -> BirthAgreement | None:
    """How a record's birth date compares with the query's date or range; ``None`` when
    either side has none."""
    if born is None:
        return None
    if subject.birth_range is not None:
        start, end = subject.birth_range
        return "in-range" if start <= born <= end else "out-of-range"
    if subject.birth_date is None:
        return None
    return _compare_dates(subject.birth_date, born)


def _compare_dates(asked: date, born: date) -> BirthAgreement:
    if asked == born:
        return "exact"
    if asked.year == born.year and asked.month == born.day and asked.day == born.month:
        return "day-month-swap"
    if abs(asked.year - born.year) == 1 and (asked.month, asked.day) == (born.month, born.day):
        return "year-out"
    if _digits_apart(asked, born) == 1:
        return "one-digit"
    if _digits_apart(asked, born) == 2:
        return "two-digits"
    return "different"


def _digits_apart(asked: date, born: date) -> int:
    return sum(a != b for a, b in zip(asked.isoformat(), born.isoformat(), strict=True))


def _range_points(start: date, end: date) -> float:
    """An exact date's points times the share of a childhood's information the range keeps."""
    width = (end - start).days + 1
    share = math.log(_DAYS_OF_CHILDHOOD / width) / math.log(_DAYS_OF_CHILDHOOD)
    return max(0.0, _BIRTH_POINTS["exact"] * share)


def _identifiers(
    subject: Subject, record: ChildRecord
) -> tuple[list[Evidence], Literal["NHSNumber", "UPN"] | None]:
    evidence: list[Evidence] = []
    identifier: Literal["NHSNumber", "UPN"] | None = None
    if subject.nhs_number is not None and record.nhs_number is not None:
        if subject.nhs_number == record.nhs_number:
            identifier = "NHSNumber"
            evidence.append(Evidence("NHSNumber", "equal", NHS_AGREEMENT))
        else:
            evidence.append(Evidence("NHSNumber", "different", NHS_MISMATCH))
    if subject.upn is not None and record.upn is not None:
        if subject.upn == record.upn:
            identifier = identifier or "UPN"
            evidence.append(Evidence("UPN", "equal", UPN_AGREEMENT))
        else:
            evidence.append(Evidence("UPN", "different", UPN_MISMATCH))
    return evidence, identifier


def _name_points(share: float) -> float:
    return min(_MAX_NAME_POINTS, POINTS_PER_BIT * agreement_bits(share))


def _graded(similarity: float, agree: float, disagree: float) -> float:
    if similarity >= _AGREE:
        return agree
    if similarity <= _DISAGREE:
        return disagree
    share = (similarity - _DISAGREE) / (_AGREE - _DISAGREE)
    return disagree + share * (agree - disagree)


def _postcode_level(asked: str, held: str) -> str:
    if asked == held:
        return "full"
    if postcode_sector(asked) == postcode_sector(held):
        return "sector"
    if postcode_district(asked) == postcode_district(held):
        return "district"
    return "different"
