"""Revocation in force while the hub and nodes run, with no restart (issue 11, SPEC §3.4).

The world runs on a copy of the development PKI (same root and keys, its own
CRL), with every party looking for a new CRL every half second.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from cryptography import x509

from adapters.node.revocation import HubCrl
from hub.app.health import HEALTH_KEY
from hub.errors import IrtError
from hub.identifiers import AuthorityCode
from hub.pki.crl_watch import CRL_PATH, CRL_WATCH_KEY, CrlWatcher, distribution_path
from hub.pki.issuing import revoke, write_crl
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore, crl_number
from hub.referral.settings import ReferralSettings
from hub.services.search import ServiceQuery
from hub.transport.tls import client_context
from tests.support.loopback import HOST
from tests.support.parties import CROYDON, LAMBETH, SOCIAL_WORKER, SOUTHWARK, SUTTON, tls_files
from tests.support.referral_world import ReferralWorld, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")

RELOAD_SECONDS = 0.5
IN_FORCE_WITHIN = 5.0
"""Ten reload intervals: the test machine is shared and slow."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    dev_pki: PkiLayout, signed_protocols: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ReferralWorld]:
    pki = PkiLayout(tmp_path_factory.mktemp("revoking") / "pki")
    shutil.copytree(dev_pki.root, pki.root)
    running = ReferralWorld(
        pki,
        signed_protocols,
        tmp_path_factory.mktemp("revocation-world"),
        authorities=(LAMBETH, SOUTHWARK, CROYDON),
        settings=ReferralSettings(retry_base_seconds=0.2, poll_seconds=0.2),
        crl_reload_seconds=RELOAD_SECONDS,
    )
    await running.start()
    await running.publish_catalogues()
    yield running
    await running.stop()


@pytest.fixture(scope="module")
def first_crl(world: ReferralWorld) -> bytes:
    """The CRL the world started with, before any test revoked anything."""
    return world.pki.numbered_crl(1).read_bytes()


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _hub_port(world: ReferralWorld) -> int:
    return int(world.hub_url.split(":")[2].split("/")[0])


async def _search(world: ReferralWorld, code: AuthorityCode) -> None:
    await world.catalogues(code).search(
        ServiceQuery(types=frozenset({"camhs"}), authority=code),
        practitioner=SOCIAL_WORKER,
        purpose="child-in-need-s17",
        consent="given",
    )


async def _http_over_tls(world: ReferralWorld, code: AuthorityCode) -> bytes:
    """What the hub answers a client holding ``code``'s TLS certificate, or b"" if refused."""
    files = tls_files(world.pki, code)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(files.root))
    context.load_cert_chain(str(files.cert), str(files.key))
    context.check_hostname = False
    try:
        reader, writer = await asyncio.open_connection(HOST, _hub_port(world), ssl=context)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=5)
        writer.close()
        return answer
    except (ssl.SSLError, ConnectionError):
        return b""


def _serial(path: Path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


async def _refused_within(world: ReferralWorld, code: AuthorityCode) -> IrtError:
    deadline = asyncio.get_running_loop().time() + IN_FORCE_WITHIN
    while True:
        try:
            await _search(world, code)
        except IrtError as error:
            return error
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"{code}'s revoked certificate was still accepted after {IN_FORCE_WITHIN}s")
        await asyncio.sleep(0.1)


async def test_a_revoked_signing_key_is_refused_without_a_restart(world: ReferralWorld) -> None:
    await _search(world, CROYDON)  # accepted before
    revoke(world.pki, _serial(world.pki.signing_cert(CROYDON)), now=datetime.now(UTC))
    refused = await _refused_within(world, CROYDON)
    assert refused.code == "certificate-revoked"
    assert "is revoked by the CRL" in refused.reason
    await _search(world, LAMBETH)  # everyone else still accepted


async def test_a_revoked_tls_certificate_fails_new_handshakes(world: ReferralWorld) -> None:
    assert (await _http_over_tls(world, SUTTON)).startswith(b"HTTP/1.1 ")
    revoke(world.pki, _serial(world.pki.tls_cert(SUTTON)), now=datetime.now(UTC))
    deadline = asyncio.get_running_loop().time() + IN_FORCE_WITHIN
    while (await _http_over_tls(world, SUTTON)).startswith(b"HTTP/1.1 "):
        assert asyncio.get_running_loop().time() < deadline, "the revoked TLS client still got in"
        await asyncio.sleep(0.1)
    assert (await _http_over_tls(world, LAMBETH)).startswith(b"HTTP/1.1 ")


