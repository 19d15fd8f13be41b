"""A small interchange for referral tests: the hub and a few borough nodes on loopback.

Everything is real (certificates, signatures, XSDs, signed ISPs, SQLite,
HTTPS with mutual TLS); a test may give the hub its own clock and wrap its
outbound delivery to inject failures. Every server in this process is
handed the socket its port was first bound with (``tests.support.loopback``);
a node or hub restarted on the port it had binds it again itself.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict, Unpack

from aiohttp import web

from adapters.client.exchange import HubExchange
from adapters.client.knownto import ChildQuery
from adapters.client.referrals import ReferralClient, ReferralDraft
from adapters.client.services import CatalogueClient
from adapters.config import NodeConfig
from adapters.index.memory import MemoryChildIndex
from adapters.node.app import build_node_app
from adapters.referral.sqlite import NODE_REFERRAL_DATABASE, SqliteNodeReferrals
from adapters.synthetic.catalogues import demo_catalogue, write_demo_catalogue
from hub.app.build import build_hub_app
from hub.app.referrals import REFERRALS_KEY, ReferralParts
from hub.clock import Clock, SystemClock
from hub.config import HubConfig
from hub.endpoint import ENDPOINT_KEY
from hub.errors import DeliveryTimeout, RecipientUnavailable
from hub.identifiers import HUB, AuthorityCode
from hub.log.message_log import MessageLog
from hub.log.routes import LOG_KEY
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.referral.messages import Contact
from hub.referral.settings import ReferralSettings
from hub.replay.guard import ReplayGuard
from hub.serve import server_tls_for
from hub.storage.memory.seen import MemorySeenStore
from hub.transport.delivery import Answer, Delivery, HttpsDelivery
from hub.transport.tls import DEFAULT_CRL_RELOAD_SECONDS, TlsFiles, client_context
from hub.verify import EnvelopeVerifier
from tests.support.loopback import HOST, hold_port, message_url, port_of, serve_tls
from tests.support.parties import (
    CROYDON,
    LAMBETH,
    SOUTHWARK,
    key_tables,
    party_signer,
    signing_files,
    tls_files,
)

AMARA = ChildQuery(
    given_names=("Amara",),
    family_name="Okafor",
    birth_date=datetime(2012, 3, 9, tzinfo=UTC).date(),
    sex="female",
    postcode="SW2 1RW",
    nhs_number="9434765919",
)


def hub_toml(
    pki: PkiLayout,
    protocols: Path,
    data_dir: Path,
    port: int,
    nodes: Mapping[AuthorityCode, str],
    *,
    tables: str = "",
) -> str:
    """A hub TOML file for ``irthub hub run`` on loopback with the dev PKI.

    ``tables`` adds TOML tables ([storage], [log], [referrals]…) before [nodes].
    """
    urls = "\n".join(f'{code} = "{url}"' for code, url in sorted(nodes.items()))
    return f"""[hub]
listen_host = "{HOST}"
listen_port = {port}
data_dir = "{data_dir}"
protocols = "{protocols}"

{key_tables(pki, HUB)}
{tables}
[nodes]
{urls}
"""


class DraftChanges(TypedDict, total=False):
    """The ``ReferralDraft`` fields a test may change from ``camhs_referral``'s."""

    to: AuthorityCode
    service_id: str
    child: ChildQuery
    concern_level: int
    categories: tuple[str, ...]
    reason: str
    consent: str
    referrer: Contact | None


def camhs_referral(**changes: Unpack[DraftChanges]) -> ReferralDraft:
    """Lambeth refers Amara (14) to Southwark CAMHS, which takes Lambeth's residents."""
    values: DraftChanges = {
        "to": SOUTHWARK,
        "service_id": "southwark-camhs",
        "child": AMARA,
        "concern_level": 2,
        "categories": ("involvement", "mental-health"),
        "reason": "Self-harm since moving schools; her mother asks for specialist support.",
        "consent": "given",
        "referrer": Contact("Daniel Osei", "Social worker", "020 7926 1000"),
    }
    values.update(changes)
    return ReferralDraft(**values)


