"""The referral state machine: every allowed move, every forbidden one, every required detail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.errors import PolicyDenied, SchemaInvalid
from hub.identifiers import new_message_id
from hub.referral.lifecycle import FIRST_STATUSES, NEXT_STATUSES, check_status
from hub.referral.messages import STATUSES, Contact, StatusUpdate

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
_DETAIL = {
    "declined": {"reason": "Already open to the team."},
    "allocated": {"practitioner": Contact("Dr Hannah Blake")},
    "closed": {"outcome": "Work completed."},
}


def _update(status: str) -> StatusUpdate:
    return StatusUpdate(new_message_id(), status, NOW, **_DETAIL.get(status, {}))  # type: ignore[arg-type]


ALLOWED = [(None, s) for s in sorted(FIRST_STATUSES)] + [
    (current, s) for current, nexts in NEXT_STATUSES.items() for s in sorted(nexts)
]
FORBIDDEN = [
    (current, s) for current in (None, *STATUSES) for s in STATUSES if (current, s) not in ALLOWED
]


@pytest.mark.parametrize(("current", "status"), ALLOWED)
def test_allowed_moves_pass(current: str | None, status: str) -> None:
    check_status(_update(status), current)


@pytest.mark.parametrize(("current", "status"), FORBIDDEN)
def test_forbidden_moves_are_policy_denied_naming_the_rule(
    current: str | None, status: str
) -> None:
    with pytest.raises(
        PolicyDenied, match=f"referral-status-transition: {status} is not allowed"
    ) as refused:
        check_status(_update(status), current)
    assert refused.value.code == "policy-denied"


def test_closed_to_received_is_refused_as_final() -> None:
    with pytest.raises(PolicyDenied, match=r"\(the referral is closed\); closed is final"):
        check_status(_update("received"), "closed")


def test_received_then_allocated_names_what_may_follow() -> None:
    with pytest.raises(PolicyDenied, match="only accepted, declined may follow"):
        check_status(_update("allocated"), "received")


@pytest.mark.parametrize(
    ("status", "detail", "current"),
    [("declined", "Reason", "received"), ("allocated", "Practitioner", "accepted"),
     ("closed", "Outcome", "allocated")],
)  # fmt: skip
def test_a_status_without_its_detail_is_schema_invalid(
    status: str, detail: str, current: str
) -> None:
    with pytest.raises(
        SchemaInvalid, match=f"referral-status-detail: a {status} status must carry its {detail}"
    ):
        check_status(StatusUpdate(new_message_id(), status, NOW), current)


def test_a_blank_detail_is_no_detail() -> None:
    with pytest.raises(SchemaInvalid, match="a declined status must carry its Reason"):
        check_status(StatusUpdate(new_message_id(), "declined", NOW, reason="  "), "received")
