"""The hub application as composed: a fixed handler registry, the storage closed last."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from hub.app.build import build_hub_app
from hub.app.handlers import HUB_RETRYABLE
from hub.app.referrals import REFERRALS_KEY
from hub.app.storage import STORAGE_KEY
from hub.config import HubConfig
from hub.endpoint import ENDPOINT_KEY
from hub.errors import InternalError
from hub.identifiers import HUB, MessageId
from hub.pki.layout import PkiLayout
from tests.support.loopback import HOST
from tests.support.parties import signing_files, tls_files

_UNKNOWN = MessageId("00000000-0000-4000-8000-000000000000")
HUB_CLASSES = {
    "KnownToQuery",
    "ServiceCatalogue",
    "ServiceSearch",
    "Referral",
    "ReferralStatus",
    "ReferralStatusQuery",
}


@pytest.fixture
def config(dev_pki: PkiLayout, signed_protocols: Path, tmp_path: Path) -> HubConfig:
    return HubConfig(
        listen_host=HOST,
        listen_port=0,
        data_dir=tmp_path / "hub",
        tls=tls_files(dev_pki, HUB),
        signing=signing_files(dev_pki, HUB),
        protocols_dir=signed_protocols,
    )


@pytest_asyncio.fixture
async def app(config: HubConfig) -> AsyncIterator[web.Application]:
    app = build_hub_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    yield app
    await runner.cleanup()


def test_the_endpoint_dispatches_every_hub_class_and_its_registry_is_fixed(
    app: web.Application,
) -> None:
    endpoint = app[ENDPOINT_KEY]
    assert set(endpoint.handlers) == HUB_CLASSES
    assert endpoint.retryable == HUB_RETRYABLE
    assert HUB_RETRYABLE < HUB_CLASSES
    with pytest.raises(TypeError, match="does not support item assignment"):
        endpoint.handlers["Referral"] = endpoint.handlers["ServiceSearch"]  # type: ignore[index]


def test_the_handlers_share_the_endpoint_s_messenger(app: web.Application) -> None:
    parts = app[REFERRALS_KEY]
    messenger = app[ENDPOINT_KEY].messenger
    assert parts.referrals.messenger is messenger
    assert parts.catalogues.messenger is messenger
    assert parts.courier.messenger is messenger
    assert parts.referrals.catalogues is parts.catalogues


async def test_the_storage_closes_when_the_application_stops(config: HubConfig) -> None:
    app = build_hub_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    storage = app[STORAGE_KEY]
    assert storage.referrals.get(_UNKNOWN) is None
    await runner.cleanup()
    with pytest.raises(InternalError, match="closed"):
        storage.referrals.get(_UNKNOWN)
