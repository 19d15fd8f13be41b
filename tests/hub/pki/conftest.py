"""Fixtures of the PKI tests: the session PKI's CA, and fresh PKIs to change."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509

from hub.pki.certificates import PrivateKey
from hub.pki.issuing import init_pki, load_ca
from hub.pki.layout import PkiLayout
from tests.support.pki_builders import now


@pytest.fixture(scope="session")
def ca(dev_pki: PkiLayout) -> tuple[x509.Certificate, PrivateKey]:
    """The session PKI's root certificate and key (read, never changed)."""
    return load_ca(dev_pki)


@pytest.fixture
def fresh_pki(tmp_path: Path) -> PkiLayout:
    """A PKI of this test's own, for tests that revoke, rotate or overwrite."""
    layout = PkiLayout(tmp_path / "pki")
    init_pki(layout, now=now())
    return layout
