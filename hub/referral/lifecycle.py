"""The referral state machine: which status may follow which, and what each must carry (SPEC §6.4).

A referral's statuses only move forward. Its first status is ``received``,
``accepted`` or ``declined``; then

    received  → accepted | declined
    accepted  → allocated | closed
    allocated → allocated (a new practitioner) | closed
    declined  → (nothing: the referral was not taken on)
    closed    → (nothing: the work has ended)

and every status that has a detail element must carry it: ``declined`` its
``Reason``, ``allocated`` its ``Practitioner``, ``closed`` its ``Outcome``.

``check_status`` is the one place these rules are applied: by the hub before
it records and relays a status, by the referrer's node before it stores a
relayed one, and by ``irthub referral update`` before anything is signed. A
missing detail is ``schema-invalid`` (rule ``referral-status-detail``), a
forbidden move ``policy-denied`` (rule ``referral-status-transition``); both
name the rule and what would be allowed instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from hub.errors import PolicyDenied, SchemaInvalid
from hub.referral.messages import STATUSES, StatusUpdate

__all__ = ["DETAIL_RULE", "FIRST_STATUSES", "NEXT_STATUSES", "TRANSITION_RULE", "check_status"]

DETAIL_RULE: Final = "referral-status-detail"
"""Rule id named when a status lacks the detail element it requires."""

TRANSITION_RULE: Final = "referral-status-transition"
"""Rule id named when a status may not follow the referral's current one."""

FIRST_STATUSES: Final = frozenset({"received", "accepted", "declined"})
"""What a referral's first status may be: a receiving authority may accept or
decline at once without logging ``received`` first."""

NEXT_STATUSES: Final[Mapping[str, frozenset[str]]] = {
    "received": frozenset({"accepted", "declined"}),
    "accepted": frozenset({"allocated", "closed"}),
    "allocated": frozenset({"allocated", "closed"}),
    "declined": frozenset(),
    "closed": frozenset(),
}
"""The statuses allowed after each status; ``declined`` and ``closed`` are final."""

_REQUIRED_DETAIL: Final = {"declined": "Reason", "allocated": "Practitioner", "closed": "Outcome"}


def check_status(update: StatusUpdate, current: str | None) -> None:
    """Check that ``update`` may follow ``current`` (``None`` before any status).

    Raises ``SchemaInvalid`` when the update lacks its required detail and
    ``PolicyDenied`` when its status may not follow ``current``; each reason
    names the rule.
    """
    detail = _REQUIRED_DETAIL.get(update.status)
    if detail is not None and not _has_detail(update, detail):
        raise SchemaInvalid(
            f"{DETAIL_RULE}: a {update.status} status must carry its {detail} "
            f"(declined needs Reason, allocated Practitioner, closed Outcome)"
        )
    allowed = FIRST_STATUSES if current is None else NEXT_STATUSES[current]
    if update.status not in allowed:
        was = "no status yet" if current is None else f"the referral is {current}"
        could = (
            f"only {', '.join(s for s in STATUSES if s in allowed)} may follow"
            if allowed
            else f"{current} is final, no status may follow it"
        )
        raise PolicyDenied(
            f"{TRANSITION_RULE}: {update.status} is not allowed for referral "
            f"{update.referral_id} ({was}); {could}"
        )


def _has_detail(update: StatusUpdate, detail: str) -> bool:
    if detail == "Practitioner":
        return update.practitioner is not None and bool(update.practitioner.name.strip())
    value = update.reason if detail == "Reason" else update.outcome
    return value is not None and bool(value.strip())
