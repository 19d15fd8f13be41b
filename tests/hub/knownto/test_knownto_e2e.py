"""Known-to end to end: the hub and real borough nodes over mutual TLS on loopback.

One world of all 33 authorities is started for the module (small synthetic
indexes, the demo's planted children); Bromley's node is down and
Wandsworth's answers after the deadline. Everything is real: certificates,
signatures, XSDs, SQLite, HTTPS.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta

import pytest
import pytest_asyncio
from click.testing import CliRunner
from lxml import etree

from adapters.client.knownto import ChildQuery, KnownToAnswer, KnownToClient
from hub.clock import SystemClock
from hub.endpoint import ENDPOINT_KEY
from hub.envelope import Header, Party, Recipient, build_envelope
from hub.identifiers import ALL_AUTHORITIES, HUB, AuthorityCode
from hub.log.routes import LOG_KEY
from hub.pki.trust import TrustStore
from hub.verify import EnvelopeVerifier
from irthub.cli import main
from irthub.demo.scenario import DOWN, QUERIES, SLOW
from irthub.demo.world import DemoOptions, DemoWorld, prepare
from tests.support.parties import (
    CROYDON,
    LAMBETH,
    SOCIAL_WORKER,
    SOUTHWARK,
    TlsSessions,
    party_signer,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

LEWISHAM = AuthorityCode("E09000023")
DEADLINE = 2.0
AMARA, UNKNOWN, AMBIGUOUS = (q.child for q in QUERIES)


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> DemoOptions:
    options = DemoOptions(
        workdir=tmp_path_factory.mktemp("world"),
        children_per_authority=30,
        deadline_seconds=DEADLINE,
        down=(DOWN,),
        slow=(SLOW,),
        slow_delay_seconds=DEADLINE + 4,
    )
    prepare(options)
    return options


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(options: DemoOptions) -> AsyncIterator[DemoWorld]:
    async with DemoWorld(options) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lambeth(world: DemoWorld) -> KnownToClient:
    client = world.client(LAMBETH)
    # Warm every answering node once, unmeasured: a cold world's first fan-out
    # pays 32 TLS handshakes and each thread's schema compilation, and on a busy
    # machine that alone can outlast the 2 s deadline less the result reserve.
    warm = tuple(c for c in ALL_AUTHORITIES if c not in (LAMBETH, SLOW, DOWN))
    await _ask(client, UNKNOWN, scope=None, targets=warm)
    return client


async def _ask(
    client: KnownToClient,
    child: ChildQuery,
    *,
    scope: str | None = "london",
    targets: Sequence[AuthorityCode] = (),
) -> KnownToAnswer:
    return await client.ask(
        child,
        practitioner=SOCIAL_WORKER,
        purpose="child-protection-s47",
        consent="not-required",
        scope=scope,
        targets=targets,
    )


async def test_child_known_in_two_boroughs_across_all_33(lambeth: KnownToClient) -> None:
    answer = await _ask(lambeth, AMARA)
    by_authority = {row.authority: row for row in answer.rows}
    assert len(by_authority) == 32  # every authority but the requester
    assert LAMBETH not in by_authority
    assert by_authority[SOUTHWARK].status == "known"
    assert by_authority[CROYDON].status == "known"
    assert by_authority[DOWN].status == "unavailable"
    assert by_authority[SLOW].status == "timeout"
    assert {row.status for row in answer.rows} <= {
        "known", "not-known", "refused", "unavailable", "timeout",
    }  # fmt: skip
    southwark = by_authority[SOUTHWARK]
    assert southwark.verified_by_node_signature
    assert southwark.local_reference == "SWK-DEMO-1"
    services = {i.fields["ServiceName"] for i in southwark.involvements}
    assert "Family Support Team" in services


async def test_unknown_child_is_not_known_anywhere(lambeth: KnownToClient) -> None:
    answer = await _ask(lambeth, UNKNOWN, scope=None, targets=(SOUTHWARK, CROYDON, LEWISHAM))
    assert [row.status for row in answer.rows] == ["not-known"] * 3


async def test_ambiguous_answer_carries_no_record(lambeth: KnownToClient) -> None:
    answer = await _ask(lambeth, AMBIGUOUS, scope=None, targets=(LEWISHAM,))
    (row,) = answer.rows
    assert row.status == "ambiguous"
    assert row.involvements == ()
    assert row.local_reference is None
    assert "Postcode" in row.deciding_traits


async def test_granted_level_limits_what_is_disclosed(lambeth: KnownToClient) -> None:
    existence = ChildQuery(("Amara",), "Okafor", AMARA.birth_date, level="existence")
    (row,) = (await _ask(lambeth, existence, scope=None, targets=(SOUTHWARK,))).rows
    assert row.status == "known"
    assert row.involvements == ()
    agencies = ChildQuery(("Amara",), "Okafor", AMARA.birth_date, level="agencies")
    (row,) = (await _ask(lambeth, agencies, scope=None, targets=(SOUTHWARK,))).rows
    assert row.involvements
    for involvement in row.involvements:
        assert "PractitionerName" not in involvement.fields
        assert "StartDate" not in involvement.fields


async def test_slow_and_dead_nodes_never_delay_past_the_deadline(lambeth: KnownToClient) -> None:
    started = time.monotonic()
    answer = await _ask(lambeth, UNKNOWN, scope=None, targets=(SLOW, DOWN, SOUTHWARK))
    elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + 1.0
    statuses = {row.authority: row.status for row in answer.rows}
    assert statuses == {SLOW: "timeout", DOWN: "unavailable", SOUTHWARK: "not-known"}


async def test_requester_verifies_each_node_answer_alone(
    world: DemoWorld, options: DemoOptions
) -> None:
    raw_result = await _raw_query(world, options, AMARA, targets=(SOUTHWARK,))
    root = etree.fromstring(raw_result)
    signed = root.find(".//{urn:lcpc:irt:knownto:1}SignedResponse")
    assert signed is not None
    node_answer = base64.b64decode("".join((signed.text or "").split()))
    verifier = EnvelopeVerifier(trust=TrustStore.from_files(options.pki.root_cert, options.pki.crl))
    message = verifier.verify_envelope(node_answer)
    assert message.document.signer == SOUTHWARK
    assert message.header.message_class == "KnownToResponse"
    tampered = node_answer.replace(b"Family Support Team", b"Family Support Tean")
    with pytest.raises(Exception, match="changed after signing"):
        verifier.verify_envelope(tampered)


async def test_every_message_is_logged_witnessed_and_audited(
    world: DemoWorld, options: DemoOptions, lambeth: KnownToClient
) -> None:
    log = world.apps[HUB][LOG_KEY]
    before = log.size()
    await _ask(lambeth, UNKNOWN, scope=None, targets=(SOUTHWARK, CROYDON))
    # Nodes publish their service catalogues meanwhile; only this query counts.
    entries = [log.entry(index) for index in range(before, log.size())]
    entries = [e for e in entries if e.message_class.startswith("KnownTo")]
    assert sorted((e.direction, e.message_class) for e in entries) == [
        ("in", "KnownToQuery"),
        ("in", "KnownToResponse"),
        ("in", "KnownToResponse"),
        ("out", "KnownToForward"),
        ("out", "KnownToForward"),
        ("out", "KnownToResult"),
    ]
    forwards = [e for e in entries if e.message_class == "KnownToForward"]
    assert all(e.decision_digest for e in forwards)
    responses = [e for e in entries if e.message_class == "KnownToResponse"]
    assert {e.decision_digest for e in responses} == {e.decision_digest for e in forwards}
    # The borough nodes witness the log: wait for a cosigned checkpoint.
    for _ in range(40):
        checkpoint = log.latest_checkpoint()
        if checkpoint is not None and len(log.cosignatures(checkpoint.size)) >= 17:
            break
        await asyncio.sleep(0.25)
    else:
        pytest.fail("no checkpoint was cosigned by a quorum of borough witnesses")
    state = options.log_dir
    result = CliRunner().invoke(
        main,
        [
            "audit", "verify", "--log", str(state),
            "--trust-root", str(options.pki.root_cert), "--crl", str(options.pki.crl),
            "--log-key", str(state / "log.pub"),
            "--witnesses", str(options.workdir / "hub" / "witnesses.txt"), "--quorum", "17",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    verified = int(result.output.split("messages verified:")[1].split()[0])
    assert verified >= log.size() - 1 >= before + 5


# ------------------------------------------------------------ bad input at the hub


@pytest.mark.parametrize(
    ("mutate", "status", "code", "reason"),
    [
        (lambda raw: b"<not-xml", 400, "malformed-xml", "Couldn't find end of Start Tag"),
        (lambda raw: raw.split(b"<ds:Signature")[0] + b"</env:Envelope>", 403,
         "signature-invalid", "not signed"),
        (lambda raw: raw.replace(b"Okafor", b"Okafur"), 403, "signature-invalid",
         "changed after signing"),
        (lambda raw: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', 400,
         "forbidden-xml", "DTD"),
        (lambda raw: raw + b" " * (1024 * 1024), 413, "too-large", "limit"),
    ],
    ids=["malformed", "unsigned", "tampered", "dtd", "oversized"],
)  # fmt: skip
async def test_bad_input_gets_a_signed_error_and_never_reaches_a_node(
    world: DemoWorld,
    options: DemoOptions,
    mutate: Callable[[bytes], bytes],
    status: int,
    code: str,
    reason: str,
) -> None:
    forwards_before = _node_forwards(world)
    raw = _signed_query(options, AMARA, targets=(SOUTHWARK,))
    answer_status, body = await _post(world, options, mutate(raw))
    assert answer_status == status
    error = _verified_error(options, body)
    assert error.get("code") == code
    assert reason in (error.text or "")
    assert _node_forwards(world) == forwards_before


async def test_stale_query_is_refused(world: DemoWorld, options: DemoOptions) -> None:
    raw = _signed_query(options, AMARA, targets=(SOUTHWARK,), age=timedelta(minutes=10))
    status, body = await _post(world, options, raw)
    assert status == 400
    assert _verified_error(options, body).get("code") == "stale-message"


async def test_replayed_query_is_a_duplicate(world: DemoWorld, options: DemoOptions) -> None:
    raw = _signed_query(options, UNKNOWN, targets=(SOUTHWARK,))
    first, _ = await _post(world, options, raw)
    assert first == 200
    status, body = await _post(world, options, raw)
    assert status == 409
    error = _verified_error(options, body)
    assert error.get("code") == "duplicate-message"
    assert "already received and answered" in (error.text or "")


async def test_wrong_tls_identity_is_refused(world: DemoWorld, options: DemoOptions) -> None:
    raw = _signed_query(options, AMARA, targets=(SOUTHWARK,))
    status, body = await _post(world, options, raw, tls_as=CROYDON)
    assert status == 403
    error = _verified_error(options, body)
    assert error.get("code") == "sender-mismatch"
    assert "TLS client certificate names E09000008" in (error.text or "")


async def test_unknown_recipient(world: DemoWorld, options: DemoOptions) -> None:
    raw = _signed_query(options, AMARA, targets=(LAMBETH,))
    status, body = await _post(world, options, raw)
    assert status == 404
    assert _verified_error(options, body).get("code") == "unknown-recipient"


async def test_health_metrics_and_directory(world: DemoWorld, options: DemoOptions) -> None:
    base = world.hub_url.removesuffix("/v1/messages")
    sessions = TlsSessions(options.pki)
    session = sessions.session(LAMBETH)
    try:
        async with session.get(base + "/healthz") as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ok"
        async with session.get(base + "/metrics") as response:
            text = await response.text()
            assert 'irt_messages_total{message_class="KnownToQuery",outcome="ok"}' in text
            assert "irt_fanout_target_total" in text
        async with session.get(base + "/v1/directory") as response:
            directory = EnvelopeVerifier(
                trust=TrustStore.from_files(options.pki.root_cert, options.pki.crl)
            ).verify_envelope(await response.read())
            assert directory.document.signer == HUB
            assert len(directory.body.findall("{urn:lcpc:irt:directory:1}Authority")) == 33
    finally:
        await sessions.close()


# ---------------------------------------------------------------- helpers


def _signed_query(
    options: DemoOptions,
    child: ChildQuery,
    *,
    targets: tuple[AuthorityCode, ...],
    age: timedelta = timedelta(0),
) -> bytes:
    now = SystemClock().now() - age
    header = Header(
        message_class="KnownToQuery",
        qualifier="request",
        sender=Party(LAMBETH, "e09000022-irt"),
        recipients=tuple(Recipient(authority=t) for t in targets),
        created=now,
        on_behalf_of=SOCIAL_WORKER,
        purpose="child-protection-s47",
        consent="not-required",
    )
    return party_signer(options.pki, LAMBETH).sign(build_envelope(header, child.body()))


async def _raw_query(
    world: DemoWorld, options: DemoOptions, child: ChildQuery, *, targets: tuple[AuthorityCode, ...]
) -> bytes:
    status, body = await _post(world, options, _signed_query(options, child, targets=targets))
    assert status == 200
    return body


async def _post(
    world: DemoWorld, options: DemoOptions, data: bytes, *, tls_as: AuthorityCode = LAMBETH
) -> tuple[int, bytes]:
    sessions = TlsSessions(options.pki)
    try:
        return await sessions.post(world.hub_url, data, tls_as=tls_as)
    finally:
        await sessions.close()


def _verified_error(options: DemoOptions, body: bytes) -> etree._Element:
    message = EnvelopeVerifier(
        trust=TrustStore.from_files(options.pki.root_cert, options.pki.crl)
    ).verify_envelope(body)
    assert message.document.signer == HUB
    assert message.header.qualifier == "error"
    return message.body


def _node_forwards(world: DemoWorld) -> float:
    """Forwards the nodes have answered, slow node aside.

    The slow node answers each forward DEADLINE + 4 s after it arrived, so its
    count still grows with earlier tests' London-wide queries (which the hub
    gave up on at their deadline) while a later test runs; counting it would
    make a test count another test's messages.
    """
    total = 0.0
    for code, app in world.apps.items():
        if code in (HUB, SLOW):
            continue
        registry = app[ENDPOINT_KEY].messenger.metrics.registry
        value = registry.get_sample_value(
            "irt_messages_total", {"message_class": "KnownToForward", "outcome": "ok"}
        )
        total += value or 0.0
    return total
