"""The witness cosigns a checkpoint only if it extends the last one it accepted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.witness.cosigning import Witness, WitnessState
from hub.clock import FixedClock
from hub.log.checkpoint import Checkpoint, open_note, sign_checkpoint
from hub.log.errors import CheckpointInconsistent, LogKeyInvalid, NoteSignatureInvalid
from hub.log.merkle import LeafHash, leaf_hash
from hub.log.note import NoteSigner, generate_log_key
from hub.log.tree import MemoryNodeStore, append_leaves, consistency_proof, root


def _leaves(count: int, salt: bytes = b"") -> list[LeafHash]:
    return [leaf_hash(salt + index.to_bytes(8, "big")) for index in range(count)]


class _Log:
    """A log of the given leaves that signs checkpoints at any size."""

    def __init__(self, signer: NoteSigner, hashes: list[LeafHash]) -> None:
        self.signer = signer
        self.store = MemoryNodeStore()
        append_leaves(self.store, hashes)

    def note(self, size: int) -> bytes:
        checkpoint = Checkpoint(self.signer.name, size, root(self.store, size))
        return sign_checkpoint(checkpoint, self.signer)

    def proof(self, old: int, new: int) -> list[bytes]:
        return consistency_proof(self.store, old, new)


@pytest.fixture
def log(log_signer: NoteSigner) -> _Log:
    return _Log(log_signer, _leaves(40))


@pytest.fixture
def witness(witness_signer: NoteSigner, log_signer: NoteSigner, clock: FixedClock) -> Witness:
    return Witness(signer=witness_signer, log=log_signer.verifier, clock=clock)


@pytest.fixture
def accepted(log: _Log, witness: Witness) -> WitnessState:
    """The witness after accepting the log at size 20."""
    return witness.cosign(log.note(20), [], state=WitnessState.first(log.signer.name)).state


def test_the_first_checkpoint_is_cosigned(
    log: _Log, witness: Witness, witness_signer: NoteSigner, clock: FixedClock
) -> None:
    note = log.note(20)
    result = witness.cosign(note, [], state=WitnessState.first(log.signer.name))
    assert result.state == WitnessState(log.signer.name, 20, root(log.store, 20))
    opened = open_note(note + result.line, [witness_signer.verifier], required=log.signer.verifier)
    (cosignature,) = opened.cosignatures
    assert cosignature.timestamp == int(clock.now().timestamp())
    assert cosignature.name == witness_signer.name


def test_a_consistent_extension_is_cosigned_and_advances_the_state(
    log: _Log, witness: Witness, accepted: WitnessState, clock: FixedClock
) -> None:
    clock.advance(timedelta(minutes=1))
    result = witness.cosign(log.note(33), log.proof(20, 33), state=accepted)
    assert (result.state.size, result.state.root_hash) == (33, root(log.store, 33))
    assert result.checkpoint.checkpoint.size == 33
    again = witness.cosign(log.note(40), log.proof(33, 40), state=result.state)
    assert again.state.size == 40


def test_the_same_checkpoint_is_cosigned_again(
    log: _Log, witness: Witness, accepted: WitnessState
) -> None:
    result = witness.cosign(log.note(20), [], state=accepted)
    assert result.state == accepted


def test_a_fork_at_the_same_size_is_refused(
    log_signer: NoteSigner, witness: Witness, accepted: WitnessState
) -> None:
    fork = _Log(log_signer, _leaves(20, salt=b"fork"))
    with pytest.raises(
        CheckpointInconsistent, match=r"log has forked: root [0-9a-f]{64} at size 20"
    ):
        witness.cosign(fork.note(20), [], state=accepted)


def test_a_fork_at_a_larger_size_is_refused(
    log_signer: NoteSigner, witness: Witness, accepted: WitnessState
) -> None:
    # The first 10 leaves agree, then the histories diverge; the fork's own
    # consistency proof is honest about the fork, so it cannot reach our root.
    fork = _Log(log_signer, [*_leaves(10), *_leaves(30, salt=b"fork")])
    with pytest.raises(
        CheckpointInconsistent,
        match=r"checkpoint of size 40 is not proven to extend the accepted size 20: "
        r"consistency proof yields root",
    ):
        witness.cosign(fork.note(40), fork.proof(20, 40), state=accepted)


def test_a_rollback_is_refused(log: _Log, witness: Witness, accepted: WitnessState) -> None:
    with pytest.raises(
        CheckpointInconsistent, match=r"checkpoint of size 19 rolls back the log from size 20"
    ):
        witness.cosign(log.note(19), [], state=accepted)


def test_a_bad_consistency_proof_is_refused(
    log: _Log, witness: Witness, accepted: WitnessState
) -> None:
    proof = log.proof(20, 33)
    proof[1] = bytes(32)
    with pytest.raises(CheckpointInconsistent, match=r"not proven to extend the accepted size 20"):
        witness.cosign(log.note(33), proof, state=accepted)
    with pytest.raises(
        CheckpointInconsistent,
        match=r"consistency proof has 0 hashes, expected \d+ from a tree of 20",
    ):
        witness.cosign(log.note(33), [], state=accepted)
    with pytest.raises(CheckpointInconsistent, match=r"consistency proof has \d+ hashes"):
        witness.cosign(log.note(33), log.proof(21, 33), state=accepted)


def test_a_proof_where_none_is_due_is_refused(
    log: _Log, witness: Witness, accepted: WitnessState
) -> None:
    with pytest.raises(
        CheckpointInconsistent, match=r"from size 20 to 20 has 1 hashes, expected none"
    ):
        witness.cosign(log.note(20), [bytes(32)], state=accepted)


def test_a_checkpoint_the_log_did_not_sign_is_refused(
    log: _Log, witness: Witness, accepted: WitnessState
) -> None:
    impostor = NoteSigner.from_key_text(generate_log_key(log.signer.name)[0])
    forged = sign_checkpoint(Checkpoint(log.signer.name, 33, root(log.store, 33)), impostor)
    with pytest.raises(NoteSignatureInvalid, match=r"carries no signature by the log key"):
        witness.cosign(forged, log.proof(20, 33), state=accepted)


def test_a_checkpoint_of_another_log_is_refused(
    log: _Log, witness: Witness, accepted: WitnessState
) -> None:
    other = Checkpoint("other.example/log", 33, root(log.store, 33))
    with pytest.raises(
        CheckpointInconsistent, match=r"origin 'other.example/log' is not the witnessed log"
    ):
        witness.cosign(sign_checkpoint(other, log.signer), log.proof(20, 33), state=accepted)


def test_the_witness_needs_keys_of_the_right_types(
    log_signer: NoteSigner, witness_signer: NoteSigner, clock: FixedClock
) -> None:
    with pytest.raises(LogKeyInvalid, match=r"witness key .* is not a cosignature/v1 key"):
        Witness(signer=log_signer, log=log_signer.verifier, clock=clock)
    with pytest.raises(LogKeyInvalid, match=r"log key .* is not an Ed25519 note key"):
        Witness(signer=witness_signer, log=witness_signer.verifier, clock=clock)
