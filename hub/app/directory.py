"""The London directory at the hub, and ``GET /v1/directory`` (SPEC §4) publishing it.

The hub reads the directory of authorities (``[hub] directory`` or the
shipped one), learns each authority's node URL from it (overridden by
``[hub] node_urls``), and publishes it with the ISP version in force of
each authority as a ``d:Directory`` body it signs once at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from aiohttp import web
from lxml import etree

from hub.config import HubConfig
from hub.directory.model import Directory, default_directory, load_directory
from hub.envelope import build_envelope, format_time
from hub.identifiers import HUB, AuthorityCode
from hub.messenger import Messenger
from hub.policy.model import IspDocument

__all__ = [
    "DIRECTORY_BYTES_KEY",
    "DIRECTORY_NS",
    "directory_body",
    "directory_endpoint",
    "load_london_directory",
    "node_urls",
    "publish_directory",
]

DIRECTORY_NS: Final = "urn:lcpc:irt:directory:1"
_D: Final = f"{{{DIRECTORY_NS}}}"
DIRECTORY_BYTES_KEY: Final = web.AppKey("irt.directory_bytes", bytes)
"""The signed ``Directory`` envelope ``GET /v1/directory`` answers with."""


def load_london_directory(config: HubConfig) -> Directory:
    """The directory of ``[hub] directory``, or the shipped one; raise ``SchemaInvalid``."""
    if config.directory_file is not None:
        return load_directory(config.directory_file)
    return default_directory()


def node_urls(directory: Directory, config: HubConfig) -> dict[AuthorityCode, str]:
    """Where the hub posts for each authority: its first node, or ``[hub] node_urls``."""
    urls = {
        code: authority.nodes[0].url
        for code, authority in directory.authorities.items()
        if authority.nodes
    }
    urls.update(config.node_urls)
    return urls


def publish_directory(
    app: web.Application,
    directory: Directory,
    *,
    config: HubConfig,
    messenger: Messenger,
    isps: Mapping[AuthorityCode, IspDocument],
) -> None:
    """Sign ``directory`` now, with ``isps`` in force, as ``app``'s ``GET /v1/directory``.

    Raises ``InternalError`` if it cannot be signed.
    """
    header = messenger.header(message_class="Directory", qualifier="response", to=HUB)
    body = directory_body(
        directory,
        node_urls=node_urls(directory, config),
        isps=isps,
        published=messenger.clock.now(),
    )
    app[DIRECTORY_BYTES_KEY] = messenger.signer.sign(build_envelope(header, body))


def directory_body(
    directory: Directory,
    *,
    node_urls: Mapping[AuthorityCode, str],
    isps: Mapping[AuthorityCode, IspDocument],
    published: datetime,
) -> etree._Element:
    """A schema-valid ``d:Directory`` element."""
    body = etree.Element(_D + "Directory", nsmap={"d": DIRECTORY_NS})
    etree.SubElement(body, _D + "Published").text = format_time(published)
    for code, authority in sorted(directory.authorities.items()):
        entry = etree.SubElement(body, _D + "Authority", code=code, name=authority.name)
        if code in node_urls:
            node_id = authority.nodes[0].id if authority.nodes else f"{code.lower()}-irt"
            etree.SubElement(entry, _D + "Node", id=node_id, endpoint=node_urls[code])
        for neighbour in sorted(authority.neighbours):
            etree.SubElement(entry, _D + "Neighbour").text = neighbour
        etree.SubElement(entry, _D + "Group").text = authority.group
        isp = isps.get(code)
        if isp is not None:
            etree.SubElement(
                entry, _D + "ISPVersion", id=isp.id, version=str(isp.version), digest=isp.digest
            )
    return body


async def directory_endpoint(request: web.Request) -> web.Response:
    """``GET /v1/directory``: the signed directory, the same bytes until the next start."""
    return web.Response(body=request.app[DIRECTORY_BYTES_KEY], content_type="application/xml")
