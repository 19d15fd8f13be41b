"""C2SP tlog-cosignature/v1: message layout, round trip and tampering."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from hub.log.checkpoint import Checkpoint, open_note, sign_checkpoint
from hub.log.cosignature import MAX_TIMESTAMP, Cosignature, cosign, cosigned_message
from hub.log.errors import LogKeyInvalid, NoteMalformed, NoteSignatureInvalid
from hub.log.merkle import RootHash
from hub.log.note import NoteSigner, NoteVerifier, SignatureType, signature_line

SOFA_ROOT = RootHash(base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="))
TIMESTAMP = 1_795_000_000


def _note(log_signer: NoteSigner) -> bytes:
    return sign_checkpoint(Checkpoint(log_signer.name, 12, SOFA_ROOT), log_signer)


def _text(note: bytes) -> bytes:
    return note[: note.index(b"\n\n") + 1]


def test_the_signed_message_is_the_spec_example() -> None:
    text = Checkpoint("example.com/behind-the-sofa", 20852163, SOFA_ROOT).text()
    assert cosigned_message(text, 1679315147) == (
        b"cosignature/v1\n"
        b"time 1679315147\n"
        b"example.com/behind-the-sofa\n"
        b"20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_a_cosignature_round_trips(log_signer: NoteSigner, witness_signer: NoteSigner) -> None:
    note = _note(log_signer)
    line = cosign(_text(note), witness_signer, timestamp=TIMESTAMP)
    opened = open_note(note + line, [witness_signer.verifier], required=log_signer.verifier)
    assert opened.cosignatures == (
        Cosignature(name=witness_signer.name, key_id=witness_signer.key_id, timestamp=TIMESTAMP),
    )


def test_the_line_payload_is_key_id_timestamp_signature(
    log_signer: NoteSigner, witness_signer: NoteSigner
) -> None:
    note = _note(log_signer)
    line = cosign(_text(note), witness_signer, timestamp=TIMESTAMP)
    prefix = f"— {witness_signer.name} ".encode()
    assert line.startswith(prefix)
    assert line.endswith(b"\n")
    payload = base64.b64decode(line[len(prefix) : -1])
    assert len(payload) == 4 + 8 + 64
    assert int.from_bytes(payload[:4], "big") == witness_signer.key_id
    assert int.from_bytes(payload[4:12], "big") == TIMESTAMP
    message = cosigned_message(_text(note), TIMESTAMP)
    assert witness_signer.verifier.verify(message, payload[12:])


def test_a_cosignature_by_an_unknown_witness_is_ignored(
    log_signer: NoteSigner, witness_signer: NoteSigner
) -> None:
    note = _note(log_signer)
    line = cosign(_text(note), witness_signer, timestamp=TIMESTAMP)
    assert open_note(note + line, required=log_signer.verifier).cosignatures == ()


def test_a_cosignature_does_not_count_as_a_log_signature(witness_signer: NoteSigner) -> None:
    # The same key registered as an Ed25519 note key has another key ID (type
    # byte 0x01 versus 0x04), so a cosignature can never pass for the log's signature.
    as_log_key = NoteVerifier(witness_signer.name, witness_signer.verifier.public_key)
    text = Checkpoint(witness_signer.name, 3, SOFA_ROOT).text()
    note = text + b"\n" + cosign(text, witness_signer, timestamp=TIMESTAMP)
    with pytest.raises(NoteSignatureInvalid, match=r"carries no signature by the log key"):
        open_note(note, required=as_log_key)


def _rewrite(payload: bytes, name: str) -> bytes:
    return signature_line(name, int.from_bytes(payload[:4], "big"), payload[4:])


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (
            lambda p: p[:4] + (TIMESTAMP + 1).to_bytes(8, "big") + p[12:],
            r"at time 1795000001 does not verify",
        ),
        (lambda p: p[:-1] + bytes([p[-1] ^ 1]), r"at time 1795000000 does not verify"),
        (lambda p: p[:-1], r"has 71 bytes after its key ID, expected 72"),
        (
            lambda p: p[:4] + (2**63).to_bytes(8, "big") + p[12:],
            r"timestamp 9223372036854775808 beyond",
        ),
    ],
    ids=["other-time", "flipped-bit", "truncated", "timestamp-overflow"],
)
def test_a_tampered_cosignature_rejects_the_note(
    log_signer: NoteSigner,
    witness_signer: NoteSigner,
    tamper: Callable[[bytes], bytes],
    reason: str,
) -> None:
    note = _note(log_signer)
    line = cosign(_text(note), witness_signer, timestamp=TIMESTAMP)
    prefix = f"— {witness_signer.name} ".encode()
    payload = tamper(base64.b64decode(line[len(prefix) : -1]))
    with pytest.raises(NoteSignatureInvalid, match=reason):
        open_note(
            note + _rewrite(payload, witness_signer.name),
            [witness_signer.verifier],
            required=log_signer.verifier,
        )


def test_a_cosignature_over_another_checkpoint_fails(
    log_signer: NoteSigner, witness_signer: NoteSigner
) -> None:
    other = sign_checkpoint(Checkpoint(log_signer.name, 13, SOFA_ROOT), log_signer)
    line = cosign(_text(other), witness_signer, timestamp=TIMESTAMP)
    with pytest.raises(NoteSignatureInvalid, match=r"cosignature by .* does not verify"):
        open_note(_note(log_signer) + line, [witness_signer.verifier], required=log_signer.verifier)


def test_only_cosigner_keys_cosign(log_signer: NoteSigner, witness_signer: NoteSigner) -> None:
    assert witness_signer.sig_type is SignatureType.COSIGNATURE_V1
    with pytest.raises(LogKeyInvalid, match=r"is not a cosignature/v1 key"):
        cosign(b"text\n", log_signer, timestamp=TIMESTAMP)
    with pytest.raises(NoteMalformed, match=r"cosignature timestamp -1 is out of range"):
        cosign(b"text\n", witness_signer, timestamp=-1)
    note = _note(log_signer)
    line = cosign(_text(note), witness_signer, timestamp=MAX_TIMESTAMP)
    opened = open_note(note + line, [witness_signer.verifier], required=log_signer.verifier)
    assert opened.cosignatures[0].timestamp == MAX_TIMESTAMP
