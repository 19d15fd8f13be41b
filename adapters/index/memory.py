"""An in-memory ``ChildIndex``: a reference implementation of the blocking contract, for tests."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from adapters.index.base import IndexStatus
from adapters.index.blocking import BlockingKeys, record_keys
from adapters.index.fields import LocalId
from adapters.index.frequency import NameFrequencies, count_names
from adapters.index.model import ChildRecord, Involvement

__all__ = ["MemoryChildIndex"]


class MemoryChildIndex:
    """Holds records and involvements in dictionaries; read-only after construction."""

    def __init__(
        self,
        records: Iterable[ChildRecord],
        involvements: Iterable[Involvement] = (),
        *,
        refreshed_at: datetime | None = None,
    ) -> None:
        """Index ``records``; ``refreshed_at`` is when they were taken, ``None`` for live."""
        self._refreshed_at = refreshed_at
        self._records: dict[LocalId, ChildRecord] = {}
        self._blocks: defaultdict[str, list[LocalId]] = defaultdict(list)
        for record in records:
            self._records[record.local_id] = record
            for block in record_keys(record).block_ids():
                self._blocks[block].append(record.local_id)
        self._frequencies = count_names(self._records.values())
        self._involvements: defaultdict[LocalId, list[Involvement]] = defaultdict(list)
        for involvement in involvements:
            self._involvements[involvement.local_id].append(involvement)

    def candidates(self, keys: BlockingKeys, *, limit: int) -> Sequence[ChildRecord]:
        """Records holding the keys' identifiers, then up to ``limit`` sharing most blocks."""
        identified = BlockingKeys(nhs_numbers=keys.nhs_numbers, upns=keys.upns).block_ids()
        found = dict.fromkeys(
            local_id for block in sorted(identified) for local_id in self._blocks.get(block, ())
        )
        shared: Counter[LocalId] = Counter()
        for block in keys.block_ids() - identified:
            shared.update(self._blocks.get(block, ()))
        ranked = sorted(shared.items(), key=lambda item: (-item[1], item[0]))
        found.update(dict.fromkeys(local_id for local_id, _ in ranked[:limit]))
        return [self._records[local_id] for local_id in found]

    def name_frequencies(self) -> NameFrequencies:
        """Counts of the folded name parts of every record."""
        return self._frequencies

    def involvements(self, local_id: LocalId) -> Sequence[Involvement]:
        """The involvements recorded for one child, in insertion order."""
        return list(self._involvements.get(local_id, ()))

    def status(self) -> IndexStatus:
        """The number of records, and ``refreshed_at`` as given."""
        return IndexStatus(children=len(self._records), refreshed_at=self._refreshed_at)
