"""``irthub audit access``: who asked about which child, why, with which decision and answer."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hub.envelope import Header
from hub.identifiers import HUB, MessageId
from hub.log.entry import Direction, LogEntry
from hub.storage.settings import open_sqlite_log
from irthub.cli import main
from tests.support.signed_messages import (
    CROYDON,
    LAMBETH,
    SOUTHWARK,
    SignerFor,
    body,
    entry_for,
    sign,
    with_children,
)

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)


class _Flow:
    """Appends a known-to exchange as the hub logs it."""

    def __init__(self, signer_for: SignerFor) -> None:
        self.signer_for = signer_for
        self.items: list[tuple[LogEntry, bytes]] = []

    def add(self, raw: bytes, header: Header, direction: Direction, at: datetime) -> MessageId:
        entry = entry_for(raw, header, direction=direction, at=at)
        self.items.append((entry, raw))
        return entry.message_id

    def query(self, at: datetime, practitioner: str) -> MessageId:
        raw, header = sign(
            self.signer_for,
            body("KnownToQuery"),
            sender=LAMBETH,
            to=(SOUTHWARK, CROYDON),
            created=at,
            practitioner=practitioner,
        )
        return self.add(raw, header, "in", at)

    def forward(self, at: datetime, query: MessageId) -> MessageId:
        raw, header = sign(
            self.signer_for, body("KnownToForward"), sender=HUB, created=at, correlation_id=query
        )
        return self.add(raw, header, "out", at)

    def response(self, at: datetime, forward: MessageId, reference: str) -> None:
        response = with_children(body("KnownToResponse"), "LocalReference", [reference])
        raw, header = sign(
            self.signer_for,
            response,
            sender=SOUTHWARK,
            to=(HUB,),
            qualifier="response",
            created=at,
            correlation_id=forward,
        )
        self.add(raw, header, "in", at)

    def result(self, at: datetime, query: MessageId) -> None:
        raw, header = sign(
            self.signer_for,
            body("KnownToResult"),
            sender=HUB,
            to=(LAMBETH,),
            qualifier="response",
            created=at,
            correlation_id=query,
        )
        self.add(raw, header, "out", at)

    def referral(self, at: datetime, practitioner: str) -> None:
        raw, header = sign(
            self.signer_for, body("Referral"), sender=LAMBETH, created=at, practitioner=practitioner
        )
        self.add(raw, header, "in", at)


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory, signer_for: SignerFor) -> Path:
    flow = _Flow(signer_for)
    second = timedelta(seconds=1)
    # Q1: answered known, then referred by the same practitioner.
    q1 = flow.query(T0, "lam-sw-0142")
    flow.response(T0 + 2 * second, flow.forward(T0 + second, q1), "swk-7f3a91c2")
    flow.result(T0 + 3 * second, q1)
    # Q2: answered known, never referred: a search that led to no referral.
    q2 = flow.query(T0 + timedelta(hours=1), "lam-sw-0999")
    forward = flow.forward(T0 + timedelta(hours=1, seconds=1), q2)
    flow.response(T0 + timedelta(hours=1, seconds=2), forward, "swk-0000aaaa")
    flow.result(T0 + timedelta(hours=1, seconds=3), q2)
    flow.referral(T0 + timedelta(hours=2), "lam-sw-0142")
    # Q3: its query message was pruned; the forward still shows the decision.
    q3 = flow.query(T0 + timedelta(hours=3), "lam-sw-0142")
    flow.forward(T0 + timedelta(hours=3, seconds=1), q3)
    # Q4: outside the audited window.
    flow.query(T0 + timedelta(hours=5), "lam-sw-0142")
    folder = tmp_path_factory.mktemp("access") / "log"
    log = open_sqlite_log(folder)
    log.append_many(flow.items)
    pruned = log.find(q3)
    log.prune(range(pruned[0], pruned[0] + 1), "R-7-DAYS")
    log.close()
    return folder


def _access(log_dir: Path, authority: str, *extra: str) -> Result:
    since = (T0 - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (T0 + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    args = ["audit", "access", "--log", str(log_dir), "--authority", authority]
    return CliRunner().invoke(main, [*args, "--since", since, "--until", until, *extra])


def _rows(log_dir: Path, authority: str) -> list[dict[str, str]]:
    result = _access(log_dir, authority, "--json")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_asked_authority_sees_who_asked_why_and_its_own_reference(log_dir: Path) -> None:
    rows = _rows(log_dir, SOUTHWARK)
    assert [r["role"] for r in rows] == ["asked-of"] * 3
    first, second, pruned = rows
    assert first["requester"] == LAMBETH
    assert first["practitioner"] == "lam-sw-0142 (Social worker, social-care)"
    assert first["purpose"] == "child-protection-s47 (consent not-required)"
    assert first["decision"] == (
        "permit contacts [R-LAM-S47-ASK R-SWK-S47-CONTACTS R-SWK-NO-SENSITIVE]"
    )
    assert (first["answer"], first["local_reference"]) == ("known", "swk-7f3a91c2")
    assert first["referral"].startswith("yes urn:uuid:")
    assert second["practitioner"].startswith("lam-sw-0999")
    assert (second["local_reference"], second["referral"]) == (
        "swk-0000aaaa",
        "none within 30 days",
    )
    assert pruned["practitioner"].startswith("unknown: query pruned by retention rule R-7-DAYS")
    assert pruned["decision"].startswith("permit contacts")
    assert pruned["answer"] == "no answer logged"


def test_the_report_names_no_child(log_dir: Path) -> None:
    result = _access(log_dir, SOUTHWARK)
    assert result.exit_code == 0, result.output
    for personal in ("Leo", "Walsh", "SE15", "2016-", "Amara", "Okafor"):
        assert personal not in result.stdout
    assert "local reference swk-7f3a91c2" in result.stdout
    assert "3 accesses; 1 searches with a known answer led to no referral" in result.stdout


def test_a_refusing_authority_sees_the_refusal_and_its_rules(log_dir: Path) -> None:
    rows = _rows(log_dir, CROYDON)
    assert len(rows) == 2
    assert rows[0]["decision"] == "refused [R-CRY-S47-DENY-VOLUNTARY]"
    assert rows[0]["referral"] == "n/a"


def test_the_asking_authority_sees_every_target_of_its_searches(log_dir: Path) -> None:
    rows = _rows(log_dir, LAMBETH)
    assert {r["role"] for r in rows} == {"asked-by"}
    first_query = [r for r in rows if r["query_id"] == rows[0]["query_id"]]
    assert {r["target"]: r["answer"] for r in first_query} == {
        "E09000008": "refused [R-CRY-S47-DENY-VOLUNTARY]",
        "E09000023": "not-known",
        "E09000028": "known",
        "E09000032": "timeout",
    }


def test_bytes_that_do_not_match_their_leaf_are_refused(log_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "log"
    copy.mkdir()
    (copy / "log.sqlite").write_bytes((log_dir / "log.sqlite").read_bytes())
    connection = sqlite3.connect(copy / "log.sqlite")
    with connection:
        connection.execute("UPDATE log_message SET raw = raw || x'20' WHERE idx = 2")
    connection.close()
    result = _access(copy, SOUTHWARK)
    assert result.exit_code == 1
    assert "leaf 2: stored message bytes do not match the leaf's SHA-256" in result.stderr