async def test_the_nodes_have_the_new_crl_too(world: ReferralWorld) -> None:
    number = crl_number(x509.load_pem_x509_crl(world.pki.crl.read_bytes()))
    for code in (LAMBETH, SOUTHWARK):
        watcher = world.node_app(code)[CRL_WATCH_KEY]
        await wait_until(partial(_in_force, watcher, number))


def _in_force(watcher: CrlWatcher, number: int | None) -> bool:
    return watcher.alarm is None and _number(watcher) == number


def _number(watcher: CrlWatcher) -> int | None:
    crl = watcher.crl
    return None if crl is None else crl_number(crl)


async def test_a_node_fetches_a_newer_crl_from_the_hub(
    world: ReferralWorld, first_crl: bytes
) -> None:
    # A node still holding the first CRL (say its file is not shared with the
    # CA) gets the one in force from the hub's distribution point.
    trust = TrustStore.from_pem(world.pki.root_cert.read_bytes(), first_crl)
    certificate = _cert(world.pki.signing_cert(SOUTHWARK))
    fetch = HubCrl(world.hub_url.removesuffix("/v1/messages") + distribution_path(certificate))
    watcher = CrlWatcher(trust, path=None, interval=RELOAD_SECONDS, fetch=fetch)
    connector = aiohttp.TCPConnector(ssl=client_context(tls_files(world.pki, SOUTHWARK)))
    async with aiohttp.ClientSession(connector=connector) as fetch.session:
        assert await watcher.check_distribution_point() is True
    crl = trust.crl
    assert crl is not None
    assert crl_number(crl) == _number_of(world.pki.crl.read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(_serial(world.pki.signing_cert(CROYDON)))


async def test_the_hub_serves_its_crl_at_the_distribution_point(world: ReferralWorld) -> None:
    url = world.hub_url.removesuffix("/v1/messages") + CRL_PATH
    connector = aiohttp.TCPConnector(ssl=client_context(tls_files(world.pki, LAMBETH)))
    async with aiohttp.ClientSession(connector=connector) as session, session.get(url) as answer:
        assert answer.status == 200
        assert answer.content_type == "application/pkix-crl"
        served = x509.load_der_x509_crl(await answer.read())
    on_disk = x509.load_pem_x509_crl(world.pki.crl.read_bytes())
    assert crl_number(served) == crl_number(on_disk)


async def test_a_bad_crl_keeps_the_previous_one_and_raises_the_alarm(
    world: ReferralWorld,
) -> None:
    good = world.pki.crl.read_bytes()
    hub = world.hub_app
    watcher = hub[CRL_WATCH_KEY]
    in_force = _number(watcher)
    world.pki.crl.write_bytes(b"-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n")
    await wait_until(lambda: watcher.alarm is not None, timeout=IN_FORCE_WITHIN)
    assert "cannot be read" in (watcher.alarm or "")
    assert "previous one is in force" in hub[HEALTH_KEY].failures["crl"]
    metrics = world.hub_metrics_text()
    assert 'irt_alarms_total{kind="crl-refused"}' in metrics
    assert "irt_crl_next_update_timestamp_seconds" in metrics
    # The previous CRL, and the revocations it lists, stay in force.
    assert _number(watcher) == in_force
    crl = watcher.crl
    assert crl is not None
    assert crl.get_revoked_certificate_by_serial_number(_serial(world.pki.signing_cert(CROYDON)))

    world.pki.crl.write_bytes(good)
    await wait_until(lambda: watcher.alarm is None, timeout=IN_FORCE_WITHIN)
    assert "crl" not in hub[HEALTH_KEY].failures
    write_crl(world.pki, now=datetime.now(UTC))  # a newer CRL, then the older one again
    await wait_until(lambda: _number(watcher) == _number_of(world.pki.crl.read_bytes()))
    world.pki.crl.write_bytes(good)
    await wait_until(lambda: watcher.alarm is not None, timeout=IN_FORCE_WITHIN)
    assert "is lower than the number" in (watcher.alarm or "")
    await _search(world, LAMBETH)


def _number_of(pem: bytes) -> int | None:
    return crl_number(x509.load_pem_x509_crl(pem))
