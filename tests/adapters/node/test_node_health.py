"""A node's ``/healthz``: index size and age, certificates, CRL and the hub; 503 when wrong."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography import x509

from adapters.config import NodeConfig
from adapters.index.fields import LocalId
from adapters.index.memory import MemoryChildIndex
from adapters.index.model import ChildRecord
from adapters.node.app import build_node_app
from adapters.node.health import HEALTH_KEY
from hub.clock import FixedClock
from hub.config import SigningFiles
from hub.identifiers import HUB, AuthorityCode
from hub.pki.crl_watch import CRL_WATCH_KEY
from hub.pki.layout import PkiLayout
from hub.transport.tls import TlsFiles, server_context

SOUTHWARK = AuthorityCode("E09000028")
HOST = "127.0.0.1"
ANN = ChildRecord(
    local_id=LocalId("C1"),
    given_names=("Ann",),
    family_name="Lee",
    other_names=(),
    birth_date=date(2015, 1, 1),
    sex="female",
    postcode=None,
    address=None,
    nhs_number=None,
    upn=None,
)

Health = Callable[..., Awaitable[tuple[int, dict[str, Any]]]]


def _config(pki: PkiLayout, workdir: Path, hub_url: str) -> NodeConfig:
    return NodeConfig(
        authority=SOUTHWARK,
        node_id="southwark-irt",
        listen_host=HOST,
        listen_port=0,
        index=workdir / "unused.sqlite",
        hub_url=hub_url,
        tls=TlsFiles(pki.tls_cert(SOUTHWARK), pki.tls_key(SOUTHWARK), pki.root_cert, pki.crl),
        signing=SigningFiles(pki.signing_cert(SOUTHWARK), pki.signing_key(SOUTHWARK)),
        data_dir=workdir / "node",
    )


@pytest.fixture
async def fake_hub(dev_pki: PkiLayout) -> AsyncIterator[str]:
    """The hub's ``/healthz`` over mutual TLS, answering 200."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    tls = TlsFiles(dev_pki.tls_cert(HUB), dev_pki.tls_key(HUB), dev_pki.root_cert, dev_pki.crl)
    await web.TCPSite(runner, HOST, 0, ssl_context=server_context(tls)).start()
    yield f"https://{HOST}:{runner.addresses[0][1]}/v1/messages"
    await runner.cleanup()


@pytest.fixture
async def health(dev_pki: PkiLayout, tmp_path: Path) -> AsyncIterator[Health]:
    """``health(index, clock=…, hub_url=…)``: the node's ``/healthz`` status and body."""
    clients: list[TestClient[Any, Any]] = []

    async def ask(
        index: MemoryChildIndex,
        *,
        clock: FixedClock | None = None,
        hub_url: str = "https://127.0.0.1:1/v1/messages",
    ) -> tuple[int, dict[str, Any]]:
        workdir = tmp_path / f"node{len(clients)}"
        app = build_node_app(_config(dev_pki, workdir, hub_url), index=index, clock=clock)
        client = TestClient(TestServer(app))
        clients.append(client)
        await client.start_server()
        for _ in range(200):  # the first probe of the hub runs at start
            if app[HEALTH_KEY].hub.checked_at is not None:
                break
            await asyncio.sleep(0.05)
        response = await client.get("/healthz")
        return response.status, await response.json()

    yield ask
    for client in clients:
        await client.close()


async def test_a_node_with_a_fresh_index_and_a_reachable_hub_is_ok(
    health: Health, fake_hub: str
) -> None:
    imported = datetime.now(UTC) - timedelta(hours=6)
    status, body = await health(MemoryChildIndex([ANN], refreshed_at=imported), hub_url=fake_hub)
    assert status == 200
    assert body["status"] == "ok"
    assert body["checks"] == {
        "index": "ok",
        "signing_certificate": "ok",
        "tls_certificate": "ok",
        "crl": "ok",
        "hub": "ok",
    }
    assert body["index"]["children"] == 1
    assert body["index"]["imported_at"] == imported.isoformat()
    assert 5.9 < body["index"]["age_hours"] < 6.1
    assert body["index"]["max_age_hours"] == 48.0
    assert body["signing_certificate"]["days_left"] > 300
    assert body["crl"]["hours_left"] > 24
    assert body["hub"]["reachable"] is True


async def test_an_unreachable_hub_is_reported_but_answers_stay_right(health: Health) -> None:
    status, body = await health(MemoryChildIndex([ANN]))
    assert status == 200
    assert body["status"] == "degraded"
    assert body["checks"]["hub"].startswith("warning: the hub is unreachable: ")
    assert body["hub"]["reachable"] is False


async def test_an_empty_index_is_failing(health: Health) -> None:
    status, body = await health(MemoryChildIndex([]))
    assert status == 503
    assert body["status"] == "failing"
    assert body["checks"]["index"].startswith("failing: the children's index is empty")
    assert body["index"]["children"] == 0


async def test_a_stale_index_is_failing(health: Health) -> None:
    stale = datetime.now(UTC) - timedelta(days=3)
    status, body = await health(MemoryChildIndex([ANN], refreshed_at=stale))
    assert status == 503
    assert "longer ago than the 2.0 days allowed" in body["checks"]["index"]
    assert body["index"]["age_hours"] > 71


async def test_expired_certificates_and_crl_are_failing(health: Health, dev_pki: PkiLayout) -> None:
    certificate = x509.load_pem_x509_certificate(dev_pki.signing_cert(SOUTHWARK).read_bytes())
    later = FixedClock(certificate.not_valid_after_utc + timedelta(days=1))
    status, body = await health(MemoryChildIndex([ANN]), clock=later)
    assert status == 503
    checks = body["checks"]
    assert checks["signing_certificate"].startswith("failing: expired at ")
    assert checks["tls_certificate"].startswith("failing: expired at ")
    assert checks["crl"].startswith("failing: the CRL's nextUpdate ")
    assert checks["index"] == "ok"


async def test_a_refused_crl_fails_the_crl_check_and_the_previous_one_stays(
    dev_pki: PkiLayout, tmp_path: Path
) -> None:
    crl = tmp_path / "crl.pem"
    crl.write_bytes(dev_pki.crl.read_bytes())
    config = _config(dev_pki, tmp_path, "https://127.0.0.1:1/v1/messages")
    config = replace(config, tls=replace(config.tls, crl=crl))
    imported = datetime.now(UTC) - timedelta(hours=1)
    app = build_node_app(config, index=MemoryChildIndex([ANN], refreshed_at=imported))
    async with TestClient(TestServer(app)) as client:
        watcher = app[CRL_WATCH_KEY]
        in_force = watcher.crl
        crl.write_bytes(b"-----BEGIN X509 CRL-----\ntruncated\n")
        os.utime(crl, ns=(0, 10**18))  # a change the next look cannot miss
        assert watcher.check_file() is False
        response = await client.get("/healthz")
        body = await response.json()
    assert response.status == 503
    assert body["status"] == "failing"
    assert body["checks"]["crl"].startswith(
        "failing: a new CRL was refused, the previous one is in force: the CRL from"
    )
    assert watcher.crl is in_force
