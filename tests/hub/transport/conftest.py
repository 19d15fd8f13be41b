"""The live hub each transport attack module runs against (one per module)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from hub.pki.layout import PkiLayout
from tests.support.attack_world import LiveHub, running_hub


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hub(
    dev_pki: PkiLayout, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveHub]:
    """The hub and Southwark's node on loopback, for the whole module."""
    async with running_hub(dev_pki, tmp_path_factory.mktemp("live-hub")) as live:
        yield live
