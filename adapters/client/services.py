"""The borough-side catalogue client: publish a catalogue, search London's services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from lxml import etree

from adapters.client.exchange import HubExchange, Signed
from hub.envelope import Practitioner, parse_time
from hub.errors import SchemaInvalid
from hub.identifiers import AuthorityCode, parse_authority
from hub.services.catalogue import DIRECTORY_NS, Service, read_service
from hub.services.search import ServiceQuery

__all__ = ["CATALOGUE_EXPIRY", "CatalogueAck", "CatalogueClient", "Found"]

CATALOGUE_EXPIRY: Final = timedelta(days=1)
"""How long a signed catalogue may be posted again unchanged."""
_D: Final = f"{{{DIRECTORY_NS}}}"


@dataclass(frozen=True, slots=True)
class CatalogueAck:
    """The hub's ``CatalogueReceipt``: which catalogue it now holds for us."""

    authority: AuthorityCode
    published: datetime
    services: int
    installed: bool
    signed: bytes


@dataclass(frozen=True, slots=True)
class Found:
    """One search result."""

    service: Service
    score: float
    stale: bool


@dataclass(frozen=True)
class CatalogueClient:
    """Catalogue publishing and service search for one borough."""

    exchange: HubExchange

    def prepare(self, catalogue: etree._Element) -> Signed:
        """Sign a ``d:ServiceCatalogue`` once, fresh for ``CATALOGUE_EXPIRY`` of repeats."""
        return self.exchange.sign(
            catalogue,
            qualifier="notification",
            expires=self.exchange.clock.now() + CATALOGUE_EXPIRY,
        )

    async def publish(self, catalogue: etree._Element, *, timeout: float = 30.0) -> CatalogueAck:
        """Send a ``d:ServiceCatalogue`` to the hub; return its checked receipt."""
        return await self.publish_signed(self.prepare(catalogue), timeout=timeout)

    async def publish_signed(self, signed: Signed, *, timeout: float = 30.0) -> CatalogueAck:
        """Post a prepared catalogue (again, if need be); return the hub's checked receipt."""
        answer = await self.exchange.send(signed, timeout=timeout)
        if answer.header.message_class != "CatalogueReceipt":
            raise SchemaInvalid(f"the hub answered {answer.header.message_class}")
        body = answer.body
        return CatalogueAck(
            authority=parse_authority(body.findtext(_D + "Authority") or ""),
            published=parse_time(body.findtext(_D + "Published") or ""),
            services=int(body.findtext(_D + "Services") or "0"),
            installed=body.findtext(_D + "Installed") in ("true", "1"),
            signed=answer.raw,
        )

    async def search(
        self, query: ServiceQuery, *, practitioner: Practitioner, purpose: str, consent: str
    ) -> list[Found]:
        """Search London's services; the best match first."""
        signed = self.exchange.sign(
            query.body(),
            qualifier="request",
            practitioner=practitioner,
            purpose=purpose,
            consent=consent,
        )
        answer = await self.exchange.send(signed)
        if answer.header.message_class != "ServiceSearchResult":
            raise SchemaInvalid(f"the hub answered {answer.header.message_class}")
        found = []
        for match in answer.body.iterfind(_D + "Match"):
            element = match.find(_D + "Service")
            if element is None:  # pragma: no cover - the schema requires it
                raise SchemaInvalid("a Match without its Service")
            found.append(
                Found(
                    service=read_service(element, parse_authority(match.get("authority", ""))),
                    score=float(match.get("score", "0")),
                    stale=match.findtext(_D + "Stale") in ("true", "1"),
                )
            )
        return found
