"""Benchmark the message log: batched appends with message bytes, and a full offline audit.

Prints one JSON object. Goals (issue 5): batched appends >= 10,000 messages/s
on SQLite with the message bytes (``synchronous=FULL``); and the full audit
(``hub.log.audit.audit_log``: leaf parsing, leaf hashes against the tree, every
message's signature, chain and CRL at its ``Created``, checkpoints and
consistency) reported in messages/s beside the bare signature verification
rate (``EnvelopeVerifier.verify_envelope``) measured in the same run.

Signing 100,000 envelopes takes minutes on two shared cores, so the log is
filled from ``--distinct`` signed envelopes (default 2,000, every sample body
class, senders across all 33 authorities and the hub), each appended many
times as its own leaf. The auditor verifies every leaf's message in full
each time: nothing is cached by message bytes, only by certificate, as the
live verifier does too.

    python -m bench.log_store [--messages N] [--distinct D] [--batch B]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree

from hub.clock import FixedClock
from hub.envelope import Header, Party, Practitioner, Recipient, build_envelope
from hub.identifiers import ALL_AUTHORITIES, HUB, AuthorityCode
from hub.log.audit import AuditTrust, audit_log
from hub.log.checkpointer import Checkpointer
from hub.log.entry import Direction, LogEntry
from hub.log.evidence import CrlTimeline, MessageChecker
from hub.log.message_log import GroupCommit, MessageLog
from hub.log.note import NoteSigner, generate_log_key
from hub.pki.issuing import init_pki
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.storage.log_folder import open_sqlite_log
from hub.verify import EnvelopeVerifier
from tests.support.parties import party_signer
from tests.support.paths import BODIES

GOAL_APPENDS_PER_S = 10_000
CHECKPOINT_EVERY = 10_000
_ACTING = {"KnownToQuery", "Referral", "ServiceSearch"}


def _signed(pki: PkiLayout, count: int, created: datetime) -> list[tuple[LogEntry, bytes]]:
    bodies = [etree.parse(str(path)).getroot() for path in sorted(BODIES.glob("*.xml"))]
    parties = [*ALL_AUTHORITIES, HUB]
    signers = {code: party_signer(pki, code) for code in parties}
    items = []
    for n in range(count):
        body = bodies[n % len(bodies)]
        sender = parties[n % len(parties)]
        recipient = parties[(n + 1) % len(parties)]
        name = etree.QName(body).localname
        acting = name in _ACTING
        header = Header(
            message_class=name,
            qualifier="request",
            sender=Party(sender),
            recipients=(Recipient(authority=AuthorityCode(recipient)),),
            created=created + timedelta(milliseconds=n),
            on_behalf_of=Practitioner("bench-0001", "Social worker", "social-care")
            if acting
            else None,
            purpose="child-protection-s47" if acting else None,
            consent="not-required" if acting else None,
        )
        raw = signers[sender].sign(build_envelope(header, body))
        direction: Direction = "out" if sender == HUB else "in"
        entry = LogEntry.for_message(
            raw, header, direction=direction, at=header.created + timedelta(seconds=1)
        )
        items.append((entry, raw))
    return items


def _relogged(entry: LogEntry, n: int) -> LogEntry:
    # The same message logged again later: a new leaf over the same bytes.
    return replace(entry, logged_at=entry.logged_at + timedelta(microseconds=n))


def _fill(
    log: MessageLog, signer: NoteSigner, items: list[tuple[LogEntry, bytes]], total: int, batch: int
) -> float:
    checkpointer = Checkpointer(log=log, signer=signer)
    seconds = 0.0
    for start in range(0, total, batch):
        chunk = [
            (_relogged(items[n % len(items)][0], n), items[n % len(items)][1])
            for n in range(start, min(start + batch, total))
        ]
        began = time.perf_counter()
        log.append_many(chunk)
        seconds += time.perf_counter() - began
        if log.size() % CHECKPOINT_EVERY == 0 or log.size() == total:
            checkpointer.sign_now()
    return seconds


async def _group_commit(
    folder: Path, items: list[tuple[LogEntry, bytes]], total: int
) -> dict[str, float]:
    log = open_sqlite_log(folder, group_commit=GroupCommit(max_batch=1000, max_delay=0.002))
    commits = 0
    original = log.storage.append

    def counting(items: Sequence[tuple[LogEntry, bytes]]) -> int:
        nonlocal commits
        commits += 1
        return original(items)

    # Wrapped in place to count commits: the log under test keeps its own storage.
    log.storage.append = counting  # type: ignore[method-assign]
    began = time.perf_counter()
    concurrency = 1000
    for start in range(0, total, concurrency):
        await asyncio.gather(
            *(
                log.append(_relogged(items[n % len(items)][0], n), items[n % len(items)][1])
                for n in range(start, min(start + concurrency, total))
            )
        )
    seconds = time.perf_counter() - began
    await log.aclose()
    return {
        "appends": total,
        "concurrent_waiters": concurrency,
        "appends_per_s": round(total / seconds),
        "commits": commits,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        pki = PkiLayout(folder / "pki")
        init_pki(pki, now=datetime.now(UTC) - timedelta(days=1))
        created = datetime.now(UTC) - timedelta(hours=1)
        began = time.perf_counter()
        items = _signed(pki, args.distinct, created)
        signing_s = time.perf_counter() - began
        mean_bytes = sum(len(raw) for _, raw in items) / len(items)

        signer = NoteSigner.from_key_text(generate_log_key("london-irt.hub/log")[0])
        log = open_sqlite_log(folder / "log")
        append_s = _fill(log, signer, items, args.messages, args.batch)
        db_bytes = sum(p.stat().st_size for p in (folder / "log").iterdir())
        grouped = asyncio.run(_group_commit(folder / "grouped", items, min(args.messages, 20_000)))

        trust = TrustStore.from_files(pki.root_cert, pki.crl)
        verifier = EnvelopeVerifier(trust=trust, clock=FixedClock(created + timedelta(minutes=1)))
        began = time.perf_counter()
        for _, raw in items:
            verifier.verify_envelope(raw)
        bare_rate = len(items) / (time.perf_counter() - began)

        audit = AuditTrust(
            checker=MessageChecker(CrlTimeline.from_files(pki.root_cert, [pki.crl])),
            log_key=signer.verifier,
        )
        began = time.perf_counter()
        summary = audit_log(log.storage, audit)
        audit_s = time.perf_counter() - began
        log.close()

    print(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "appends": {
                    "messages": args.messages,
                    "batch": args.batch,
                    "mean_message_bytes": round(mean_bytes),
                    "appends_per_s": round(args.messages / append_s),
                    "goal_per_s": GOAL_APPENDS_PER_S,
                    "meets_goal": args.messages / append_s >= GOAL_APPENDS_PER_S,
                    "db_bytes": db_bytes,
                    "synchronous": "FULL",
                },
                "group_commit": grouped,
                "verification": {
                    "log_messages": summary.messages_verified,
                    "distinct_signed_envelopes": args.distinct,
                    "signing_s": round(signing_s, 1),
                    "checkpoints": summary.checkpoints,
                    "audit_s": round(audit_s, 1),
                    "audit_messages_per_s": round(summary.messages_verified / audit_s),
                    "bare_verify_envelope_per_s": round(bare_rate),
                    "audit_over_bare": round((summary.messages_verified / audit_s) / bare_rate, 2),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
