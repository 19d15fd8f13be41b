"""The service catalogues at the hub: catalogues in, searches answered (SPEC §6).

``ServiceCatalogue`` (notification, node to hub): the hub

(1) reads the catalogue and checks it speaks for its sender
    (``hub.services.catalogue``); a ``Published`` time in the future is
    refused, since staleness is judged from it;
(2) keeps it if it is later than the one held for that authority, durably,
    before answering (an older or repeated one is acknowledged, not kept);
(3) answers ``202`` with a signed ``CatalogueReceipt``; the same message
    again gets the same receipt bytes.

``ServiceSearch`` (request): every catalogue held is searched
(``hub.services.search``) and ``ServiceSearchResult`` answered at once.
A search is not put to the ISPs: it names no child, and catalogues are the
services' public descriptions; the ISPs decide when a referral is sent
(see docs/decisions.md).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Final

from lxml import etree

from hub.clock import Clock
from hub.endpoint import Reply
from hub.envelope import body_of, format_time
from hub.errors import StaleMessage, UnknownRecipient
from hub.identifiers import AuthorityCode
from hub.messenger import Messenger
from hub.services.catalogue import DIRECTORY_NS, Catalogue, Service, parse_catalogue
from hub.services.search import ServiceQuery, result_body, search
from hub.services.store import CatalogueStore, StoredCatalogue
from hub.verify import VerifiedMessage
from hub.xmlparse import XmlLimits, parse_untrusted

__all__ = ["CatalogueHandlers"]

_D: Final = f"{{{DIRECTORY_NS}}}"
_RECEIPT_LIFETIME: Final = timedelta(days=1)
"""How long a catalogue receipt stays fresh for a publisher that repeats."""
_FUTURE_SLACK: Final = timedelta(minutes=5)
"""A catalogue may be dated this far ahead of the hub's clock (SPEC §2 skew)."""


@dataclass(frozen=True, slots=True)
class _Listed:
    catalogue: Catalogue
    stored: StoredCatalogue


@dataclass
class CatalogueHandlers:
    """Holds the latest catalogue of each authority; see the module docstring."""

    messenger: Messenger
    store: CatalogueStore
    clock: Clock
    stale_after: timedelta
    """A catalogue published longer ago than this is flagged stale in results."""
    _listed: MappingProxyType[AuthorityCode, _Listed] = field(
        default_factory=lambda: MappingProxyType({})
    )
    _installing: asyncio.Lock = field(default_factory=asyncio.Lock)

    def load(self) -> int:
        """Read every stored catalogue back from its signed bytes; return how many.

        Raises ``InternalError`` if the store fails.
        """
        listed = {}
        for stored in self.store.load_all():
            body = body_of(parse_untrusted(stored.signed, limits=_STORED_LIMITS))
            listed[stored.authority] = _Listed(
                parse_catalogue(body, sender=stored.authority), stored
            )
        self._listed = MappingProxyType(listed)
        return len(listed)

    def catalogues(self) -> tuple[Catalogue, ...]:
        """The catalogues held, in authority order."""
        return tuple(self._listed[code].catalogue for code in sorted(self._listed))

    def find(self, authority: AuthorityCode, service_id: str) -> Service:
        """The service ``service_id`` of ``authority``; raise ``UnknownRecipient`` if unlisted."""
        listed = self._listed.get(authority)
        if listed is None:
            raise UnknownRecipient(f"{authority} has not published a service catalogue")
        service = listed.catalogue.service(service_id)
        if service is None:
            raise UnknownRecipient(f"{authority}'s service catalogue lists no service {service_id}")
        return service

    async def handle_catalogue(self, message: VerifiedMessage) -> Reply:
        """Steps (1)-(3) for one ``ServiceCatalogue``."""
        sender = message.header.sender.authority
        catalogue = parse_catalogue(message.body, sender=sender)  # (1)
        now = self.clock.now()
        if catalogue.published > now + _FUTURE_SLACK:
            raise StaleMessage(
                f"catalogue Published {format_time(catalogue.published)} is in the future"
            )
        async with self._installing:
            current = self._listed.get(sender)
            if current is not None and current.stored.message_id == message.header.message_id:
                return _receipt_reply(current.stored.receipt)
            installed = current is None or catalogue.published > current.catalogue.published
            in_force = catalogue if installed or current is None else current.catalogue
            receipt = await self._sign_receipt(message, in_force, installed=installed)
            if installed:  # (2)
                stored = StoredCatalogue(
                    authority=sender,
                    published=catalogue.published,
                    received_at=now,
                    message_id=message.header.message_id,
                    signed=message.raw,
                    receipt=receipt,
                )
                await self.messenger.run(self.store.put, stored)
                self._listed = MappingProxyType(
                    {**self._listed, sender: _Listed(catalogue, stored)}
                )
        return _receipt_reply(receipt)  # (3)

    async def handle_search(self, message: VerifiedMessage) -> Reply:
        """Answer one ``ServiceSearch`` from the catalogues held."""
        query = ServiceQuery.from_element(message.body)
        matches = search(
            self.catalogues(), query, now=self.clock.now(), stale_after=self.stale_after
        )
        return Reply(body=result_body(matches))

    async def _sign_receipt(
        self, message: VerifiedMessage, in_force: Catalogue, *, installed: bool
    ) -> bytes:
        body = etree.Element(_D + "CatalogueReceipt", nsmap={"d": DIRECTORY_NS})
        for name, text in (
            ("Authority", in_force.authority),
            ("Published", format_time(in_force.published)),
            ("Services", str(len(in_force.services))),
            ("Installed", "true" if installed else "false"),
            ("ReceivedAt", format_time(self.clock.now())),
        ):
            etree.SubElement(body, _D + name).text = text
        header = self.messenger.header(
            message_class="CatalogueReceipt",
            qualifier="acknowledgement",
            to=message.header.sender.authority,
            correlation_id=message.header.message_id,
            # Sent again for a repeated catalogue, so fresh for as long as a
            # sender may repeat one (hub/replay/guard.py).
            expires=self.clock.now() + _RECEIPT_LIFETIME,
        )
        return await self.messenger.sign_and_record(header, body)


_STORED_LIMITS: Final = XmlLimits(max_bytes=16 * 1024 * 1024)
"""Stored catalogues passed the message limit when they arrived; re-reading
them must not fail if that limit is later lowered."""


def _receipt_reply(receipt: bytes) -> Reply:
    body = etree.Element(_D + "CatalogueReceipt")
    return Reply(body=body, status=202, qualifier="acknowledgement", presigned=receipt)
