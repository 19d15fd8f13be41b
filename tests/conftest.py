"""Fixtures shared by the whole suite: a real development PKI and signers.

The PKI is made once per test session with the same code as
``irthub pki init`` (real ECDSA keys, real certificates, a real CRL).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.directory.model import default_directory
from hub.identifiers import AuthorityCode
from hub.pki.issuing import init_pki
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.policy.sign import SHIPPED_PROTOCOLS, sign_folder
from hub.signing import Signer
from tests.support.parties import party_signer
from tests.support.pg_cluster import pg_bin_dir, throwaway_cluster

pytest_plugins = ["tests.support.log_fixtures", "tests.support.leak_scan"]
"""Fixtures that tests in several packages share, kept in the test-support package;
``leak_scan`` checks every reason any party signs during a test for internals."""

ASSETS = Path(__file__).resolve().parent / "assets"
LAMBETH = AuthorityCode("E09000022")
SOUTHWARK = AuthorityCode("E09000028")


@pytest.fixture(scope="session")
def dev_pki(tmp_path_factory: pytest.TempPathFactory) -> PkiLayout:
    """A complete development PKI: root CA, 33 authorities and the hub, empty CRL."""
    layout = PkiLayout(tmp_path_factory.mktemp("pki"))
    # Issued a day ago, as real certificates are, so that messages "created"
    # minutes ago are judged on freshness rather than on certificate age.
    init_pki(layout, now=datetime.now(UTC) - timedelta(days=1))
    return layout


@pytest.fixture(scope="session")
def trust(dev_pki: PkiLayout) -> TrustStore:
    """The trust store every party builds from the dev PKI's root and CRL."""
    return TrustStore.from_files(dev_pki.root_cert, dev_pki.crl)


SignerFor = Callable[[str], Signer]


@pytest.fixture(scope="session")
def signer_for(dev_pki: PkiLayout) -> SignerFor:
    """``signer_for(code)``: the signing key and certificate of one party, loaded once."""
    cache: dict[str, Signer] = {}

    def load(code: str) -> Signer:
        if code not in cache:
            cache[code] = party_signer(dev_pki, AuthorityCode(code))
        return cache[code]

    return load


@pytest.fixture(scope="session")
def signed_protocols(dev_pki: PkiLayout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped ISPs, each signed by its authority's dev key, as the hub requires."""
    folder = tmp_path_factory.mktemp("protocols")
    list(sign_folder(SHIPPED_PROTOCOLS, folder, pki=dev_pki, directory=default_directory()))
    return folder


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server's DSN: ``$IRT_TEST_PG_DSN``, else a throwaway loopback cluster.

    Tests that need it are skipped, with the reason, when neither is available
    (and fail under ``CI=true``: CI installs PostgreSQL, see ``.ci/run``).
    """
    given = os.environ.get("IRT_TEST_PG_DSN")
    if given:
        yield given
        return
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        reason = "PostgreSQL is not installed (no pg_ctl on PATH or in /usr/lib/postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; .ci/run installs it, so CI must not skip these tests")
        pytest.skip(reason)
    with throwaway_cluster(bin_dir) as dsn:
        yield dsn


_DATABASES = itertools.count()


@pytest.fixture
def pg_dsn(pg_server: str) -> str:
    """The DSN of a new, empty database on ``pg_server``, one per test."""
    import asyncpg  # only the PostgreSQL tests need the driver

    name = f"irt_test_{os.getpid()}_{next(_DATABASES)}"

    async def create() -> None:
        connection = await asyncpg.connect(pg_server)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    # In a thread of its own: an async test's event loop may already be set.
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(asyncio.run, create()).result()
    base, _, _ = pg_server.rpartition("/")
    return f"{base}/{name}"
