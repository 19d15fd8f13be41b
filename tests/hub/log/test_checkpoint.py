"""C2SP tlog-checkpoint: signing, strict opening, forgeries and malformed notes."""

from __future__ import annotations

import base64
import dataclasses
from typing import TypedDict

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.log.checkpoint import (
    MAX_EXTENSION_LINES,
    Checkpoint,
    open_note,
    sign_checkpoint,
)
from hub.log.errors import LogKeyInvalid, NoteMalformed, NoteSignatureInvalid, NoteTooLarge
from hub.log.merkle import RootHash, leaf_hash
from hub.log.note import MAX_NOTE_BYTES, NoteSigner, generate_log_key, signature_line

ROOT = RootHash(leaf_hash(b"root"))
ROOT_B64 = base64.b64encode(ROOT).decode()


def _checkpoint(size: int = 20852163, extensions: tuple[str, ...] = ()) -> Checkpoint:
    return Checkpoint("irt.london.example/log", size, ROOT, extensions)


def _signed_text(text: bytes, signer: NoteSigner) -> bytes:
    return text + b"\n" + signature_line(signer.name, signer.key_id, signer.sign(text))


def test_the_text_is_the_c2sp_layout() -> None:
    assert _checkpoint().text() == f"irt.london.example/log\n20852163\n{ROOT_B64}\n".encode()
    with_extension = _checkpoint(extensions=("ext one",)).text()
    assert with_extension.endswith(f"{ROOT_B64}\next one\n".encode())


@pytest.mark.parametrize("extensions", [(), ("first extension", "second")])
def test_a_signed_checkpoint_round_trips(
    log_signer: NoteSigner, extensions: tuple[str, ...]
) -> None:
    checkpoint = _checkpoint(extensions=extensions)
    note = sign_checkpoint(checkpoint, log_signer)
    opened = open_note(note, required=log_signer.verifier)
    assert opened.checkpoint == checkpoint
    assert opened.text == checkpoint.text()
    assert opened.note == note
    assert opened.cosignatures == ()


def test_the_empty_tree_round_trips(log_signer: NoteSigner) -> None:
    checkpoint = Checkpoint("irt.london.example/log", 0, RootHash(bytes(32)))
    assert (
        open_note(sign_checkpoint(checkpoint, log_signer), required=log_signer.verifier).checkpoint
        == checkpoint
    )


def test_a_changed_body_is_a_forgery(log_signer: NoteSigner) -> None:
    note = sign_checkpoint(_checkpoint(size=7), log_signer)
    forged = note.replace(b"\n7\n", b"\n8\n", 1)
    with pytest.raises(
        NoteSignatureInvalid, match=r"signature by 'irt.london.example/log' .* does not verify"
    ):
        open_note(forged, required=log_signer.verifier)


def test_a_signature_by_another_key_is_not_the_log_signature(log_signer: NoteSigner) -> None:
    impostor = NoteSigner(log_signer.name, Ed25519PrivateKey.generate())
    note = sign_checkpoint(_checkpoint(), impostor)
    # Same name, different key ID: an unknown key, ignored, so the log never signed.
    with pytest.raises(NoteSignatureInvalid, match=r"carries no signature by the log key"):
        open_note(note, required=log_signer.verifier)


def test_a_forged_signature_under_the_log_key_id_rejects_the_note(log_signer: NoteSigner) -> None:
    text = _checkpoint().text()
    forged = text + b"\n" + signature_line(log_signer.name, log_signer.key_id, bytes(64))
    with pytest.raises(NoteSignatureInvalid, match=r"does not verify"):
        open_note(forged, required=log_signer.verifier)
    # A good signature beside a bad one from the same key does not rescue the note.
    both = sign_checkpoint(_checkpoint(), log_signer) + forged[len(text) + 1 :]
    with pytest.raises(NoteSignatureInvalid, match=r"does not verify"):
        open_note(both, required=log_signer.verifier)


def test_unknown_signature_lines_are_ignored(log_signer: NoteSigner) -> None:
    stranger = NoteSigner.from_key_text(generate_log_key("stranger.example/log")[0])
    text = _checkpoint().text()
    note = sign_checkpoint(_checkpoint(), log_signer) + signature_line(
        stranger.name, stranger.key_id, b"not even a signature"
    )
    opened = open_note(note, required=log_signer.verifier)
    assert opened.checkpoint == _checkpoint()
    assert opened.text == text


def test_keys_must_be_of_the_right_type(log_signer: NoteSigner, witness_signer: NoteSigner) -> None:
    with pytest.raises(LogKeyInvalid, match=r"is not an Ed25519 note key"):
        sign_checkpoint(_checkpoint(), witness_signer)
    note = sign_checkpoint(_checkpoint(), log_signer)
    with pytest.raises(LogKeyInvalid, match=r"log key .* is not an Ed25519 note key"):
        open_note(note, required=witness_signer.verifier)


