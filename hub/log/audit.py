"""Auditing a whole message log offline, trusting only the root CA, the CRLs and the log key.

``audit_log`` walks the log once, in index order, and stops at the FIRST
broken item, naming it (``LogEvidenceInvalid``: "leaf 1234: …",
"checkpoint of size 5000: …"). Steps (SPEC §8; RFC 9162; C2SP):

(1) every leaf index from 0 is present, once, in order;
(2) every leaf parses as a canonical ``LogEntry`` (``hub.log.entry``);
(3) its leaf hash is the one the log's own tree recorded when it was
    appended — this names a rewritten or moved leaf precisely;
(4) its message bytes are present and pass ``MessageChecker`` (hash, signature
    and certificate at ``Created`` with the CRL then in force, header = leaf),
    or were pruned by a recorded retention rule;
(5) the auditor rebuilds the tree from the leaf bytes alone; when it reaches
    the size of a stored checkpoint, that checkpoint must carry a valid
    signature by the log key, name the log's origin, and sign exactly the
    rebuilt root; the RFC 9162 §2.1.4 consistency proof from the previous
    checkpoint must verify; every cosignature by a configured witness must
    verify;
(6) no checkpoint may lie beyond the last leaf (a truncated log), and
    leaves must be covered: with ``quorum`` K, at least one checkpoint must
    carry cosignatures by K configured witnesses. Witnesses refuse to cosign
    a history that rewrites what they saw, so the largest quorum-cosigned
    checkpoint fixes everything up to it; checkpoints and leaves after it are
    verified, and reported as not yet witnessed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from hub.errors import IrtError
from hub.log.checkpoint import open_note
from hub.log.cosignature import verify_cosignature
from hub.log.entry import LogEntry
from hub.log.errors import LogEvidenceInvalid, LogKeyInvalid, LogStoreError
from hub.log.evidence import MessageChecker
from hub.log.merkle import LeafHash, RootHash, leaf_hash, verify_consistency
from hub.log.note import NoteVerifier, SignatureType, parse_note
from hub.log.store import LogStorage, Pruned, StoredCheckpoint
from hub.log.tree import MemoryNodeStore, NodeId, append_leaves, consistency_proof, root

__all__ = ["AuditSummary", "AuditTrust", "audit_log"]

_ALL: Final = 2**63 - 1
_BATCH: Final = 4096
"""Leaf hashes added to the rebuilt tree and compared with the log's at a time."""


@dataclass(frozen=True)
class AuditTrust:
    """Everything an auditor trusts, and nothing else."""

    checker: MessageChecker
    """The root CA and the dated CRLs, as a message checker."""
    log_key: NoteVerifier
    """The log's Ed25519 note key; its name is the checkpoint origin."""
    witnesses: tuple[NoteVerifier, ...] = ()
    """The witnesses' cosignature/v1 keys."""
    quorum: int = 0
    """Distinct configured witnesses that must cosign one checkpoint; 0 = none."""

    def __post_init__(self) -> None:
        if self.log_key.sig_type is not SignatureType.ED25519:
            raise LogKeyInvalid(f"log key {self.log_key.name!r} is not an Ed25519 note key")
        if any(w.sig_type is not SignatureType.COSIGNATURE_V1 for w in self.witnesses):
            raise LogKeyInvalid("every witness key must be a cosignature/v1 key")
        if not 0 <= self.quorum <= len(self.witnesses):
            raise LogKeyInvalid(
                f"a quorum of {self.quorum} cannot be met by {len(self.witnesses)} witness keys"
            )


@dataclass
class AuditSummary:
    """What a successful audit verified."""

    leaves: int = 0
    messages_verified: int = 0
    pruned: Counter[str] = field(default_factory=Counter)
    """Pruned messages by retention rule id."""
    checkpoints: int = 0
    cosignatures: int = 0
    """Verified cosignatures by configured witnesses, over all checkpoints."""
    unknown_cosignatures: int = 0
    """Stored cosignatures by keys the auditor was not given (not counted)."""
    witnessed_size: int = 0
    """Size of the largest checkpoint cosigned by the quorum (0 without a quorum)."""
    checkpointed_size: int = 0
    """Size of the latest checkpoint."""
    without_crl: int = 0
    """Messages made before the earliest CRL given."""
    appended_since: int = 0
    """Leaves the live log gained during the audit, not audited."""

    def lines(self) -> list[str]:
        """A human-readable summary, one fact per line."""
        pruned = ", ".join(f"{n} by rule {rule}" for rule, n in sorted(self.pruned.items()))
        lines = [
            f"leaves:               {self.leaves}",
            f"messages verified:    {self.messages_verified}",
            f"messages pruned:      {sum(self.pruned.values())}"
            + (f" ({pruned})" if pruned else ""),
            f"checkpoints verified: {self.checkpoints} (latest covers {self.checkpointed_size})",
            f"cosignatures:         {self.cosignatures} verified"
            + (
                f", {self.unknown_cosignatures} by unknown keys"
                if self.unknown_cosignatures
                else ""
            ),
        ]
        if self.witnessed_size:
            lines.append(f"witnessed by quorum:  leaves 0..{self.witnessed_size - 1}")
        if self.leaves > self.checkpointed_size:
            lines.append(
                f"not yet checkpointed: {self.leaves - self.checkpointed_size} newest leaves"
            )
        if self.appended_since:
            lines.append(f"appended during audit: {self.appended_since} leaves, not audited")
        if self.without_crl:
            lines.append(f"made before any CRL given: {self.without_crl} messages")
        return lines


