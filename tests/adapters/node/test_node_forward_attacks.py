"""Attacks on a borough node: forged, relayed and tampered ``KnownToForward`` messages.

A real node (``build_node_app``, Southwark, a one-child index) on loopback
over mutual TLS. The forwards are built here and signed with the dev PKI's
real keys: the HUB's for a genuine forward, a borough's for a forged one.
A node trusts only the hub to forward, and trusts the hub's routing but never
its word about who asked: the requester's original query is verified on its
own. Each refusal is asserted by HTTP status, SPEC §5 code and reason.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from lxml import etree

from adapters.index.memory import MemoryChildIndex
from hub.clock import SystemClock
from hub.disclosure import KNOWNTO_NS, decision_element
from hub.envelope import Header, Party, Recipient, build_envelope, read_header
from hub.identifiers import HUB, AuthorityCode
from hub.pki.layout import PkiLayout
from hub.pki.profile import describe
from hub.pki.trust import TrustStore
from hub.policy.decision import Basis, Decision
from hub.signing import Signer
from hub.transport.tls import server_context
from hub.verify import EnvelopeVerifier, VerifiedMessage
from hub.xmlparse import parse_untrusted
from tests.support.loopback import message_url, serve_tls
from tests.support.node_world import AMARA_RECORD, error_of, known_to_query, southwark_node
from tests.support.parties import LAMBETH, SOUTHWARK, TlsSessions, party_signer, tls_files
from tests.support.pki_builders import look_alike_party

pytestmark = pytest.mark.asyncio(loop_scope="module")

_K = f"{{{KNOWNTO_NS}}}"


def _decision(outcome: str = "permit") -> Decision:
    """What the hub decided; the node reads only the outcome, level and categories."""
    permitted = outcome == "permit"
    return Decision(
        outcome=outcome,  # type: ignore[arg-type]
        level="existence" if permitted else "none",
        categories=frozenset(),
        obligations=None,
        basis=(
            Basis(
                side="responder",
                authority=SOUTHWARK,
                isp_id=f"isp-{SOUTHWARK}",
                version=1,
                digest="0" * 64,
                kind="permit" if permitted else "no-rule",
                rule_ids=("p",) if permitted else (),
            ),
        ),
        reason="test decision",
    )


@dataclass
class Node:
    """Southwark's node and the parties that talk to it."""

    pki: PkiLayout
    url: str
    sessions: TlsSessions
    _signers: dict[AuthorityCode, Signer] = field(default_factory=dict)

    def signer(self, code: AuthorityCode) -> Signer:
        if code not in self._signers:
            self._signers[code] = party_signer(self.pki, code)
        return self._signers[code]

    def query(self, signed_with: Signer | None = None) -> bytes:
        """Lambeth's signed query about Amara (or one signed with another key in Lambeth's name)."""
        return known_to_query(signed_with or self.signer(LAMBETH))

    def forward(
        self,
        original: bytes,
        *,
        signed_by: AuthorityCode = HUB,
        sender: AuthorityCode | None = None,
        outcome: str = "permit",
        correlation: Callable[[bytes], str] | None = None,
    ) -> bytes:
        """A ``KnownToForward`` carrying ``original``, built as the hub builds one."""
        now = SystemClock().now()
        deadline = now + timedelta(seconds=5)
        body = etree.Element(_K + "KnownToForward", nsmap={"kt": KNOWNTO_NS})
        body.append(decision_element(_K + "Decision", _decision(outcome), deadline=deadline))
        etree.SubElement(body, _K + "OriginalMessage").text = base64.b64encode(original).decode()
        header = Header(
            message_class="KnownToForward",
            qualifier="request",
            sender=Party(sender or signed_by),
            recipients=(Recipient(authority=SOUTHWARK),),
            created=now,
            correlation_id=read_header(parse_untrusted(original)).message_id
            if correlation is None
            else correlation(original),  # type: ignore[arg-type]
            expires=deadline,
        )
        return self.signer(signed_by).sign(build_envelope(header, body))

    async def post(self, body: bytes, *, tls_as: AuthorityCode = HUB) -> tuple[int, bytes]:
        return await self.sessions.post(self.url, body, tls_as=tls_as)

    def verify(self, body: bytes) -> VerifiedMessage:
        """``body`` verified as signed by Southwark."""
        message = EnvelopeVerifier(
            trust=TrustStore.from_files(self.pki.root_cert, self.pki.crl)
        ).verify_envelope(body)
        assert message.document.signer == SOUTHWARK
        return message

    def error(self, body: bytes) -> tuple[str, str]:
        return error_of(self.verify(body))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node(dev_pki: PkiLayout, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Node]:
    workdir = tmp_path_factory.mktemp("node-attacks")
    app = southwark_node(dev_pki, workdir)
    runner, port = await serve_tls(app, server_context(tls_files(dev_pki, SOUTHWARK)))
    live = Node(dev_pki, message_url(port), TlsSessions(dev_pki))
    yield live
    await live.sessions.close()
    await runner.cleanup()


