"""The interface a borough implements to plug its own children's index into a node.

A node needs four things from local storage, and nothing else:

- ``candidates``: every record holding the query's NHS number or UPN, and
  the records sharing the most blocks with the query
  (``adapters.index.blocking``), for the matcher to score;
- ``name_frequencies``: how common each name part is in the index
  (``adapters.index.frequency``), so agreeing on a rare name counts more;
- ``involvements``: the services involved with one matched record;
- ``status``: how many children the index holds and when it last took in
  the borough's records, so that a node never answers from an empty or
  stale index (``adapters.node.readiness``).

The interface is synchronous, on purpose. Matching is CPU work (scoring a
few dozen candidates takes milliseconds) and most borough systems are
reached through synchronous SQL drivers, so the node runs one whole match,
storage calls and scoring together, in a worker thread
(``asyncio.to_thread``) and the event loop never blocks. Implementations must
therefore be safe to call from several threads. A REST-backed adapter uses a
synchronous HTTP client inside that thread. ``docs/adapters.md`` shows an SQL
and a REST adapter; ``SqliteChildIndex`` is the embedded default and
``MemoryChildIndex`` the in-memory one for tests.

Every method raises ``InternalError`` when the local system fails; they never
raise for a query that simply finds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from adapters.index.blocking import BlockingKeys
from adapters.index.fields import LocalId
from adapters.index.frequency import NameFrequencies
from adapters.index.model import ChildRecord, Involvement

__all__ = ["ChildIndex", "IndexStatus"]


@dataclass(frozen=True, slots=True)
class IndexStatus:
    """How much an index holds and how fresh it is."""

    children: int
    """Children in the index."""
    refreshed_at: datetime | None
    """When the index last took in the borough's records (an import), time-zone
    aware; ``None`` for an index that reads them live, which cannot go stale."""


class ChildIndex(Protocol):
    """Read access to a borough's children's index, as the matcher needs it."""

    def candidates(self, keys: BlockingKeys, *, limit: int) -> Sequence[ChildRecord]:
        """Every record holding one of ``keys.nhs_numbers`` or ``keys.upns``, then up to
        ``limit`` more sharing the most other blocks with ``keys``, most first.

        With ``limit`` 0 this is an identifier lookup. Returning extra records
        costs only time; leaving out a record that shares a block may lose a
        true match.
        """
        ...

    def name_frequencies(self) -> NameFrequencies:
        """Counts of the index's folded name parts; ``NameFrequencies.unknown()`` if none.

        Called once per query: an implementation should keep the counts in
        memory and refresh them when the index changes.
        """
        ...

    def involvements(self, local_id: LocalId) -> Sequence[Involvement]:
        """The involvements recorded for one child, in a stable order; empty if none."""
        ...

    def status(self) -> IndexStatus:
        """How many children the index holds and when it was refreshed; cheap to call.

        Called before every answer. Raises ``InternalError`` when the index
        cannot tell, which the node treats as not fit to answer.
        """
        ...
