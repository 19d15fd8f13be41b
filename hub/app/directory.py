"""The body of ``GET /v1/directory`` (SPEC §4): the London directory as the hub publishes it.

Authorities with their node endpoints, neighbours, sub-regional group and
the ISP version in force, as a ``d:Directory`` body the hub signs once at
start-up (and again whenever the directory or an ISP changes).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from lxml import etree

from hub.directory.model import Directory
from hub.envelope import format_time
from hub.identifiers import AuthorityCode
from hub.policy.model import IspDocument

__all__ = ["DIRECTORY_NS", "directory_body"]

DIRECTORY_NS: Final = "urn:lcpc:irt:directory:1"
_D: Final = f"{{{DIRECTORY_NS}}}"


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
