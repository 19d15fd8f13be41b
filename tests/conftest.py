"""Fixtures shared by the whole suite: a real development PKI and signers.

The PKI is made once per test session with the same code as
``irthub pki init`` (real ECDSA keys, real certificates, a real CRL).
"""

from __future__ import annotations

from collections.abc import Callable
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
            cache[code] = Signer.from_files(
                dev_pki.signing_key(AuthorityCode(code)), dev_pki.signing_cert(AuthorityCode(code))
            )
        return cache[code]

    return load


@pytest.fixture(scope="session")
def signed_protocols(dev_pki: PkiLayout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped ISPs, each signed by its authority's dev key, as the hub requires."""
    folder = tmp_path_factory.mktemp("protocols")
    list(sign_folder(SHIPPED_PROTOCOLS, folder, pki=dev_pki, directory=default_directory()))
    return folder
