"""The keyword arguments of ``Subject.create``, typed, for tests that vary a few of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TypedDict

__all__ = ["SubjectFields"]


class SubjectFields(TypedDict, total=False):
    """Any of ``Subject.create``'s arguments; the ones left out take its defaults."""

    given_names: Sequence[str]
    family_name: str | None
    other_names: Sequence[str]
    birth_date: date | None
    birth_range: tuple[date, date] | None
    sex: str | None
    postcode: str | None
    address: str | None
    nhs_number: str | None
    upn: str | None
