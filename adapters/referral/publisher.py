"""Publishing a node's service catalogue to the hub when the node starts.

The catalogue file (``[node] catalogue``) is read and checked once; its
``Published`` time is set to the moment of publishing, so the hub installs
it over any earlier one and judges its freshness from now. It is signed
once and the same bytes are posted until the hub acknowledges them, waiting
twice as long after each failure (up to ``MAX_WAIT_SECONDS``): a hub that is
down when the node starts gets the catalogue when it comes up.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Final

from lxml import etree

from adapters.client.exchange import HubExchange
from adapters.client.services import CatalogueAck, CatalogueClient
from hub.envelope import format_time
from hub.errors import DeliveryFailure, IrtError, SchemaInvalid
from hub.identifiers import parse_authority
from hub.schemas import default_registry
from hub.services.catalogue import DIRECTORY_NS, parse_catalogue
from hub.xmlparse import parse_untrusted

__all__ = ["MAX_WAIT_SECONDS", "load_catalogue", "publish_until_acknowledged"]

MAX_WAIT_SECONDS: Final = 60.0
"""Longest pause between two attempts to reach the hub."""
_FIRST_WAIT_SECONDS: Final = 0.5
_D: Final = f"{{{DIRECTORY_NS}}}"
_LOG = logging.getLogger(__name__)


def load_catalogue(path: Path, *, published: datetime) -> etree._Element:
    """Read a ``d:ServiceCatalogue`` file, dated ``published``, checked as the hub will.

    Raises ``InternalError`` naming the file when it cannot be read, and the
    schema or catalogue error (``SchemaInvalid``…) when it is not valid.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SchemaInvalid(f"{path}: cannot read the catalogue: {exc.strerror}") from exc
    root = parse_untrusted(data)
    stamp = root.find(_D + "Published")
    if stamp is not None:
        stamp.text = format_time(published)
    default_registry().validate(root)
    parse_catalogue(root, sender=parse_authority(root.findtext(_D + "Authority") or ""))
    return root


async def publish_until_acknowledged(
    exchange: HubExchange, catalogue: etree._Element
) -> CatalogueAck | None:
    """Post ``catalogue`` (same bytes each time) until the hub acknowledges it.

    Returns the receipt, or ``None`` when the hub refuses the catalogue for a
    fault of the catalogue itself (logged; retrying would not help).
    """
    client = CatalogueClient(exchange)
    signed = client.prepare(catalogue)
    wait = _FIRST_WAIT_SECONDS
    while True:
        try:
            return await client.publish_signed(signed)
        except IrtError as error:
            if error.code == "stale-message":
                signed = client.prepare(catalogue)
            elif not isinstance(error, DeliveryFailure) and error.code != "internal-error":
                _LOG.error("the hub refused the service catalogue: %s", error)
                return None
            _LOG.info("cannot publish the service catalogue yet (%s); retrying", error)
        await asyncio.sleep(wait)
        wait = min(wait * 2, MAX_WAIT_SECONDS)
