"""Policy requests are checked when made; the request space is complete and finite."""

from __future__ import annotations

import pytest

from hub.errors import SchemaInvalid
from hub.identifiers import ALL_AUTHORITIES, AuthorityCode
from hub.policy.request import PolicyRequest, request_space

A, B = AuthorityCode("E09000022"), AuthorityCode("E09000028")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("requester", "E09000034", "requester 'E09000034' is not one of"),
        ("purpose", "curiosity", "purpose 'curiosity' is not one of"),
        ("consent", "implied", "consent 'implied' is not one of"),
        ("agency", "press", "agency 'press' is not one of"),
        ("level", "everything", "level 'everything' is not one of"),
        ("message_class", "gossip", "message class 'gossip' is not one of"),
    ],
)
def test_values_outside_the_closed_lists_are_refused(field: str, value: str, message: str) -> None:
    fields: dict[str, str] = {
        "requester": A,
        "responder": B,
        "purpose": "early-help",
        "consent": "given",
        "agency": "health",
    }
    fields[field] = value
    with pytest.raises(SchemaInvalid, match=message):
        # Deliberately untyped: each case passes a value outside the closed lists.
        PolicyRequest(**fields)  # type: ignore[arg-type]


def test_request_space_is_every_combination_without_self_requests() -> None:
    space = list(request_space(requesters=(A,), responders=ALL_AUTHORITIES))
    assert len(space) == 32 * 6 * 4 * 9 * 4
    assert len(set(space)) == len(space)
    assert all(r.responder != A for r in space)
    assert {r.level for r in space} == {"existence", "agencies", "contacts", "details"}
    assert list(request_space(requesters=(A,), responders=(A,))) == []
