"""Misbehaving nodes: each is reported for its own authority only, never crashing the hub.

Real hub, real TLS; the "nodes" here are small aiohttp servers holding the
authorities' real TLS and signing keys and answering badly on purpose:
garbage, an HTTP 500 page, an answer signed by the wrong authority, and an
answer that discloses more than the hub granted (which must be withheld).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from lxml import etree

from adapters.client.knownto import ChildQuery, KnownToClient
from adapters.config import NodeConfig
from hub.app.build import build_hub_app
from hub.config import HubConfig, Limits
from hub.envelope import Header, Party, Practitioner, Recipient, build_envelope, read_header
from hub.identifiers import HUB, AuthorityCode
from hub.pki.layout import PkiLayout
from hub.signing import Signer
from hub.transport.tls import TlsFiles, server_context
from hub.xmlparse import parse_untrusted
from tests.support.loopback import HOST, message_url, serve_tls
from tests.support.parties import LAMBETH, party_signer, signing_files, tls_files

pytestmark = pytest.mark.asyncio(loop_scope="module")

GARBAGE = AuthorityCode("E09000028")  # Southwark
ERROR_PAGE = AuthorityCode("E09000008")  # Croydon
IMPOSTOR = AuthorityCode("E09000023")  # Lewisham, answering with Merton's key
OVERSHARER = AuthorityCode("E09000032")  # Wandsworth
MERTON = AuthorityCode("E09000024")
CHILD = ChildQuery(("Amara",), "Okafor", None, nhs_number="9434765919", level="existence")

Answer = Callable[[bytes], Awaitable[web.Response]]


def _response(signer: Signer, forward: bytes, *, sender: AuthorityCode, body: bytes) -> bytes:
    request = read_header(parse_untrusted(forward))
    header = Header(
        message_class="KnownToResponse",
        qualifier="response",
        sender=Party(sender),
        recipients=(Recipient(authority=HUB),),
        created=request.created,
        correlation_id=request.message_id,
    )
    return signer.sign(build_envelope(header, etree.fromstring(body)))


_OVERSHARED = b"""<kt:KnownToResponse xmlns:kt="urn:lcpc:irt:knownto:1">
  <kt:Status>known</kt:Status>
  <kt:Involvement>
    <kt:AgencyType>health</kt:AgencyType>
    <kt:ServiceName>CAMHS</kt:ServiceName>
    <kt:Category>mental-health</kt:Category>
    <kt:PractitionerName>Dr Tom Hale</kt:PractitionerName>
  </kt:Involvement>
</kt:KnownToResponse>"""
_NOT_KNOWN = (
    b'<kt:KnownToResponse xmlns:kt="urn:lcpc:irt:knownto:1">'
    b"<kt:Status>not-known</kt:Status></kt:KnownToResponse>"
)


@dataclass
class Faulty:
    layout: PkiLayout

    def answers(self) -> dict[AuthorityCode, Answer]:
        async def garbage(_: bytes) -> web.Response:
            return web.Response(body=b"\x00\xffnot xml at all", content_type="application/xml")

        async def error_page(_: bytes) -> web.Response:
            return web.Response(status=500, text="<html>Internal Server Error</html>")

        async def impostor(forward: bytes) -> web.Response:
            body = _response(
                party_signer(self.layout, MERTON), forward, sender=MERTON, body=_NOT_KNOWN
            )
            return web.Response(body=body, content_type="application/xml")

        async def oversharer(forward: bytes) -> web.Response:
            signer = party_signer(self.layout, OVERSHARER)
            body = _response(signer, forward, sender=OVERSHARER, body=_OVERSHARED)
            return web.Response(body=body, content_type="application/xml")

        return {
            GARBAGE: garbage,
            ERROR_PAGE: error_page,
            IMPOSTOR: impostor,
            OVERSHARER: oversharer,
        }


async def _serve(app: web.Application, tls: TlsFiles) -> tuple[web.AppRunner, str]:
    runner, port = await serve_tls(app, server_context(tls))
    return runner, message_url(port)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(
    dev_pki: PkiLayout, signed_protocols: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[KnownToClient]:
    runners: list[web.AppRunner] = []
    urls: dict[AuthorityCode, str] = {}
    for code, answer in Faulty(dev_pki).answers().items():

        async def route(request: web.Request, answer: Answer = answer) -> web.Response:
            return await answer(await request.read())

        app = web.Application()
        app.router.add_post("/v1/messages", route)
        runner, urls[code] = await _serve(app, tls_files(dev_pki, code))
        runners.append(runner)
    state: Path = tmp_path_factory.mktemp("hub")
    config = HubConfig(
        listen_host=HOST,
        listen_port=0,
        data_dir=state,
        tls=tls_files(dev_pki, HUB),
        signing=signing_files(dev_pki, HUB),
        limits=Limits(query_deadline_seconds=3.0),
        node_urls=urls,
        protocols_dir=signed_protocols,
    )
    hub_runner, hub_url = await _serve(build_hub_app(config), config.tls)
    runners.append(hub_runner)
    node = NodeConfig(
        authority=LAMBETH,
        node_id="lambeth-irt",
        listen_host=HOST,
        listen_port=0,
        index=state / "unused.sqlite",
        hub_url=hub_url,
        tls=tls_files(dev_pki, LAMBETH),
        signing=signing_files(dev_pki, LAMBETH),
        data_dir=state,
    )
    known_to = KnownToClient.from_node_config(node)
    yield known_to
    await known_to.close()
    for runner in reversed(runners):
        await runner.cleanup()


async def test_each_misbehaving_node_is_an_error_for_its_authority_only(
    client: KnownToClient,
) -> None:
    answer = await client.ask(
        CHILD,
        practitioner=Practitioner("lam-sw-0142", "Social worker", "social-care"),
        purpose="child-protection-s47",
        consent="not-required",
        targets=(GARBAGE, ERROR_PAGE, IMPOSTOR, OVERSHARER),
    )
    rows = {row.authority: row for row in answer.rows}
    assert {code: row.status for code, row in rows.items()} == {
        GARBAGE: "error",
        ERROR_PAGE: "error",
        IMPOSTOR: "error",
        OVERSHARER: "error",
    }
    assert "unusable answer (HTTP 200, malformed-xml)" in (rows[GARBAGE].reason or "")
    assert "unusable answer (HTTP 500, schema-invalid)" in (rows[ERROR_PAGE].reason or "")
    assert "signed by E09000024, not by E09000023" in (rows[IMPOSTOR].reason or "")
    overshare = rows[OVERSHARER].reason or ""
    assert "answer withheld: policy violation by the responder" in overshare
    # Nothing of the over-disclosed answer reaches the requester.
    assert rows[OVERSHARER].involvements == ()
    assert not rows[OVERSHARER].verified_by_node_signature
