"""A real hub whose 32 borough nodes are played in memory, for known-to deadline and load tests.

The hub is built by ``build_hub_app`` and served over mutual TLS; requesters
sign real queries and post them over HTTPS. Its outbound delivery is
``PlayedNodes`` (the transport is the one thing replaced, as SPEC §4 allows a
test to): each ``KnownToForward`` is answered as a node would answer it, with
a ``KnownToResponse`` of ``not-known`` signed with that authority's real key,
after ``delay`` seconds; a ``slow`` node never answers before the timeout, and
a ``broken`` one fails in a way no transport should. Crypto, XML and policy
are real. Imported by name from the tests.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from aiohttp import web
from lxml import etree

from adapters.client.exchange import HubExchange
from adapters.client.knownto import ChildQuery
from hub.app.build import build_hub_app
from hub.clock import Clock, SystemClock
from hub.config import HubConfig, Limits
from hub.disclosure import KNOWNTO_NS
from hub.endpoint import ENDPOINT_KEY
from hub.envelope import Header, Party, Recipient, build_envelope, read_header
from hub.errors import DeliveryTimeout
from hub.identifiers import ALL_AUTHORITIES, HUB, AuthorityCode
from hub.knownto.settings import FanoutSettings
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.replay.guard import ReplayGuard
from hub.storage.memory.seen import MemorySeenStore
from hub.transport.delivery import Answer, HttpsDelivery
from hub.transport.tls import client_context, server_context
from hub.verify import EnvelopeVerifier, VerifiedMessage
from hub.xmlparse import XmlLimits, parse_untrusted
from tests.support.loopback import HOST, message_url, serve_tls
from tests.support.parties import LAMBETH, SOCIAL_WORKER, TlsSessions, signing_files, tls_files
from tests.support.signed_messages import SignerFor

UNKNOWN_CHILD: Final = ChildQuery(("Nobody",), "Known", nhs_number="9434765870", level="existence")
_NOT_KNOWN: Final = (
    f'<kt:KnownToResponse xmlns:kt="{KNOWNTO_NS}"><kt:Status>not-known</kt:Status>'
    "</kt:KnownToResponse>"
).encode()


def node_url(code: AuthorityCode) -> str:
    """Where the hub believes ``code``'s node is; ``PlayedNodes`` answers for it."""
    return f"https://{code.lower()}.nodes.invalid/v1/messages"


@dataclass
class PlayedNodes:
    """The hub's ``Delivery``: every node, answering in memory; see the module docstring."""

    signer_for: SignerFor
    delay: float = 0.1
    slow: frozenset[AuthorityCode] = frozenset()
    broken: frozenset[AuthorityCode] = frozenset()
    on_forward: Callable[[AuthorityCode], None] | None = None
    forwards: list[Header] = field(default_factory=list)
    """Every forward received, in order."""

    async def post(self, url: str, envelope: bytes, *, timeout: float) -> Answer:
        """Answer ``envelope`` as the node of ``url`` would."""
        code = AuthorityCode(url.split("//")[1].split(".", maxsplit=1)[0].upper())
        forward = read_header(parse_untrusted(envelope, limits=XmlLimits(max_bytes=len(envelope))))
        self.forwards.append(forward)
        if self.on_forward is not None:
            self.on_forward(code)
        if code in self.broken:
            raise RuntimeError(f"played node {code} broke the transport")
        if code in self.slow:
            await asyncio.sleep(timeout)
            raise DeliveryTimeout(f"{url} did not answer within {timeout:.1f} s")
        await asyncio.sleep(min(self.delay, timeout))
        signed = await asyncio.to_thread(self._answer, code, forward)
        return Answer(status=200, body=signed)

    def _answer(self, code: AuthorityCode, forward: Header) -> bytes:
        header = Header(
            message_class="KnownToResponse",
            qualifier="response",
            sender=Party(code, f"{code.lower()}-irt"),
            recipients=(Recipient(authority=HUB),),
            created=SystemClock().now(),
            correlation_id=forward.message_id,
        )
        return self.signer_for(code).sign(build_envelope(header, etree.fromstring(_NOT_KNOWN)))

    async def close(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True, slots=True)
class Posted:
    """One HTTP exchange with the hub, timed on the monotonic clock."""

    status: int
    body: bytes
    retry_after: str | None
    sent: float
    answered: float

    @property
    def seconds(self) -> float:
        """How long the answer took."""
        return self.answered - self.sent