def audit_log(
    storage: LogStorage,
    trust: AuditTrust,
    *,
    progress: Callable[[int], None] | None = None,
) -> AuditSummary:
    """Verify every leaf, message, checkpoint and cosignature; see the module docstring.

    Raises ``LogEvidenceInvalid`` naming the first broken item, and
    ``LogStoreError`` if the storage cannot be read.
    """
    audit = _Audit(storage, trust)
    # Up to the tree size read after the checkpoints: a live log may grow meanwhile.
    for record in storage.records(0, audit.logged_size):
        index = audit.summary.leaves
        if record.index != index:  # (1)
            raise LogEvidenceInvalid(
                f"leaf {index}: missing from the log (deleted; the next stored leaf is "
                f"{record.index})"
            )
        audit.reach(index)  # (5) for checkpoints of this size
        entry = audit.leaf(index, record.leaf)  # (2), (3)
        audit.check_message(index, entry, record.message)  # (4)
        if progress is not None:
            progress(1)
    audit.reach(audit.summary.leaves)
    audit.finish()  # (6)
    for beyond in storage.records(audit.logged_size, _ALL):
        # A leaf row past the tree: appended since (fine) or outside the tree (not).
        grown = storage.nodes.size()
        if beyond.index >= grown:
            raise LogEvidenceInvalid(
                f"leaf {beyond.index}: not in the log's tree, which holds {grown} leaves "
                "(added outside the tree)"
            )
        audit.summary.appended_since = grown - audit.logged_size
        break
    return audit.summary


