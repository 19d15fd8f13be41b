"""Writing records as the two CSV exports ``irthub node import`` reads (default format)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Final

from adapters.index.csvimport import CHILDREN_COLUMNS, INVOLVEMENT_COLUMNS
from adapters.index.fields import NAME_SEPARATOR
from adapters.index.model import ChildRecord, Involvement
from hub.errors import InternalError

__all__ = ["CHILDREN_FILE", "INVOLVEMENTS_FILE", "write_csv"]

CHILDREN_FILE: Final = "children.csv"
INVOLVEMENTS_FILE: Final = "involvements.csv"


def write_csv(
    directory: Path, children: Iterable[ChildRecord], involvements: Iterable[Involvement]
) -> tuple[Path, Path]:
    """Write ``children.csv`` and ``involvements.csv`` into ``directory`` (created if missing).

    Returns both paths. Raises ``InternalError`` if the files cannot be written.
    """
    children_path = directory / CHILDREN_FILE
    involvements_path = directory / INVOLVEMENTS_FILE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with children_path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(CHILDREN_COLUMNS)
            writer.writerows(_child_row(child) for child in children)
        with involvements_path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(INVOLVEMENT_COLUMNS)
            writer.writerows(_involvement_row(inv) for inv in involvements)
    except OSError as exc:
        raise InternalError(f"cannot write CSV files in {directory}: {exc}") from exc
    return children_path, involvements_path


def _child_row(child: ChildRecord) -> tuple[str, ...]:
    return (
        child.local_id,
        NAME_SEPARATOR.join(child.given_names),
        child.family_name or "",
        NAME_SEPARATOR.join(child.other_names),
        _date(child.birth_date),
        child.sex,
        child.postcode or "",
        child.address or "",
        child.nhs_number or "",
        child.upn or "",
    )


def _involvement_row(inv: Involvement) -> tuple[str, ...]:
    return (
        inv.local_id,
        inv.agency,
        inv.service,
        inv.category,
        inv.status,
        _date(inv.start_date),
        _date(inv.end_date),
        "true" if inv.lead_professional else "false",
        "true" if inv.caf else "false",
        inv.practitioner_name or "",
        inv.practitioner_role or "",
        inv.practitioner_phone or "",
        inv.practitioner_email or "",
    )


def _date(value: date | None) -> str:
    return "" if value is None else value.isoformat()