@dataclass
class ReferralWorld:
    """The hub and nodes of ``authorities``, running until ``stop``."""

    pki: PkiLayout
    protocols: Path
    workdir: Path
    authorities: tuple[AuthorityCode, ...] = (LAMBETH, SOUTHWARK, CROYDON)
    settings: ReferralSettings = field(default_factory=ReferralSettings)
    clock: Clock | None = None
    """Every party's clock (hub, nodes, borough clients); the system clock by default."""
    wrap_delivery: Callable[[Delivery], Delivery] | None = None
    """Wraps the hub's HTTPS delivery (failure injection)."""
    publish_at_start: bool = False
    """Give each node a synthetic catalogue file, published by the node when it starts."""
    down: tuple[AuthorityCode, ...] = ()
    """Authorities whose node is not started (its port is held but refuses connections)."""
    hub_url: str = ""
    node_urls: dict[AuthorityCode, str] = field(default_factory=dict)
    node_url_override: dict[AuthorityCode, str] = field(default_factory=dict)
    """Where the hub posts for an authority instead of its node (a proxy)."""
    hub_connections_per_node: int = 8
    """The hub's outbound connections to each node."""
    client_connections: int = 8
    """Each borough client's connections to the hub."""
    crl_reload_seconds: float = DEFAULT_CRL_RELOAD_SECONDS
    """How often every party looks for a new CRL (``[tls] crl_reload_seconds``)."""
    _nodes: dict[AuthorityCode, web.AppRunner] = field(default_factory=dict)
    _held: dict[AuthorityCode, socket.socket] = field(default_factory=dict)
    """Ports bound for a party that has not started yet (``HUB`` for the hub)."""
    _hub: web.AppRunner | None = None
    _hub_app: web.Application | None = None
    _exchanges: list[HubExchange] = field(default_factory=list)
    _stores: list[SqliteNodeReferrals] = field(default_factory=list)

    async def start(self) -> ReferralWorld:
        """Start every node (but the down ones), then the hub."""
        await self.start_nodes()
        await self.start_hub()
        return self

    async def start_nodes(self) -> None:
        """Give every authority a port and start its node (unless it is down)."""
        self.hold_hub_port()  # the nodes name the hub (health probe, CRL distribution point)
        for code in self.authorities:
            self._held[code] = hold_port()
            self.node_urls[code] = message_url(port_of(self._held[code]))
            if code not in self.down:
                await self.start_node(code)

    def hold_hub_port(self) -> str:
        """Bind the hub's port now, so that nodes started first can name its URL."""
        if not self.hub_url:
            self._held[HUB] = hold_port()
            self.hub_url = message_url(port_of(self._held[HUB]))
        return self.hub_url

    async def stop(self) -> None:
        """Stop the hub, the nodes and every client."""
        for exchange in self._exchanges:
            await exchange.close()
        for store in self._stores:
            store.close()
        await self.stop_hub()
        for code in list(self._nodes):
            await self.stop_node(code)
        for held in self._held.values():
            held.close()
        self._held.clear()

    async def start_node(self, code: AuthorityCode) -> None:
        """Start ``code``'s node on its port (held since ``start_nodes``, or bound again)."""
        port = int(self.node_urls[code].split(":")[2].split("/")[0])
        config = NodeConfig(
            authority=code,
            node_id=f"{code.lower()}-irt",
            listen_host=HOST,
            listen_port=port,
            index=self.workdir / "unused.sqlite",
            hub_url=self.hub_url,
            tls=replace(tls_files(self.pki, code), crl_reload_seconds=self.crl_reload_seconds),
            signing=signing_files(self.pki, code),
            data_dir=self.workdir / "nodes" / code,
            catalogue=self._catalogue_file(code) if self.publish_at_start else None,
        )
        app = build_node_app(config, index=MemoryChildIndex([]), clock=self.clock)
        self._nodes[code] = await self._serve(code, app, config.tls, port)

    def _catalogue_file(self, code: AuthorityCode) -> Path:
        path = self.workdir / "nodes" / code / "services.xml"
        return write_demo_catalogue(code, path, published=datetime.now(UTC))

    async def stop_node(self, code: AuthorityCode) -> None:
        """Stop ``code``'s node; its port refuses connections until started again."""
        runner = self._nodes.pop(code)
        await runner.cleanup()

    async def start_hub(self) -> None:
        """Build and serve the hub from its data folder (a restart keeps its state and URL)."""
        self.hold_hub_port()
        config = HubConfig(
            listen_host=HOST,
            listen_port=int(self.hub_url.split(":")[2].split("/")[0]),
            data_dir=self.workdir / "hub",
            tls=replace(tls_files(self.pki, HUB), crl_reload_seconds=self.crl_reload_seconds),
            signing=signing_files(self.pki, HUB),
            node_urls={**self.node_urls, **self.node_url_override},
            protocols_dir=self.protocols,
            referrals=self.settings,
        )
        delivery: Delivery = HttpsDelivery(
            client_context(config.tls), connections_per_host=self.hub_connections_per_node
        )
        if self.wrap_delivery is not None:
            delivery = self.wrap_delivery(delivery)
        self._hub_app = build_hub_app(config, clock=self.clock, delivery=delivery)
        self._hub = await self._serve(HUB, self._hub_app, config.tls, config.listen_port)

    async def _serve(
        self, party: AuthorityCode, app: web.Application, tls: TlsFiles, port: int
    ) -> web.AppRunner:
        held = self._held.pop(party, None)
        context = server_tls_for(app, tls)
        runner, _ = await serve_tls(app, context, sock=held, port=port, shutdown_timeout=1.0)
        return runner

    async def stop_hub(self) -> None:
        """Stop the hub cleanly."""
        if self._hub is not None:
            await self._hub.cleanup()
            self._hub = None

    @property
    def hub_app(self) -> web.Application:
        """The running hub's application."""
        assert self._hub_app is not None
        return self._hub_app

    def hub_metrics_text(self) -> str:
        """The hub's Prometheus exposition, as ``GET /metrics`` answers it."""
        return self.hub_app[ENDPOINT_KEY].messenger.metrics.exposition().decode()

    def node_app(self, code: AuthorityCode) -> web.Application:
        """``code``'s running node application."""
        return self._nodes[code].app

    @property
    def hub(self) -> ReferralParts:
        """The hub's referral parts (storage, catalogue and referral handlers, courier)."""
        assert self._hub_app is not None
        return self._hub_app[REFERRALS_KEY]

    @property
    def hub_log(self) -> MessageLog:
        """The hub's message log (SPEC §8)."""
        assert self._hub_app is not None
        return self._hub_app[LOG_KEY]

    def exchange(self, code: AuthorityCode) -> HubExchange:
        """A borough system's signed conversation with the hub."""
        clock = self.clock or SystemClock()
        exchange = HubExchange(
            authority=code,
            node_id=f"{code.lower()}-irt",
            signer=party_signer(self.pki, code),
            verifier=EnvelopeVerifier(
                trust=TrustStore.from_files(self.pki.root_cert, self.pki.crl),
                clock=clock,
                replay=ReplayGuard(store=MemorySeenStore(), clock=clock),
            ),
            delivery=HttpsDelivery(
                client_context(tls_files(self.pki, code)),
                connections_per_host=self.client_connections,
            ),
            hub_url=self.hub_url,
            clock=clock,
        )
        self._exchanges.append(exchange)
        return exchange

    def referrals(self, code: AuthorityCode) -> ReferralClient:
        """``code``'s referral client."""
        return ReferralClient(self.exchange(code))

    def catalogues(self, code: AuthorityCode) -> CatalogueClient:
        """``code``'s catalogue client: publish its catalogue, search London's services."""
        return CatalogueClient(self.exchange(code))

    def node_store(self, code: AuthorityCode) -> SqliteNodeReferrals:
        """``code``'s node referral store, opened beside the running node."""
        store = SqliteNodeReferrals(self.workdir / "nodes" / code / NODE_REFERRAL_DATABASE)
        self._stores.append(store)
        return store

    async def publish_catalogues(self, codes: Iterable[AuthorityCode] | None = None) -> None:
        """Publish the synthetic catalogue of each authority, as its node does at start."""
        now = datetime.now(UTC)
        for code in codes or self.authorities:
            await self.catalogues(code).publish(demo_catalogue(code, published=now))