def test_two_known_keys_may_not_collide(log_signer: NoteSigner) -> None:
    note = sign_checkpoint(_checkpoint(), log_signer)
    twin = NoteSigner(log_signer.name, Ed25519PrivateKey.generate()).verifier
    object.__setattr__(twin, "key_id", log_signer.key_id)
    with pytest.raises(LogKeyInvalid, match=r"two known keys share name"):
        open_note(note, [twin], required=log_signer.verifier)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"origin\n5\n{ROOT_B64}".encode(), r"note has no blank line before its signatures"),
        (b"origin\n5\n", r"checkpoint has 2 lines, expected at least 3"),
        (f"origin\n05\n{ROOT_B64}\n".encode(), r"tree size '05' is not a decimal number"),
        (f"origin\n+5\n{ROOT_B64}\n".encode(), r"tree size '\+5' is not a decimal number"),
        (f"origin\n 5\n{ROOT_B64}\n".encode(), r"tree size ' 5' is not a decimal number"),
        (f"origin\n٥\n{ROOT_B64}\n".encode(), r"tree size '٥' is not a decimal number"),
        (
            f"origin\n9223372036854775808\n{ROOT_B64}\n".encode(),
            r"tree size 9223372036854775808 is out of range",
        ),
        (f"origin\n5\n{ROOT_B64[:-2]}\n".encode(), r"root hash is not valid base64"),
        (f"origin\n5\n{ROOT_B64.replace('=', '')}\n".encode(), r"root hash is not valid base64"),
        (
            b"origin\n5\n" + base64.b64encode(bytes(31)) + b"\n",
            r"root hash has 31 bytes, expected 32",
        ),
        (f"\n5\n{ROOT_B64}\n".encode(), r"checkpoint origin is empty"),
        (f"origin\n5\n{ROOT_B64}\next\n\nmore\n".encode(), r"checkpoint extension line 2 is empty"),
    ],
)
def test_malformed_checkpoints_are_refused(
    log_signer: NoteSigner, text: bytes, reason: str
) -> None:
    with pytest.raises(NoteMalformed, match=reason):
        open_note(_signed_text(text, log_signer), required=log_signer.verifier)


def test_bad_base64_in_the_signature_is_refused(log_signer: NoteSigner) -> None:
    note = sign_checkpoint(_checkpoint(), log_signer)
    broken = note[:-3] + b"!=\n"
    with pytest.raises(NoteMalformed, match=r"signature line 1 is not valid base64"):
        open_note(broken, required=log_signer.verifier)


def test_a_missing_blank_line_is_refused(log_signer: NoteSigner) -> None:
    note = sign_checkpoint(_checkpoint(), log_signer).replace(b"\n\n", b"\n", 1)
    with pytest.raises(NoteMalformed, match=r"note has no blank line before its signatures"):
        open_note(note, required=log_signer.verifier)


def test_too_many_extension_lines_are_refused(log_signer: NoteSigner) -> None:
    allowed = tuple(f"extension {number}" for number in range(MAX_EXTENSION_LINES))
    note = sign_checkpoint(_checkpoint(extensions=allowed), log_signer)
    assert open_note(note, required=log_signer.verifier).checkpoint.extensions == allowed
    text = _checkpoint(extensions=allowed).text() + b"one too many\n"
    with pytest.raises(
        NoteTooLarge, match=rf"9 extension lines, the limit is {MAX_EXTENSION_LINES}"
    ):
        open_note(_signed_text(text, log_signer), required=log_signer.verifier)
    with pytest.raises(NoteTooLarge, match=r"9 extension lines"):
        _checkpoint(extensions=(*allowed, "one too many"))


def test_too_many_signature_lines_are_refused(log_signer: NoteSigner) -> None:
    note = sign_checkpoint(_checkpoint(), log_signer)
    line = note[note.index(b"\n\n") + 2 :]
    with pytest.raises(NoteTooLarge, match=r"33 signature lines, the limit is 32"):
        open_note(note + line * 32, required=log_signer.verifier)


def test_an_oversized_note_is_refused(log_signer: NoteSigner) -> None:
    text = _checkpoint(extensions=("x" * MAX_NOTE_BYTES,)).text()
    with pytest.raises(NoteTooLarge, match=rf"the limit is {MAX_NOTE_BYTES}"):
        open_note(_signed_text(text, log_signer), required=log_signer.verifier)


class _CheckpointFields(TypedDict, total=False):
    origin: str
    size: int
    root_hash: RootHash
    extensions: tuple[str, ...]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"origin": "a\nb"}, r"checkpoint origin contains control character U\+000A"),
        ({"root_hash": RootHash(b"short")}, r"root hash has 5 bytes"),
        ({"size": -1}, r"tree size -1 is out of range"),
        ({"extensions": ("",)}, r"extension line 1 is empty"),
    ],
)
def test_a_checkpoint_cannot_be_built_invalid(fields: _CheckpointFields, reason: str) -> None:
    with pytest.raises(NoteMalformed, match=reason):
        dataclasses.replace(_checkpoint(), **fields)
