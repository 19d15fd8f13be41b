"""The node's referral store: received once, statuses noted, relayed events kept once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from adapters.referral.sqlite import SqliteNodeReferrals
from adapters.referral.store import ReceivedReferral, SentEvent, SentReferral
from hub.identifiers import AuthorityCode, new_message_id

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_a_referral_is_received_once_and_keeps_its_first_receipt(tmp_path: Path) -> None:
    store = SqliteNodeReferrals(tmp_path / "referrals.sqlite")
    received = ReceivedReferral(
        referral_id=new_message_id(),
        referrer=AuthorityCode("E09000022"),
        service_id="southwark-camhs",
        received_at=NOW,
        granted_level="contacts",
        digest=b"d" * 32,
        referral=b"<referral/>",
        forward=b"<forward/>",
        receipt=b"<receipt/>",
    )
    assert store.receive(received) == received
    assert store.receive(replace(received, receipt=b"<second/>")).receipt == b"<receipt/>"
    store.note_status(received.referral_id, "accepted")
    store.close()
    reopened = SqliteNodeReferrals(tmp_path / "referrals.sqlite")
    (kept,) = reopened.received()
    assert kept.status == "accepted"
    assert reopened.get(received.referral_id) == kept


def test_events_about_sent_referrals_are_kept_once_in_order(tmp_path: Path) -> None:
    store = SqliteNodeReferrals(tmp_path / "referrals.sqlite")
    referral_id = new_message_id()
    sent = SentReferral(referral_id, AuthorityCode("E09000028"), "s", NOW, b"<r/>", b"<rc/>")
    store.record(sent)
    store.record(sent)
    events = [
        SentEvent(new_message_id(), referral_id, "status", status, NOW, None, b"<s/>", b"<a/>")
        for status in ("received", "accepted")
    ]
    for event in events:
        assert store.note(event) == event
    assert store.note(replace(events[0], ack=b"<other/>")).ack == b"<a/>"
    assert [e.status for e in store.events(referral_id)] == ["received", "accepted"]
