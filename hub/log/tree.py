"""Appending leaves and generating RFC 9162 proofs from stored perfect-subtree hashes.

The store keeps every *perfect* subtree hash, as Trillian and tlog tiles do:
the node at ``(level, index)`` covers leaves ``[index·2^level,
(index+1)·2^level)`` and exists once all of them have been appended. Such
nodes never change, so a store is append-only, and any subtree hash the RFC
needs is the right-to-left fold of at most log2(n) of them. Roots and proofs
therefore read O(log n) nodes, in a single ``get_nodes`` call, and never
rehash the tree.

``append_leaves`` reads the right edge of the current tree (one node per set
bit of its size), hashes the new leaves onto it, and writes the new nodes
together with the new size in one ``put_nodes`` call that fails if another
appender moved the size meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hub.log.errors import LogRangeError, LogStoreError
from hub.log.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MAX_TREE_SIZE,
    LeafHash,
    RootHash,
    hash_children,
)

__all__ = [
    "MemoryNodeStore",
    "NodeId",
    "NodeStore",
    "append_leaves",
    "consistency_proof",
    "inclusion_proof",
    "right_edge",
    "root",
]


@dataclass(frozen=True, slots=True)
class NodeId:
    """A perfect subtree: ``2**level`` leaves starting at leaf ``index * 2**level``."""

    level: int
    index: int


class NodeStore(Protocol):
    """Durable perfect-subtree hashes and the tree size they describe."""

    def size(self) -> int:
        """The number of leaves appended so far."""
        ...

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        """The hashes of ``ids``, in order; raises ``LogStoreError`` if one is missing."""
        ...

    def put_nodes(
        self, nodes: Sequence[tuple[NodeId, bytes]], *, old_size: int, new_size: int
    ) -> None:
        """Store ``nodes`` and move the size from ``old_size`` to ``new_size`` atomically.

        Raises ``LogStoreError`` (and stores nothing) if the size is no longer
        ``old_size`` or a node already exists.
        """
        ...


@dataclass
class MemoryNodeStore:
    """A ``NodeStore`` in a dict; for tests and short-lived trees."""

    _nodes: dict[NodeId, bytes] = field(default_factory=dict)
    _size: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def size(self) -> int:
        """See ``NodeStore.size``."""
        return self._size

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        """See ``NodeStore.get_nodes``."""
        try:
            return [self._nodes[node] for node in ids]
        except KeyError as exc:
            raise LogStoreError(f"node store lacks node {exc.args[0]}") from exc

    def put_nodes(
        self, nodes: Sequence[tuple[NodeId, bytes]], *, old_size: int, new_size: int
    ) -> None:
        """See ``NodeStore.put_nodes``."""
        with self._lock:
            if self._size != old_size:
                raise LogStoreError(
                    f"tree size is {self._size}, not {old_size}: another appender moved it"
                )
            clash = next((node for node, _ in nodes if node in self._nodes), None)
            if clash is not None:
                raise LogStoreError(f"node {clash} is already stored")
            self._nodes.update(nodes)
            self._size = new_size


def append_leaves(store: NodeStore, leaf_hashes: Iterable[LeafHash]) -> int:
    """Append ``leaf_hashes`` as one batch and return the new tree size.

    Raises ``LogStoreError`` if a hash is not 32 bytes, if the store fails, or
    if another appender changed the tree meanwhile (nothing is then stored).
    """
    old_size = store.size()
    # The right edge of the tree: one perfect subtree per set bit of its size,
    # largest first. A new leaf with k trailing one bits in its index closes k
    # of them, bottom up.
    edge = store.get_nodes(_range_nodes(0, old_size))
    new_nodes: list[tuple[NodeId, bytes]] = []
    size = old_size
    for leaf in leaf_hashes:
        if len(leaf) != HASH_SIZE:
            raise LogStoreError(f"leaf hash {size} has {len(leaf)} bytes, expected {HASH_SIZE}")
        node, level, index = bytes(leaf), 0, size
        new_nodes.append((NodeId(0, index), node))
        while index & 1:
            node = hash_children(edge.pop(), node)
            level, index = level + 1, index >> 1
            new_nodes.append((NodeId(level, index), node))
        edge.append(node)
        size += 1
    if size > MAX_TREE_SIZE:
        raise LogStoreError(f"tree would grow beyond {MAX_TREE_SIZE} leaves")
    if new_nodes:
        store.put_nodes(new_nodes, old_size=old_size, new_size=size)
    return size


def right_edge(tree_size: int) -> list[NodeId]:
    """The nodes ``append_leaves`` reads to extend a tree of ``tree_size``, largest first.

    A store that must read them some other way (asynchronously, inside its
    own transaction) fetches these and serves them to ``append_leaves``.
    """
    return _range_nodes(0, tree_size)


def root(store: NodeStore, tree_size: int) -> RootHash:
    """RFC 9162 §2.1.1 ``MTH`` of the first ``tree_size`` leaves.

    Raises ``LogRangeError`` if the store holds fewer leaves.
    """
    _check_size(store, tree_size)
    if tree_size == 0:
        return EMPTY_ROOT
    ids = _range_nodes(0, tree_size)
    return RootHash(_fold(store.get_nodes(ids)))


def inclusion_proof(store: NodeStore, index: int, tree_size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(index, D[tree_size])``, bottom up.

    Raises ``LogRangeError`` unless ``0 <= index < tree_size <= store.size()``.
    """
    _check_size(store, tree_size)
    if not 0 <= index < tree_size:
        raise LogRangeError(f"leaf index {index} is not inside a tree of {tree_size}")
    # PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])  if m < k
    #               = PATH(m - k, D[k:n]) : MTH(D[0:k])  otherwise,
    # unrolled top down, so the collected siblings are reversed at the end.
    siblings: list[list[NodeId]] = []
    start, end = 0, tree_size
    while end - start > 1:
        k = _split_point(end - start)
        if index < start + k:
            siblings.append(_range_nodes(start + k, end))
            end = start + k
        else:
            siblings.append(_range_nodes(start, start + k))
            start += k
    siblings.reverse()
    return _hash_all(store, siblings)


