"""Southwark's node over a one-child index, and the signed query about that child.

The node is real (``build_node_app`` with Southwark's own keys); its index
holds one child, Amara Okafor, whom Lambeth's query asks about. The
transport attacks put the hub in front of it; the forward attacks talk to it
directly.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Final

from aiohttp import web

from adapters.client.knownto import ChildQuery
from adapters.config import NodeConfig
from adapters.index.memory import MemoryChildIndex
from adapters.node.app import build_node_app
from hub.clock import SystemClock
from hub.envelope import ENV_NS, Header, Party, Recipient, build_envelope
from hub.identifiers import AuthorityCode
from hub.pki.layout import PkiLayout
from hub.signing import Signer
from hub.verify import VerifiedMessage
from tests.support.children import child_record
from tests.support.loopback import HOST
from tests.support.parties import LAMBETH, SOCIAL_WORKER, SOUTHWARK, signing_files, tls_files

__all__ = ["AMARA", "AMARA_RECORD", "error_of", "known_to_query", "southwark_node"]

AMARA: Final = ChildQuery(("Amara",), "Okafor", date(2012, 3, 9), nhs_number="9434765919")
"""Lambeth's question: is Amara Okafor known?"""
AMARA_RECORD: Final = child_record(
    "SWK-1", "Amara", "Okafor", date(2012, 3, 9), sex="female", nhs_number="9434765919"
)
"""Southwark's record of her: the one child its index holds."""


def southwark_node(
    pki: PkiLayout, workdir: Path, *, index: MemoryChildIndex | None = None
) -> web.Application:
    """Southwark's node application (not yet served), its state under ``workdir``.

    Its index holds Amara's record unless another ``index`` is given.
    """
    config = NodeConfig(
        authority=SOUTHWARK,
        node_id="southwark-irt",
        listen_host=HOST,
        listen_port=0,
        index=workdir / "unused.sqlite",
        hub_url="https://127.0.0.1:1/v1/messages",
        tls=tls_files(pki, SOUTHWARK),
        signing=signing_files(pki, SOUTHWARK),
        data_dir=workdir / "southwark",
    )
    chosen = index if index is not None else MemoryChildIndex([AMARA_RECORD])
    return build_node_app(config, index=chosen)


def known_to_query(signer: Signer, *, sender: AuthorityCode = LAMBETH) -> bytes:
    """A fresh ``KnownToQuery`` about Amara from ``sender`` to Southwark, signed by ``signer``."""
    header = Header(
        message_class="KnownToQuery",
        qualifier="request",
        sender=Party(sender),
        recipients=(Recipient(authority=SOUTHWARK),),
        created=SystemClock().now(),
        on_behalf_of=SOCIAL_WORKER,
        purpose="child-protection-s47",
        consent="not-required",
    )
    return signer.sign(build_envelope(header, AMARA.body()))


def error_of(message: VerifiedMessage) -> tuple[str, str]:
    """The SPEC §5 code and the reason of a verified ``env:Error``."""
    assert message.header.qualifier == "error"
    assert message.body.tag == f"{{{ENV_NS}}}Error"
    return message.body.get("code") or "", message.body.text or ""
