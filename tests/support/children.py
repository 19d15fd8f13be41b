"""Children for index and matching tests: a record in one line, a query that names it.

``child_record`` fills the fields a test does not care about (no other
names, no address or identifiers unless given); ``subject_like`` is the
query a practitioner would make for a record, with the changes a test makes
to it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from adapters.index.fields import LocalId, Sex
from adapters.index.model import ChildRecord, Subject

__all__ = ["child_record", "subject_like"]


def child_record(
    local_id: str,
    given: str,
    family: str,
    born: date,
    *,
    sex: Sex = "male",
    postcode: str | None = None,
    **changes: Any,
) -> ChildRecord:
    """A record with one given name; ``changes`` sets any other ``ChildRecord`` field."""
    record = ChildRecord(
        local_id=LocalId(local_id),
        given_names=(given,),
        family_name=family,
        other_names=(),
        birth_date=born,
        sex=sex,
        postcode=postcode,
        address=None,
        nhs_number=None,
        upn=None,
    )
    return replace(record, **changes)


def subject_like(record: ChildRecord, **changes: Any) -> Subject:
    """The query for ``record``'s names and birth date; ``changes`` alters or adds fields."""
    arguments: dict[str, Any] = {
        "given_names": list(record.given_names),
        "family_name": record.family_name,
        "birth_date": record.birth_date,
    }
    arguments.update(changes)
    return Subject.create(**arguments)