def consistency_proof(store: NodeStore, size1: int, size2: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(size1, D[size2])``.

    Empty when ``size1`` is 0 or equals ``size2`` (there is nothing to prove).
    Raises ``LogRangeError`` unless ``0 <= size1 <= size2 <= store.size()``.
    """
    _check_size(store, size2)
    if not 0 <= size1 <= size2:
        raise LogRangeError(f"a tree of {size2} cannot extend a tree of {size1}")
    if size1 in (0, size2):
        return []
    # SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])      if m <= k
    #                      = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])  if m > k
    # ending in {} when m = n and b is still true, else in {MTH(D[0:m])}.
    tail: list[list[NodeId]] = []
    start, end, whole = 0, size2, True
    while size1 != end:
        k = _split_point(end - start)
        if size1 <= start + k:
            tail.append(_range_nodes(start + k, end))
            end = start + k
        else:
            tail.append(_range_nodes(start, start + k))
            start, whole = start + k, False
    head = [] if whole else [_range_nodes(start, end)]
    return _hash_all(store, head + tail[::-1])


def _check_size(store: NodeStore, tree_size: int) -> None:
    stored = store.size()
    if not 0 <= tree_size <= stored:
        raise LogRangeError(f"tree size {tree_size} is outside the log of {stored} leaves")


def _split_point(n: int) -> int:
    # RFC 9162 §2.1.1: k is the largest power of two smaller than n (n > 1).
    return 1 << ((n - 1).bit_length() - 1)


def _range_nodes(start: int, end: int) -> list[NodeId]:
    # The perfect subtrees covering [start, end), left to right. Every range the
    # RFC recursion produces starts at a multiple of its own rounded-up size,
    # so the largest power of two that fits is always aligned.
    ids: list[NodeId] = []
    while start < end:
        level = (end - start).bit_length() - 1
        ids.append(NodeId(level, start >> level))
        start += 1 << level
    return ids


def _fold(hashes: Sequence[bytes]) -> bytes:
    # MTH of a range from its perfect subtrees: each larger left subtree is
    # the left child of everything to its right.
    node = hashes[-1]
    for left in reversed(hashes[:-1]):
        node = hash_children(left, node)
    return node


def _hash_all(store: NodeStore, groups: list[list[NodeId]]) -> list[bytes]:
    # One read for the whole proof, then one fold per proof hash.
    flat = [node for group in groups for node in group]
    hashes = store.get_nodes(flat)
    proof: list[bytes] = []
    position = 0
    for group in groups:
        proof.append(_fold(hashes[position : position + len(group)]))
        position += len(group)
    return proof