@dataclass
class ScriptedFaults:
    """Failure injection in front of the hub's real delivery, per URL, in order.

    ``refuse``: the connection is refused (nothing reaches the node);
    ``500``: the node answers HTTP 500 without a signed envelope;
    ``cut``: the node gets the message and answers, but the connection is
    cut before the answer arrives; ``slow``: the node gets it and answers
    after the attempt's timeout. After its script a URL is served normally.
    """

    inner: Delivery
    scripts: dict[str, list[str]] = field(default_factory=dict)
    posts: dict[str, int] = field(default_factory=dict)

    async def post(self, url: str, envelope: bytes, *, timeout: float) -> Answer:
        self.posts[url] = self.posts.get(url, 0) + 1
        script = self.scripts.get(url) or []
        fault = script.pop(0) if script else None
        if fault == "refuse":
            raise RecipientUnavailable(f"cannot reach {url}: connection refused (injected)")
        if fault == "500":
            return Answer(status=500, body=b"500 Internal Server Error")
        answer = await self.inner.post(url, envelope, timeout=timeout)
        if fault == "cut":
            raise RecipientUnavailable(f"{url}: connection reset mid-response (injected)")
        if fault == "slow":
            await asyncio.sleep(timeout)
            raise DeliveryTimeout(f"{url} did not answer within {timeout:.1f} s (injected)")
        return answer

    async def close(self) -> None:
        await self.inner.close()


async def wait_until(check: Callable[[], bool], *, timeout: float = 10.0) -> None:
    """Poll ``check`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.05)