async def test_the_hubs_own_forward_is_answered(node: Node) -> None:
    status, body = await node.post(node.forward(node.query()))
    assert status == 200
    answer = node.verify(body)
    assert answer.header.message_class == "KnownToResponse"
    assert answer.body.findtext(_K + "Status") == "known"


async def test_forward_from_a_borough_is_sender_mismatch(node: Node) -> None:
    forged = node.forward(node.query(), signed_by=LAMBETH)
    status, body = await node.post(forged, tls_as=LAMBETH)
    assert status == 403
    assert node.error(body) == ("sender-mismatch", "only the hub may forward queries to a node")


async def test_borough_signed_forward_claiming_to_be_from_the_hub_is_sender_mismatch(
    node: Node,
) -> None:
    forged = node.forward(node.query(), signed_by=LAMBETH, sender=HUB)
    status, body = await node.post(forged, tls_as=LAMBETH)
    assert status == 403
    assert node.error(body) == (
        "sender-mismatch",
        f"message says From HUB but is signed with a certificate of {LAMBETH}",
    )


async def test_borough_signed_forward_relayed_over_the_hubs_tls_is_sender_mismatch(
    node: Node,
) -> None:
    forged = node.forward(node.query(), signed_by=LAMBETH)
    status, body = await node.post(forged, tls_as=HUB)
    assert status == 403
    assert node.error(body) == (
        "sender-mismatch",
        f"TLS client certificate names HUB but the message is signed by {LAMBETH}",
    )


async def test_tampered_original_query_is_signature_invalid(node: Node) -> None:
    tampered = node.query().replace(b"Okafor", b"Okafur")
    status, body = await node.post(node.forward(tampered))
    assert status == 403
    assert node.error(body) == (
        "signature-invalid",
        "the signed content was changed after signing (reference digest does not match)",
    )


async def test_original_query_signed_under_a_look_alike_root_is_untrusted(node: Node) -> None:
    key, certificate = look_alike_party(kind="signing")
    forged = node.query(Signer(key=key, chain=(certificate,)))
    status, body = await node.post(node.forward(forged))
    assert status == 403
    assert node.error(body) == (
        "untrusted-certificate",
        f"certificate {describe(certificate)} does not chain to the London root CA: no pinned "
        f"root or supplied intermediate named '{certificate.issuer.rfc4514_string()}' "
        "verifies its signature",
    )


async def test_forward_naming_another_query_is_schema_invalid(node: Node) -> None:
    other = read_header(parse_untrusted(node.query())).message_id
    forward = node.forward(node.query(), correlation=lambda _: other)
    status, body = await node.post(forward)
    assert status == 400
    assert node.error(body) == (
        "schema-invalid",
        "the forward's CorrelationID does not name the query it carries",
    )


async def test_forward_carrying_a_forward_is_schema_invalid(node: Node) -> None:
    inner = node.forward(node.query())
    status, body = await node.post(node.forward(inner))
    assert status == 400
    assert node.error(body) == ("schema-invalid", "the forwarded message is a KnownToForward")


async def test_forward_under_a_deny_is_schema_invalid(node: Node) -> None:
    status, body = await node.post(node.forward(node.query(), outcome="deny"))
    assert status == 400
    assert node.error(body) == ("schema-invalid", "a forwarded decision must be a permit")


async def test_replayed_forward_is_a_duplicate(node: Node) -> None:
    forward = node.forward(node.query())
    first, _ = await node.post(forward)
    assert first == 200
    status, body = await node.post(forward)
    assert status == 409
    message_id = read_header(parse_untrusted(forward)).message_id
    assert node.error(body) == (
        "duplicate-message",
        f"KnownToForward {message_id} was already received and answered; "
        "ask again with a new MessageID",
    )


@pytest.mark.parametrize(
    ("index", "reason"),
    [
        (MemoryChildIndex([]), "the children's index is empty"),
        (
            MemoryChildIndex([AMARA_RECORD], refreshed_at=datetime.now(UTC) - timedelta(days=3)),
            "the children's index was imported 3.0 days ago",
        ),
    ],
    ids=["empty", "stale"],
)
async def test_a_node_unfit_to_answer_says_internal_error_never_not_known(
    node: Node, dev_pki: PkiLayout, tmp_path: Path, index: MemoryChildIndex, reason: str
) -> None:
    app = southwark_node(dev_pki, tmp_path, index=index)
    runner, port = await serve_tls(app, server_context(tls_files(dev_pki, SOUTHWARK)))
    unfit = Node(dev_pki, message_url(port), node.sessions)
    try:
        status, body = await unfit.post(unfit.forward(unfit.query()))
    finally:
        await runner.cleanup()
    assert status == 500
    code, text = unfit.error(body)
    assert code == "internal-error"
    assert text.startswith(reason)
