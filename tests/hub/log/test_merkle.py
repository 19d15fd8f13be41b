"""RFC 9162 hashing and proof verification against the transparency-dev vectors."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from hub.errors import IrtError, SignatureInvalid
from hub.log.errors import ConsistencyProofInvalid, InclusionProofInvalid, LogError
from hub.log.merkle import (
    EMPTY_ROOT,
    LeafHash,
    RootHash,
    hash_children,
    leaf_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)
from tests.support.paths import ASSETS

VECTORS = ASSETS / "rfc9162-merkle"
"""transparency-dev/merkle's vectors, vendored with their source and licence."""
INCLUSION_FILES = sorted((VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY_FILES = sorted((VECTORS / "consistency").rglob("*.json"))

# Every reason the verifiers give starts with one of these; a vector that fails
# for an unforeseen reason (a crash, a KeyError) does not match.
INCLUSION_REASON = r"^signature-invalid: (leaf index|leaf hash|root hash|inclusion proof)"
CONSISTENCY_REASON = (
    r"^signature-invalid: (a tree of|tree sizes|a consistency proof from the empty tree"
    r"|two different roots|first root hash|second root hash|consistency proof)"
)

# RFC 6962's reference leaves, from which the vectors' trees are built.
RFC6962_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _proof(vector: dict[str, Any]) -> list[bytes]:
    return [_b64(node) for node in vector["proof"] or []]


def _vector_id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def test_the_vector_folders_are_complete() -> None:
    assert len(INCLUSION_FILES) == 98
    assert len(CONSISTENCY_FILES) == 98


@pytest.mark.parametrize("path", INCLUSION_FILES, ids=_vector_id)
def test_inclusion_vector(path: Path) -> None:
    vector = _load(path)
    args = (
        LeafHash(_b64(vector["leafHash"])),
        vector["leafIdx"],
        vector["treeSize"],
        _proof(vector),
        RootHash(_b64(vector["root"])),
    )
    if vector["wantErr"]:
        with pytest.raises(InclusionProofInvalid, match=INCLUSION_REASON):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY_FILES, ids=_vector_id)
def test_consistency_vector(path: Path) -> None:
    vector = _load(path)
    args = (
        vector["size1"],
        vector["size2"],
        _proof(vector),
        RootHash(_b64(vector["root1"])),
        RootHash(_b64(vector["root2"])),
    )
    if vector["wantErr"]:
        with pytest.raises(ConsistencyProofInvalid, match=CONSISTENCY_REASON):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_roots_of_the_rfc6962_leaves_match_the_vectors() -> None:
    hashes = [leaf_hash(data) for data in RFC6962_LEAVES]
    checked = set()
    for path in CONSISTENCY_FILES:
        vector = _load(path)
        if vector["wantErr"] or "additional" in path.parts:
            continue
        for size, root in ((vector["size1"], vector["root1"]), (vector["size2"], vector["root2"])):
            assert root_from_leaves(hashes[:size]) == _b64(root), size
            checked.add(size)
    assert checked == {1, 2, 5, 6, 7, 8}


def test_hashing_uses_the_rfc9162_prefixes() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        hash_children(b"L" * 32, b"R" * 32)
        == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )
    assert root_from_leaves([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    one = leaf_hash(b"x")
    assert bytes(root_from_leaves([one])) == bytes(one)


def _tree_of_12() -> tuple[list[LeafHash], RootHash, list[bytes]]:
    """Twelve leaves, their root, and a correct proof for index 5, built by hand."""
    hashes = [leaf_hash(bytes([index])) for index in range(12)]
    h = hash_children
    left8 = h(
        h(h(hashes[0], hashes[1]), h(hashes[2], hashes[3])),
        h(h(hashes[4], hashes[5]), h(hashes[6], hashes[7])),
    )
    right4 = h(h(hashes[8], hashes[9]), h(hashes[10], hashes[11]))
    proof = [
        hashes[4],
        h(hashes[6], hashes[7]),
        h(h(hashes[0], hashes[1]), h(hashes[2], hashes[3])),
        right4,
    ]
    return hashes, RootHash(h(left8, right4)), proof


def test_a_hand_built_proof_verifies() -> None:
    hashes, root, proof = _tree_of_12()
    assert root_from_leaves(hashes) == root
    verify_inclusion(hashes[5], 5, 12, proof, root)


def test_a_short_proof_names_both_lengths() -> None:
    hashes, root, proof = _tree_of_12()
    with pytest.raises(
        InclusionProofInvalid,
        match=r"^signature-invalid: inclusion proof has 3 hashes, expected 4 "
        r"for index 5 in a tree of 12$",
    ):
        verify_inclusion(hashes[5], 5, 12, proof[:3], root)


def test_a_wrong_leaf_names_the_root_it_yields() -> None:
    hashes, root, proof = _tree_of_12()
    with pytest.raises(InclusionProofInvalid, match=rf"not the expected {root.hex()}"):
        verify_inclusion(hashes[4], 5, 12, proof, root)


def test_a_proof_hash_of_the_wrong_length_is_named() -> None:
    hashes, root, proof = _tree_of_12()
    proof[2] = proof[2][:31]
    with pytest.raises(InclusionProofInvalid, match=r"inclusion proof hash 2 has 31 bytes"):
        verify_inclusion(hashes[5], 5, 12, proof, root)


def test_consistency_refuses_a_shrinking_tree() -> None:
    with pytest.raises(ConsistencyProofInvalid, match=r"a tree of 3 cannot extend a tree of 4"):
        verify_consistency(4, 3, [], EMPTY_ROOT, EMPTY_ROOT)


def test_a_bad_proof_is_a_trust_failure_not_an_internal_error() -> None:
    hashes, root, proof = _tree_of_12()
    with pytest.raises(IrtError, match=r"^signature-invalid: inclusion proof") as caught:
        verify_inclusion(hashes[5], 6, 12, proof, root)
    assert isinstance(caught.value, SignatureInvalid)
    assert isinstance(caught.value, LogError)
    assert (caught.value.code, caught.value.http_status) == ("signature-invalid", 403)
