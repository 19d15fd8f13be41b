"""Fixtures of the PKI tests: the session PKI's CA, fresh PKIs, edited profiles."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509

from hub.pki.certificates import PrivateKey
from hub.pki.issuing import init_pki, load_ca
from hub.pki.layout import PkiLayout
from hub.pki.profile_loader import load_profiles
from hub.pki.profile_model import ProfileSet
from tests.support.paths import REPO
from tests.support.pki_builders import now

PROFILES = REPO / "certs" / "profiles"
"""The packaged certificate profiles, as the checkout holds them."""


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


EditProfiles = Callable[..., ProfileSet]


@pytest.fixture
def edited_profiles(tmp_path: Path) -> EditProfiles:
    """``edited_profiles(file, old, new, ...)``: the packaged profiles, text edited, loaded.

    Each ``(file, old, new)`` replaces ``old`` (which must be there) by ``new``
    in a copy of ``certs/profiles/file``; the copies are loaded with
    ``load_profiles``, so a broken edit raises ``ProfileInvalid``.
    """
    folder = tmp_path / "profiles"
    shutil.copytree(PROFILES, folder)

    def edit(*edits: tuple[str, str, str]) -> ProfileSet:
        for file, old, new in edits:
            path = folder / file
            text = path.read_text(encoding="utf-8")
            assert old in text, f"{old!r} is not in {file}"
            path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return load_profiles(folder)

    return edit