class _Audit:
    """The state of one walk over a log."""

    def __init__(self, storage: LogStorage, trust: AuditTrust) -> None:
        self.storage, self.trust = storage, trust
        self.summary = AuditSummary()
        self.tree = MemoryNodeStore()
        self.hashes: list[LeafHash] = []
        """Leaf hashes not yet added to ``tree``."""
        # Checkpoints first: each covers a size the tree had when it was read.
        self.pending = list(storage.checkpoints())
        self.previous: tuple[int, RootHash] | None = None
        self.logged_size = storage.nodes.size()
        self.logged: list[bytes] = []
        self.logged_start = 0

    def reach(self, size: int) -> None:
        """Grow the rebuilt tree to ``size`` when a checkpoint is due (5), or in batches."""
        if (self.pending and self.pending[0].size <= size) or len(self.hashes) >= _BATCH:
            append_leaves(self.tree, self.hashes)
            self.hashes = []
            while self.pending and self.pending[0].size <= self.tree.size():
                self._check_checkpoint(self.pending.pop(0))

    def leaf(self, index: int, leaf: bytes) -> LogEntry:
        """Parse the leaf (2) and check its hash against the log's own tree (3)."""
        try:
            entry = LogEntry.from_leaf_bytes(leaf)
        except LogEvidenceInvalid as exc:
            raise LogEvidenceInvalid(f"leaf {index}: {exc.reason}") from exc
        ours = leaf_hash(leaf)
        theirs = self._logged_leaf(index)
        if ours != theirs:
            raise LogEvidenceInvalid(
                f"leaf {index}: its bytes hash to {ours.hex()}, but the tree recorded "
                f"{theirs.hex()} when it was appended (leaf rewritten or moved)"
            )
        self.hashes.append(ours)
        return entry

    def check_message(self, index: int, entry: LogEntry, message: bytes | Pruned | None) -> None:
        if isinstance(message, Pruned):
            self.summary.pruned[message.rule_id] += 1
        elif message is None:
            raise LogEvidenceInvalid(
                f"leaf {index}: message bytes are missing and no retention rule pruned them "
                "(deleted)"
            )
        else:
            try:
                checked = self.trust.checker.check(message, entry)
            except LogEvidenceInvalid as exc:
                raise LogEvidenceInvalid(f"leaf {index}: {exc.reason}") from exc
            self.summary.messages_verified += 1
            self.summary.without_crl += checked.crl_number is None
        self.summary.leaves += 1

    def finish(self) -> None:
        if self.summary.leaves < self.logged_size:
            raise LogEvidenceInvalid(
                f"leaf {self.summary.leaves}: missing from the log (deleted; the log's tree "
                f"holds {self.logged_size} leaves)"
            )
        if self.pending:
            beyond = self.pending[0]
            raise LogEvidenceInvalid(
                f"checkpoint of size {beyond.size}: the log holds only {self.summary.leaves} "
                f"leaves; leaves {self.summary.leaves}..{beyond.size - 1} were removed "
                "(log truncated)"
            )
        if self.summary.leaves and not self.summary.checkpoints:
            raise LogEvidenceInvalid(
                f"the log holds {self.summary.leaves} leaves but no signed checkpoint"
            )
        if self.trust.quorum and not self.summary.witnessed_size:
            raise LogEvidenceInvalid(
                f"no checkpoint is cosigned by {self.trust.quorum} of the "
                f"{len(self.trust.witnesses)} configured witnesses"
            )

    def _logged_leaf(self, index: int) -> bytes:
        if index >= self.logged_size:
            raise LogEvidenceInvalid(
                f"leaf {index}: not in the log's tree, which holds {self.logged_size} leaves "
                "(added outside the tree, or the tree was truncated)"
            )
        if not 0 <= index - self.logged_start < len(self.logged):
            end = min(index + _BATCH, self.logged_size)
            try:
                self.logged = self.storage.nodes.get_nodes(
                    [NodeId(0, i) for i in range(index, end)]
                )
            except LogStoreError as exc:
                raise LogEvidenceInvalid(
                    f"leaf {index}: the log's tree is damaged: {exc.reason}"
                ) from exc
            self.logged_start = index
        return self.logged[index - self.logged_start]

    def _check_checkpoint(self, stored: StoredCheckpoint) -> None:
        size = stored.size
        try:
            opened = open_note(stored.note, required=self.trust.log_key)
        except IrtError as exc:
            raise LogEvidenceInvalid(f"checkpoint of size {size}: {exc.reason}") from exc
        checkpoint = opened.checkpoint
        if checkpoint.origin != self.trust.log_key.name:
            raise LogEvidenceInvalid(
                f"checkpoint of size {size}: origin {checkpoint.origin!r} is not the log "
                f"{self.trust.log_key.name!r}"
            )
        if checkpoint.size != size:
            raise LogEvidenceInvalid(
                f"checkpoint stored as size {size} signs size {checkpoint.size}"
            )
        rebuilt = root(self.tree, size)
        if rebuilt != checkpoint.root_hash:
            since = self.previous[0] if self.previous else 0
            raise LogEvidenceInvalid(
                f"checkpoint of size {size}: signed root {bytes(checkpoint.root_hash).hex()}, "
                f"but leaves 0..{size - 1} hash to {rebuilt.hex()}: a leaf in {since}..{size - 1} "
                "was changed, removed or reordered after it was logged"
            )
        if self.previous is not None and self.previous[0] > 0:
            first, first_root = self.previous
            try:
                proof = consistency_proof(self.tree, first, size)
                verify_consistency(first, size, proof, first_root, checkpoint.root_hash)
            except IrtError as exc:
                raise LogEvidenceInvalid(
                    f"checkpoint of size {size} is not consistent with size {first}: {exc.reason}"
                ) from exc
        witnesses = self._check_cosignatures(size, opened.text)
        self.previous = (size, checkpoint.root_hash)
        self.summary.checkpoints += 1
        self.summary.checkpointed_size = size
        if self.trust.quorum and witnesses >= self.trust.quorum:
            self.summary.witnessed_size = size

    def _check_cosignatures(self, size: int, text: bytes) -> int:
        known = {(w.name, w.key_id): w for w in self.trust.witnesses}
        verified: set[str] = set()
        for stored in self.storage.cosignatures(size):
            try:
                (signature,) = parse_note(text + b"\n" + stored.line).signatures
                key = known.get((signature.name, signature.key_id))
                if key is None:
                    self.summary.unknown_cosignatures += 1
                    continue
                verify_cosignature(text, signature, key)
            except IrtError as exc:
                reason = exc.reason
                if repr(stored.witness) not in reason:
                    reason = f"cosignature by {stored.witness!r}: {reason}"
                raise LogEvidenceInvalid(f"checkpoint of size {size}: {reason}") from exc
            verified.add(key.name)
            self.summary.cosignatures += 1
        return len(verified)
