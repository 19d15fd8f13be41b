"""The verifiable message log (SPEC §8): pure, storage-agnostic core.

Modules, one concept each:

- ``merkle``: RFC 9162 §2.1 hashing and proof verification;
- ``tree``: appending leaves and generating proofs over a ``NodeStore``;
- ``note``: C2SP signed-note keys and wire format;
- ``checkpoint``: C2SP tlog-checkpoint signing and strict opening;
- ``cosignature``: C2SP tlog-cosignature/v1;
- ``errors``: the ``LogError`` branch of the ``hub.errors`` tree.

The hub's message log on top of that core, imported from its own module:

- ``entry``: ``LogEntry``, the leaf (metadata and digests, no personal data);
- ``store``: the storage Protocols and records, implemented per backend in
  ``hub.storage`` (SQLite; PostgreSQL for several hub instances sharing one log);
- ``message_log``: ``MessageLog``, group-committed appends, proofs, pruning;
- ``checkpointer``: signing checkpoints on a schedule; ``keyfiles``: key files;
- ``routes``: the ``/v1/log/*`` HTTP endpoints;
- ``evidence``, ``audit``, ``bundle``, ``access``: the offline auditor.

The borough side's witness (checking and cosigning checkpoints) is
``adapters.witness``.

The names below are the package's public surface.
"""

from hub.log.checkpoint import Checkpoint, SignedCheckpoint, open_note, sign_checkpoint
from hub.log.cosignature import Cosignature, cosign, verify_cosignature
from hub.log.errors import (
    CheckpointInconsistent,
    ConsistencyProofInvalid,
    InclusionProofInvalid,
    LogError,
    LogEvidenceInvalid,
    LogKeyInvalid,
    LogRangeError,
    LogStoreError,
    NoteMalformed,
    NoteSignatureInvalid,
    NoteTooLarge,
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
from hub.log.note import (
    NoteSigner,
    NoteVerifier,
    SignatureType,
    generate_cosigner_key,
    generate_log_key,
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

__all__ = [
    "EMPTY_ROOT",
    "Checkpoint",
    "CheckpointInconsistent",
    "ConsistencyProofInvalid",
    "Cosignature",
    "InclusionProofInvalid",
    "LeafHash",
    "LogError",
    "LogEvidenceInvalid",
    "LogKeyInvalid",
    "LogRangeError",
    "LogStoreError",
    "MemoryNodeStore",
    "NodeId",
    "NodeStore",
    "NoteMalformed",
    "NoteSignatureInvalid",
    "NoteSigner",
    "NoteTooLarge",
    "NoteVerifier",
    "RootHash",
    "SignatureType",
    "SignedCheckpoint",
    "append_leaves",
    "consistency_proof",
    "cosign",
    "generate_cosigner_key",
    "generate_log_key",
    "inclusion_proof",
    "leaf_hash",
    "open_note",
    "root",
    "root_from_leaves",
    "sign_checkpoint",
    "verify_consistency",
    "verify_cosignature",
    "verify_inclusion",
]
