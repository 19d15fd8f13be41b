"""RFC 9162 §2.1 Merkle tree hashing and proof verification (SHA-256).

Hashing (§2.1.1): a leaf hashes as ``SHA-256(0x00 || data)``, an interior
node as ``SHA-256(0x01 || left || right)``, and the empty tree as
``SHA-256()``. The two verifiers follow the RFC's algorithms step by step,
after a length check that gives a precise reason when a proof has the wrong
number of hashes. Both raise (never return ``False``); the reason says exactly
what failed.

The verifiers accept every vector of the transparency-dev/merkle suite and
reject every broken one, including its conventions for the corner cases the
RFC leaves open: a consistency proof from the empty tree proves nothing and is
refused, and between equal sizes the proof must be empty and the roots equal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final, NewType

from hub.log.errors import ConsistencyProofInvalid, InclusionProofInvalid

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_TREE_SIZE",
    "LeafHash",
    "RootHash",
    "hash_children",
    "leaf_hash",
    "root_from_leaves",
    "verify_consistency",
    "verify_inclusion",
]

LeafHash = NewType("LeafHash", bytes)
"""``SHA-256(0x00 || leaf data)``: a leaf as the tree sees it."""

RootHash = NewType("RootHash", bytes)
"""The Merkle tree hash of a whole tree of some size."""

HASH_SIZE: Final = 32
"""SHA-256 digest length; every leaf, node, root and proof hash has it."""

MAX_TREE_SIZE: Final = 2**63 - 1
"""C2SP tlog-checkpoint and RFC 9162 count leaves in a uint64; the largest size we accept."""

_LEAF_PREFIX: Final = b"\x00"
_NODE_PREFIX: Final = b"\x01"

EMPTY_ROOT: Final = RootHash(hashlib.sha256(b"").digest())
"""RFC 9162 §2.1.1: the hash of the empty tree, ``MTH({}) = SHA-256()``."""


def leaf_hash(data: bytes) -> LeafHash:
    """RFC 9162 §2.1.1: ``MTH({d}) = SHA-256(0x00 || d)``."""
    return LeafHash(hashlib.sha256(_LEAF_PREFIX + data).digest())


def hash_children(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: an interior node, ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_from_leaves(leaf_hashes: Sequence[LeafHash]) -> RootHash:
    """The tree hash of ``leaf_hashes`` computed from scratch, in O(n).

    A reference and a tool for small trees; the log itself uses ``hub.log.tree``.
    """
    # A stack of perfect-subtree hashes, largest first: the same compact range
    # that the tree builder keeps, folded right to left at the end (§2.1.1).
    stack: list[bytes] = []
    for index, node in enumerate(leaf_hashes):
        merged, closing = bytes(node), index
        while closing & 1:
            merged = hash_children(stack.pop(), merged)
            closing >>= 1
        stack.append(merged)
    if not stack:
        return EMPTY_ROOT
    root = stack.pop()
    while stack:
        root = hash_children(stack.pop(), root)
    return RootHash(root)


def verify_inclusion(
    leaf: LeafHash, index: int, tree_size: int, proof: Sequence[bytes], root: RootHash
) -> None:
    """Verify that ``leaf`` is leaf number ``index`` of the tree ``root`` of ``tree_size``.

    RFC 9162 §2.1.3.2. Raises ``InclusionProofInvalid`` with the failing step.
    """
    # (1) §2.1.3.2 step 1: the index must lie inside the tree.
    if not 0 <= index < tree_size <= MAX_TREE_SIZE:
        raise InclusionProofInvalid(f"leaf index {index} is not inside a tree of {tree_size}")
    _check_hash("leaf hash", leaf, InclusionProofInvalid)
    _check_hash("root hash", root, InclusionProofInvalid)
    expected = _inclusion_proof_length(index, tree_size)
    if len(proof) != expected:
        raise InclusionProofInvalid(
            f"inclusion proof has {len(proof)} hashes, expected {expected} "
            f"for index {index} in a tree of {tree_size}"
        )
    for position, node in enumerate(proof):
        _check_hash(f"inclusion proof hash {position}", node, InclusionProofInvalid)
    # (2) fn is the leaf index, sn the last index of the tree.
    fn, sn = index, tree_size - 1
    # (3) r starts as the leaf hash.
    r = bytes(leaf)
    # (4) Climb: p is a left sibling when fn is odd or fn is the last node of its level.
    for p in proof:
        if sn == 0:
            raise InclusionProofInvalid("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hash_children(r, p)
        fn, sn = fn >> 1, sn >> 1
    # (5) The path must end at the root, and reproduce it.
    if sn != 0:
        raise InclusionProofInvalid("inclusion proof is shorter than the path to the root")
    if r != root:
        raise InclusionProofInvalid(
            f"inclusion proof for index {index} yields root {r.hex()}, "
            f"not the expected {bytes(root).hex()} of the tree of {tree_size}"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: RootHash, root2: RootHash
) -> None:
    """Verify that the tree ``root2`` of ``size2`` extends the tree ``root1`` of ``size1``.

    RFC 9162 §2.1.4.2. Raises ``ConsistencyProofInvalid`` with the failing step.
    """
    # (0) Sizes: 1 <= size1 <= size2; equal trees are settled by their roots alone.
    if _same_tree(size1, size2, proof, root1, root2):
        return
    _check_hash("first root hash", root1, ConsistencyProofInvalid)
    _check_hash("second root hash", root2, ConsistencyProofInvalid)
    # (1) §2.1.4.2 step 1: an empty path fails; we also demand the exact length.
    expected = _consistency_proof_length(size1, size2)
    if len(proof) != expected:
        raise ConsistencyProofInvalid(
            f"consistency proof has {len(proof)} hashes, expected {expected} "
            f"from a tree of {size1} to a tree of {size2}"
        )
    for position, node in enumerate(proof):
        _check_hash(f"consistency proof hash {position}", node, ConsistencyProofInvalid)
    # (2) When the old tree is a perfect subtree, its root is the path's first node.
    path = [bytes(root1), *proof] if _is_power_of_two(size1) else list(proof)
    # (3) fn is the old tree's last index, sn the new tree's.
    fn, sn = size1 - 1, size2 - 1
    # (4) Skip the levels where the old tree's last node is a right child.
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    # (5) Both running hashes start from the first node.
    fr = sr = path[0]
    # (6) Rebuild both roots; a left sibling feeds both, a right sibling only the new one.
    for c in path[1:]:
        if sn == 0:
            raise ConsistencyProofInvalid("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = hash_children(sr, c)
        fn, sn = fn >> 1, sn >> 1
    # (7) Both rebuilt roots must match, and the path must end at the root.
    if sn != 0:
        raise ConsistencyProofInvalid("consistency proof is shorter than the path to the root")
    if fr != root1:
        raise ConsistencyProofInvalid(
            f"consistency proof yields root {fr.hex()} for the tree of {size1}, "
            f"not the expected {bytes(root1).hex()}"
        )
    if sr != root2:
        raise ConsistencyProofInvalid(
            f"consistency proof yields root {sr.hex()} for the tree of {size2}, "
            f"not the expected {bytes(root2).hex()}"
        )


def _same_tree(
    size1: int, size2: int, proof: Sequence[bytes], root1: RootHash, root2: RootHash
) -> bool:
    # True when size1 == size2 and the (empty) proof holds; raises on bad sizes.
    if not 0 <= size1 <= size2 <= MAX_TREE_SIZE:
        raise ConsistencyProofInvalid(
            f"a tree of {size2} cannot extend a tree of {size1}"
            if size1 > size2
            else f"tree sizes {size1} and {size2} are out of range"
        )
    if size1 == 0:
        raise ConsistencyProofInvalid("a consistency proof from the empty tree proves nothing")
    if size1 != size2:
        return False
    if proof:
        raise ConsistencyProofInvalid(
            f"consistency proof between equal sizes {size1} has {len(proof)} hashes, expected none"
        )
    # The transparency-dev vectors compare the roots byte for byte here,
    # whatever their length: nothing is hashed, so nothing else can be checked.
    if root1 != root2:
        raise ConsistencyProofInvalid(f"two different roots for the same tree size {size1}")
    return True


def _inclusion_proof_length(index: int, tree_size: int) -> int:
    # The path has one hash per level below the point where the leaf's path
    # leaves the right edge of the tree ("inner"), plus one per perfect subtree
    # to the left of the leaf above that point ("border").
    inner = (index ^ (tree_size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def _consistency_proof_length(size1: int, size2: int) -> int:
    # The inclusion path of the old tree's last leaf, minus the levels inside
    # the old tree's rightmost perfect subtree, plus that subtree's own hash
    # unless it is the whole old tree (then the verifier supplies root1).
    trailing_zeros = (size1 & -size1).bit_length() - 1
    length = _inclusion_proof_length(size1 - 1, size2) - trailing_zeros
    return length if _is_power_of_two(size1) else length + 1


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _check_hash(
    what: str,
    value: bytes,
    error: type[InclusionProofInvalid] | type[ConsistencyProofInvalid],
) -> None:
    if len(value) != HASH_SIZE:
        raise error(f"{what} has {len(value)} bytes, expected {HASH_SIZE}")
