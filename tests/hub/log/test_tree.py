"""Proof generation from stored nodes, cross-checked against the RFC 9162 verifiers."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.log.errors import (
    ConsistencyProofInvalid,
    InclusionProofInvalid,
    LogRangeError,
    LogStoreError,
)
from hub.log.merkle import (
    EMPTY_ROOT,
    LeafHash,
    RootHash,
    leaf_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)
from hub.log.tree import (
    MemoryNodeStore,
    NodeId,
    NodeStore,
    append_leaves,
    consistency_proof,
    inclusion_proof,
    root,
)


def _leaves(count: int, salt: bytes = b"") -> list[LeafHash]:
    return [leaf_hash(salt + index.to_bytes(8, "big")) for index in range(count)]


def _flip(proof: list[bytes], position: int) -> list[bytes]:
    tampered = list(proof)
    tampered[position] = bytes([tampered[position][0] ^ 1]) + tampered[position][1:]
    return tampered


def test_every_proof_of_every_tree_up_to_64_leaves_verifies(store: NodeStore) -> None:
    hashes = _leaves(64)
    roots: list[RootHash] = [EMPTY_ROOT]
    for size in range(1, 65):
        assert append_leaves(store, hashes[size - 1 : size]) == size
        roots.append(root(store, size))
        assert roots[size] == root_from_leaves(hashes[:size])
    for size in range(1, 65):
        for index in range(size):
            verify_inclusion(
                hashes[index], index, size, inclusion_proof(store, index, size), roots[size]
            )
        for old in range(1, size + 1):
            verify_consistency(
                old, size, consistency_proof(store, old, size), roots[old], roots[size]
            )


def test_roots_of_past_sizes_stay_available(store: NodeStore) -> None:
    hashes = _leaves(40)
    append_leaves(store, hashes[:13])
    append_leaves(store, hashes[13:])
    for size in (0, 1, 13, 17, 32, 40):
        assert root(store, size) == root_from_leaves(hashes[:size])


def test_a_tampered_generated_proof_is_refused(store: NodeStore) -> None:
    hashes = _leaves(37)
    append_leaves(store, hashes)
    top = root(store, 37)
    proof = inclusion_proof(store, 21, 37)
    for position in range(len(proof)):
        with pytest.raises(
            InclusionProofInvalid, match=r"inclusion proof for index 21 yields root"
        ):
            verify_inclusion(hashes[21], 21, 37, _flip(proof, position), top)
    old = root(store, 11)
    proof = consistency_proof(store, 11, 37)
    for position in range(len(proof)):
        with pytest.raises(ConsistencyProofInvalid, match=r"consistency proof yields root"):
            verify_consistency(11, 37, _flip(proof, position), old, top)


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(min_value=65, max_value=3000),
    cuts=st.lists(st.integers(min_value=1, max_value=3000), max_size=6),
    data=st.data(),
)
def test_random_trees_built_in_random_batches(
    size: int, cuts: list[int], data: st.DataObject
) -> None:
    hashes = _leaves(size)
    store = MemoryNodeStore()
    for start, end in _batches(size, cuts):
        append_leaves(store, hashes[start:end])
    whole = MemoryNodeStore()
    append_leaves(whole, hashes)
    top = root(store, size)
    assert top == root(whole, size) == root_from_leaves(hashes)
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    proof = inclusion_proof(store, index, size)
    assert proof == inclusion_proof(whole, index, size)
    verify_inclusion(hashes[index], index, size, proof, top)
    old = data.draw(st.integers(min_value=1, max_value=size), label="old")
    proof = consistency_proof(store, old, size)
    verify_consistency(old, size, proof, root_from_leaves(hashes[:old]), top)


def _batches(size: int, cuts: list[int]) -> list[tuple[int, int]]:
    edges = sorted({0, size, *(cut for cut in cuts if cut < size)})
    return list(itertools.pairwise(edges))


def test_an_empty_batch_changes_nothing(store: NodeStore) -> None:
    append_leaves(store, _leaves(3))
    assert append_leaves(store, []) == 3
    assert store.size() == 3


def test_proofs_outside_the_tree_are_refused(store: NodeStore) -> None:
    append_leaves(store, _leaves(10))
    with pytest.raises(
        LogRangeError, match=r"^schema-invalid: leaf index 10 is not inside a tree of 10$"
    ):
        inclusion_proof(store, 10, 10)
    with pytest.raises(LogRangeError, match=r"tree size 11 is outside the log of 10 leaves"):
        inclusion_proof(store, 3, 11)
    with pytest.raises(LogRangeError, match=r"tree size 11 is outside the log of 10 leaves"):
        root(store, 11)
    with pytest.raises(LogRangeError, match=r"a tree of 4 cannot extend a tree of 5"):
        consistency_proof(store, 5, 4)
    assert consistency_proof(store, 0, 10) == []
    assert consistency_proof(store, 10, 10) == []
    assert root(store, 0) == EMPTY_ROOT


def test_a_leaf_hash_of_the_wrong_length_stores_nothing(store: NodeStore) -> None:
    batch = [*_leaves(3), LeafHash(b"short")]
    with pytest.raises(LogStoreError, match=r"leaf hash 3 has 5 bytes, expected 32"):
        append_leaves(store, batch)
    assert store.size() == 0


def test_a_concurrent_append_is_refused(store: NodeStore) -> None:
    append_leaves(store, _leaves(4))
    # Another appender moves the tree between our read and our write.
    store.put_nodes([(NodeId(0, 4), leaf_hash(b"other"))], old_size=4, new_size=5)
    with pytest.raises(LogStoreError, match=r"tree size is 5, not 4: another appender moved it"):
        store.put_nodes([(NodeId(0, 4), leaf_hash(b"mine"))], old_size=4, new_size=5)
    assert store.get_nodes([NodeId(0, 4)]) == [leaf_hash(b"other")]


def test_a_store_missing_a_node_fails_closed(store: NodeStore) -> None:
    # A store that claims leaves it does not hold is corrupt: no root is invented.
    store.put_nodes([], old_size=0, new_size=3)
    with pytest.raises(LogStoreError, match=r"lacks node"):
        root(store, 3)


def test_a_stored_node_is_never_overwritten(store: NodeStore) -> None:
    append_leaves(store, _leaves(4))
    with pytest.raises(LogStoreError, match=r"already"):
        store.put_nodes([(NodeId(0, 0), leaf_hash(b"rewrite"))], old_size=4, new_size=5)
    assert store.size() == 4
    assert root(store, 4) == root_from_leaves(_leaves(4))