@dataclass
class KnownToHub:
    """The running hub, and requesters that sign and post queries to it."""

    pki: PkiLayout
    signer_for: SignerFor
    nodes: PlayedNodes
    app: web.Application
    url: str
    verifier: EnvelopeVerifier
    sessions: TlsSessions
    _exchanges: list[HubExchange] = field(default_factory=list)

    def exchange(self, requester: AuthorityCode) -> HubExchange:
        """``requester``'s borough client of the hub, as its system runs it."""
        clock = SystemClock()
        exchange = HubExchange(
            authority=requester,
            node_id=f"{requester.lower()}-irt",
            signer=self.signer_for(requester),
            verifier=EnvelopeVerifier(
                trust=TrustStore.from_files(self.pki.root_cert, self.pki.crl),
                clock=clock,
                replay=ReplayGuard(store=MemorySeenStore(), clock=clock),
            ),
            delivery=HttpsDelivery(client_context(tls_files(self.pki, requester))),
            hub_url=self.url,
            clock=clock,
        )
        self._exchanges.append(exchange)
        return exchange

    def query(
        self,
        requester: AuthorityCode = LAMBETH,
        *,
        to: tuple[Recipient, ...] = (Recipient(scope="london"),),
        created: datetime | None = None,
        expires: timedelta | None = timedelta(seconds=5),
        child: ChildQuery = UNKNOWN_CHILD,
    ) -> bytes:
        """A signed ``KnownToQuery`` from ``requester``, ``created`` now by default,
        expiring ``expires`` after its ``Created``."""
        made = created or SystemClock().now()
        header = Header(
            message_class="KnownToQuery",
            qualifier="request",
            sender=Party(requester, f"{requester.lower()}-irt"),
            recipients=to,
            created=made,
            expires=None if expires is None else made + expires,
            on_behalf_of=SOCIAL_WORKER,
            purpose="child-protection-s47",
            consent="not-required",
        )
        return self.signer_for(requester).sign(build_envelope(header, child.body()))

    async def post(self, raw: bytes, *, requester: AuthorityCode = LAMBETH) -> Posted:
        """Post ``raw`` over mutual TLS as ``requester`` and time the answer."""
        sent = time.monotonic()
        async with self.sessions.session(requester).post(
            self.url, data=io.BytesIO(raw), headers={"Content-Type": "application/xml"}
        ) as response:
            body = await response.read()
            return Posted(
                response.status, body, response.headers.get("Retry-After"), sent, time.monotonic()
            )

    def answer(self, body: bytes) -> VerifiedMessage:
        """The hub's answer, verified as a requester verifies it."""
        message = self.verifier.verify_envelope(body)
        assert message.document.signer == HUB
        return message

    def metric(self, name: str, **labels: str) -> float:
        """One sample of the hub's Prometheus registry (0 when absent)."""
        registry = self.app[ENDPOINT_KEY].messenger.metrics.registry
        return registry.get_sample_value(name, labels) or 0.0

    async def close(self) -> None:
        """Close every requester's connections."""
        await self.sessions.close()
        for exchange in self._exchanges:
            await exchange.close()


@asynccontextmanager
async def knownto_hub(
    pki: PkiLayout,
    protocols: Path,
    workdir: Path,
    signer_for: SignerFor,
    nodes: PlayedNodes,
    *,
    fanout: FanoutSettings | None = None,
    deadline_seconds: float = 5.0,
    clock: Clock | None = None,
) -> AsyncIterator[KnownToHub]:
    """The hub on loopback, asking ``nodes``, until the block ends."""
    config = HubConfig(
        listen_host=HOST,
        listen_port=0,
        data_dir=workdir,
        tls=tls_files(pki, HUB),
        signing=signing_files(pki, HUB),
        limits=Limits(query_deadline_seconds=deadline_seconds),
        node_urls={code: node_url(code) for code in ALL_AUTHORITIES},
        protocols_dir=protocols,
        fanout=fanout or FanoutSettings(),
    )
    app = build_hub_app(config, clock=clock, delivery=nodes)
    runner, port = await serve_tls(app, server_context(config.tls))
    try:
        hub = KnownToHub(
            pki=pki,
            signer_for=signer_for,
            nodes=nodes,
            app=app,
            url=message_url(port),
            sessions=TlsSessions(pki),
            verifier=EnvelopeVerifier(trust=TrustStore.from_files(pki.root_cert, pki.crl)),
        )
        try:
            yield hub
        finally:
            await hub.close()
    finally:
        await runner.cleanup()
