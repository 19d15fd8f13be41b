"""The witness core a borough node runs: cosign a checkpoint only if it extends the last one.

A witness remembers one thing per log, the last checkpoint it cosigned
(``WitnessState``). State comes in and goes out explicitly; the witness does
no I/O. ``Witness.cosign`` steps:

(1) open the note: the log's own Ed25519 signature must verify
    (C2SP tlog-checkpoint, signed-note);
(2) the origin must be the log this state witnesses;
(3) the tree must not shrink: a smaller size is a rollback;
(4) the tree must extend the last one: at the same size the root must be the
    same (else the log has forked), at a larger size the RFC 9162 §2.1.4.2
    consistency proof from the last size and root must verify; from the empty
    tree (a witness's first checkpoint) there is nothing to prove;
(5) sign a tlog-cosignature/v1 dated by the clock, and return it with the
    new state.

The caller must store the returned state — replacing the state it passed in
only if that is still current, so two concurrent calls cannot both advance
it — before releasing the cosignature line. A checkpoint refused in (2)–(4)
raises ``CheckpointInconsistent`` and is never cosigned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hub.clock import Clock
from hub.log.checkpoint import SignedCheckpoint, open_note
from hub.log.cosignature import cosign
from hub.log.errors import CheckpointInconsistent, ConsistencyProofInvalid, LogKeyInvalid
from hub.log.merkle import EMPTY_ROOT, RootHash, verify_consistency
from hub.log.note import NoteSigner, NoteVerifier, SignatureType

__all__ = ["Cosigned", "Witness", "WitnessState"]


@dataclass(frozen=True, slots=True)
class WitnessState:
    """The last tree head a witness accepted for the log named ``origin``."""

    origin: str
    size: int
    root_hash: RootHash

    @classmethod
    def first(cls, origin: str) -> WitnessState:
        """The state before any checkpoint: the empty tree, which every tree extends."""
        return cls(origin=origin, size=0, root_hash=EMPTY_ROOT)


@dataclass(frozen=True, slots=True)
class Cosigned:
    """What a successful ``Witness.cosign`` hands back."""

    line: bytes
    """The cosignature line, to append to the checkpoint note."""
    state: WitnessState
    """The new state; store it before releasing ``line``."""
    checkpoint: SignedCheckpoint
    """The checkpoint as verified."""


@dataclass(frozen=True, slots=True)
class Witness:
    """A witness for one log: its cosigning key, the log's key and a clock."""

    signer: NoteSigner
    """This witness's cosignature/v1 key (type 0x04)."""
    log: NoteVerifier
    """The witnessed log's Ed25519 note key."""
    clock: Clock

    def __post_init__(self) -> None:
        if self.signer.sig_type is not SignatureType.COSIGNATURE_V1:
            raise LogKeyInvalid(f"witness key {self.signer.name!r} is not a cosignature/v1 key")
        if self.log.sig_type is not SignatureType.ED25519:
            raise LogKeyInvalid(f"log key {self.log.name!r} is not an Ed25519 note key")

    def cosign(
        self, note: bytes, consistency_proof: Sequence[bytes], *, state: WitnessState
    ) -> Cosigned:
        """Cosign ``note`` if it extends ``state``; see the module docstring for the steps.

        Raises ``NoteTooLarge``, ``NoteMalformed`` or ``NoteSignatureInvalid``
        for a note the log did not validly sign, and ``CheckpointInconsistent``
        for one that does not extend ``state``.
        """
        # (1) The log's signature.
        opened = open_note(note, required=self.log)
        checkpoint = opened.checkpoint
        # (2) The witnessed log.
        if checkpoint.origin != state.origin:
            raise CheckpointInconsistent(
                f"checkpoint origin {checkpoint.origin!r} is not the witnessed log {state.origin!r}"
            )
        # (3) No rollback.
        if checkpoint.size < state.size:
            raise CheckpointInconsistent(
                f"checkpoint of size {checkpoint.size} rolls back the log from size {state.size}"
            )
        # (4) No fork.
        if state.size in (0, checkpoint.size):
            if consistency_proof:
                raise CheckpointInconsistent(
                    f"consistency proof from size {state.size} to {checkpoint.size} has "
                    f"{len(consistency_proof)} hashes, expected none"
                )
            if checkpoint.size == state.size and checkpoint.root_hash != state.root_hash:
                raise CheckpointInconsistent(
                    f"log has forked: root {bytes(checkpoint.root_hash).hex()} at size "
                    f"{checkpoint.size}, but this witness accepted {bytes(state.root_hash).hex()}"
                )
        else:
            try:
                verify_consistency(
                    state.size,
                    checkpoint.size,
                    consistency_proof,
                    state.root_hash,
                    checkpoint.root_hash,
                )
            except ConsistencyProofInvalid as exc:
                raise CheckpointInconsistent(
                    f"checkpoint of size {checkpoint.size} is not proven to extend the "
                    f"accepted size {state.size}: {exc.reason}"
                ) from exc
        # (5) Cosign, dated now.
        timestamp = int(self.clock.now().timestamp())
        line = cosign(opened.text, self.signer, timestamp=timestamp)
        new_state = WitnessState(
            origin=state.origin, size=checkpoint.size, root_hash=checkpoint.root_hash
        )
        return Cosigned(line=line, state=new_state, checkpoint=opened)
