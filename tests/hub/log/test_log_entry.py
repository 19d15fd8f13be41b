"""Log entries: one canonical leaf per entry, no personal data, strict parsing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import TypedDict, Unpack

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.clock import FixedClock
from hub.envelope import Qualifier
from hub.identifiers import HUB, AuthorityCode, MessageId
from hub.log.entry import MAX_LEAF_BYTES, Direction, LogEntry
from hub.log.errors import LogEvidenceInvalid
from hub.pki.trust import TrustStore
from hub.verify import EnvelopeVerifier
from tests.support.signed_messages import LAMBETH, SOUTHWARK, SignerFor, body, sign

CREATED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)


class _EntryFields(TypedDict, total=False):
    logged_at: datetime
    direction: Direction
    message_id: MessageId
    message_class: str
    qualifier: Qualifier
    sender: AuthorityCode
    recipients: tuple[str, ...]
    message_sha256: str
    decision_digest: str | None


def _entry(**changes: Unpack[_EntryFields]) -> LogEntry:
    fields: _EntryFields = {
        "logged_at": datetime(2026, 11, 22, 10, 15, 30, 412000, tzinfo=UTC),
        "direction": "in",
        "message_id": MessageId("urn:uuid:6f1c2a4e-3b7d-4c55-9a1e-2f0d8b7c6a51"),
        "message_class": "KnownToQuery",
        "qualifier": "request",
        "sender": AuthorityCode("E09000022"),
        "recipients": ("E09000028", "scope:neighbours"),
        "message_sha256": "ab" * 32,
        "decision_digest": None,
    }
    fields.update(changes)
    return LogEntry(**fields)


def test_leaf_bytes_are_canonical_json_with_version_and_round_trip() -> None:
    entry = _entry(decision_digest="cd" * 32)
    leaf = entry.leaf_bytes()
    fields = json.loads(leaf)
    assert fields["v"] == 1
    assert list(fields) == sorted(fields)
    assert b" " not in leaf
    assert b"\n" not in leaf
    assert fields["logged_at"] == "2026-11-22T10:15:30.412000Z"
    assert LogEntry.from_leaf_bytes(leaf) == entry


def test_logged_at_is_normalised_to_utc() -> None:
    utc = _entry()
    same_instant = _entry(logged_at=utc.logged_at.astimezone(timezone(timedelta(hours=0))))
    assert same_instant.leaf_bytes() == utc.leaf_bytes()
    with pytest.raises(LogEvidenceInvalid, match="UTC"):
        _entry(logged_at=datetime(2026, 11, 22, 10, 15, tzinfo=timezone(timedelta(hours=1))))
    with pytest.raises(LogEvidenceInvalid, match="UTC"):
        _entry(logged_at=datetime(2026, 11, 22, 10, 15))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"message_id": "urn:uuid:NOT-A-UUID"}, "message_id"),
        ({"message_class": "known<to>"}, "message_class"),
        ({"qualifier": "shout"}, "qualifier"),
        ({"sender": "E09000099"}, "sender"),
        ({"recipients": ()}, "recipients"),
        ({"recipients": ("scope:world",)}, "recipient"),
        ({"message_sha256": "AB" * 32}, "message_sha256"),
        ({"decision_digest": "xyz"}, "decision_digest"),
    ],
)
def test_every_field_is_checked(change: dict[str, object], reason: str) -> None:
    with pytest.raises(LogEvidenceInvalid, match=reason):
        # Deliberately untyped: each case passes a value the constructor must refuse.
        _entry(**change)  # type: ignore[arg-type]


def _respell(leaf: bytes, edit: str) -> bytes:
    fields = json.loads(leaf)
    if edit == "pretty":
        return json.dumps(fields, sort_keys=True, indent=1).encode()
    if edit == "unsorted":
        return json.dumps(dict(reversed(fields.items())), separators=(",", ":")).encode()
    if edit == "extra-key":
        fields["child_name"] = "Leo Walsh"
    elif edit == "missing-key":
        del fields["decision_digest"]
    elif edit == "version-2":
        fields["v"] = 2
    elif edit == "version-true":
        fields["v"] = True
    elif edit == "seconds-only":
        fields["logged_at"] = "2026-11-22T10:15:30Z"
    elif edit == "recipients-string":
        fields["recipients"] = "E09000028"
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ("pretty", "canonical form"),
        ("unsorted", "canonical form"),
        ("extra-key", "exactly the keys"),
        ("missing-key", "exactly the keys"),
        ("version-2", "version 2"),
        ("version-true", "version True"),
        ("seconds-only", "not UTC with"),
        ("recipients-string", "recipients is not a list"),
    ],
)
def test_other_spellings_are_refused(edit: str, reason: str) -> None:
    with pytest.raises(LogEvidenceInvalid, match=reason):
        LogEntry.from_leaf_bytes(_respell(_entry().leaf_bytes(), edit))


def test_duplicate_keys_nan_and_oversized_leaves_are_refused() -> None:
    leaf = _entry().leaf_bytes()
    duplicated = leaf[:-1] + b',"v":1}'
    with pytest.raises(LogEvidenceInvalid, match="duplicate key 'v'"):
        LogEntry.from_leaf_bytes(duplicated)
    with pytest.raises(LogEvidenceInvalid, match="NaN is not JSON"):
        LogEntry.from_leaf_bytes(leaf.replace(b'"v":1', b'"v":NaN'))
    with pytest.raises(LogEvidenceInvalid, match=f"the limit is {MAX_LEAF_BYTES}"):
        LogEntry.from_leaf_bytes(b" " * (MAX_LEAF_BYTES + 1))
    with pytest.raises(LogEvidenceInvalid, match="not JSON"):
        LogEntry.from_leaf_bytes(b"\xff")


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_changing_any_byte_is_refused_or_changes_the_entry(position: int, value: int) -> None:
    original = _entry(decision_digest="cd" * 32)
    leaf = bytearray(original.leaf_bytes())
    position %= len(leaf)
    if leaf[position] == value:
        return
    leaf[position] = value
    try:
        parsed = LogEntry.from_leaf_bytes(bytes(leaf))
    except LogEvidenceInvalid:
        return
    assert parsed != original


def test_received_message_entry_matches_signed_header_and_holds_no_personal_data(
    signer_for: SignerFor, trust: TrustStore
) -> None:
    raw, _ = sign(signer_for, body("KnownToQuery"), sender=LAMBETH, created=CREATED)
    verified = EnvelopeVerifier(trust=trust, clock=FixedClock(CREATED)).verify_envelope(raw)
    at = CREATED + timedelta(seconds=2)
    entry = LogEntry.for_received(verified, decision_digest="ef" * 32, at=at)
    assert entry.direction == "in"
    assert entry.message_id == verified.header.message_id
    assert (entry.sender, entry.recipients) == (LAMBETH, (SOUTHWARK,))
    assert entry.message_class == "KnownToQuery"
    assert entry.logged_at == at
    leaf = entry.leaf_bytes()
    # Neither the child (subject) nor the practitioner appears in the leaf.
    for personal in (b"Leo", b"Walsh", b"SE15", b"2016-", b"lam-sw-0142", b"Social"):
        assert personal not in leaf


def test_sent_message_entry_records_scopes_as_tokens(signer_for: SignerFor) -> None:
    raw, header = sign(
        signer_for, body("ServiceSearch"), sender=HUB, to=("scope:london",), created=CREATED
    )
    entry = LogEntry.for_message(raw, header, direction="out", at=CREATED)
    assert entry.recipients == ("scope:london",)
    assert entry.sender == HUB
    assert LogEntry.from_leaf_bytes(entry.leaf_bytes()) == entry
