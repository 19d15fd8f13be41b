"""Readable tables of known-to answers, for the demo and ``irthub query known-to``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Final

from adapters.client.knownto import KnownToAnswer, TargetRow
from hub.authorities import AUTHORITY_NAMES

__all__ = ["answer_json", "answer_table"]

_ORDER: Final = ("known", "ambiguous", "refused", "error", "unavailable", "timeout", "not-known")
_DETAIL_FIELDS: Final = (
    "ServiceName",
    "Status",
    "PractitionerName",
    "PractitionerRole",
    "PractitionerPhone",
    "StartDate",
)


def answer_table(answer: KnownToAnswer, *, show_not_known: bool = False) -> str:
    """A text table, most informative outcomes first; ``not-known`` rows summarised."""
    rows = sorted(answer.rows, key=lambda r: (_ORDER.index(r.status), r.authority))
    lines = [f"{'authority':<32} {'status':<12} detail", "-" * 100]
    quiet = [row for row in rows if row.status == "not-known"]
    for row in rows:
        if row.status == "not-known" and not show_not_known:
            continue
        details = list(_details(row)) or [""]
        name = f"{row.authority} {AUTHORITY_NAMES.get(row.authority, '')}"
        lines.append(f"{name[:32]:<32} {row.status:<12} {details[0]}")
        lines.extend(f"{'':<45} {more}" for more in details[1:])
    if quiet and not show_not_known:
        lines.append(f"{'(' + str(len(quiet)) + ' more)':<32} {'not-known':<12}")
    return "\n".join(lines)


def answer_json(answer: KnownToAnswer) -> str:
    """The answer as JSON for scripts."""
    return json.dumps(
        {
            "message_id": answer.message_id,
            "results": [
                {
                    "authority": row.authority,
                    "name": AUTHORITY_NAMES.get(row.authority),
                    "status": row.status,
                    "reason": row.reason,
                    "rules": list(row.rules),
                    "involvements": [i.fields for i in row.involvements],
                    "deciding_traits": list(row.deciding_traits),
                    "local_reference": row.local_reference,
                    "verified_by_node_signature": row.verified_by_node_signature,
                }
                for row in answer.rows
            ],
        },
        indent=2,
    )


def _details(row: TargetRow) -> Iterable[str]:
    for involvement in row.involvements:
        fields = involvement.fields
        parts = [f"{fields.get('AgencyType', '?')} [{fields.get('Category', '?')}]"]
        parts += [fields[name] for name in _DETAIL_FIELDS if name in fields]
        yield ", ".join(parts)
    if row.deciding_traits:
        yield "would decide: " + ", ".join(row.deciding_traits)
    if row.status == "refused":
        rules = f" (rules {', '.join(row.rules)})" if row.rules else ""
        yield f"{row.reason or 'refused by policy'}{rules}"
    elif row.reason and not row.involvements:
        yield row.reason
    if row.verified_by_node_signature and row.status == "known":
        yield f"signed by {row.authority}'s node and verified here; reference {row.local_reference}"
