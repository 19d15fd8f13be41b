"""Where the hub keeps the latest service catalogue of each authority.

``CatalogueStore`` is the two-method interface the catalogue handlers write
through; ``CatalogueStorage`` adds what the hub's storage wiring needs
(closing). ``hub.storage.sqlite.catalogues.SqliteCatalogueStore`` and
``hub.storage.postgresql.catalogues.PgCatalogueStore`` implement both.
Only the signed bytes are stored: the typed ``Catalogue`` is rebuilt from
them when the hub starts, so what is searched is always what was signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hub.identifiers import AuthorityCode, MessageId

__all__ = ["CatalogueStorage", "CatalogueStore", "StoredCatalogue"]


@dataclass(frozen=True, slots=True)
class StoredCatalogue:
    """One authority's catalogue as received, and the receipt the hub gave for it."""

    authority: AuthorityCode
    published: datetime
    received_at: datetime
    message_id: MessageId
    signed: bytes
    """The node's exact signed ``ServiceCatalogue`` envelope."""
    receipt: bytes
    """The hub's signed ``CatalogueReceipt``, sent again for a repeated message."""


class CatalogueStore(Protocol):
    """Durable latest-catalogue-per-authority storage."""

    def put(self, entry: StoredCatalogue) -> bool:
        """Keep ``entry`` if it was published after the one held; return whether it was.

        Atomic: of two catalogues racing for one authority the later
        ``published`` wins. Raises ``InternalError`` if storage fails.
        """
        ...

    def load_all(self) -> list[StoredCatalogue]:
        """Every catalogue held, one per authority, in authority order."""
        ...


class CatalogueStorage(CatalogueStore, Protocol):
    """A ``CatalogueStore`` as the hub holds it: closed at shutdown."""

    def close(self) -> None:
        """Release the store; closing it again does nothing."""
        ...
