"""C2SP signed-note keys and wire format, including golang.org/x/mod/sumdb/note interop."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.log.errors import LogKeyInvalid, NoteMalformed, NoteTooLarge
from hub.log.note import (
    MAX_NOTE_BYTES,
    MAX_SIGNATURE_LINES,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    SignatureType,
    generate_cosigner_key,
    generate_log_key,
    parse_note,
    signature_line,
)

# The example key and note of golang.org/x/mod/sumdb/note (note_test.go).
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
)
GO_SIGNATURE_LINE = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngot"
    "pRZb6KE6RyyBwJnAM=\n"
).encode()
GO_NOTE = GO_TEXT + b"\n" + GO_SIGNATURE_LINE
GO_PUBLIC_KEY = base64.b64decode(GO_VKEY.split("+")[2])[1:]


def test_the_go_reference_key_and_signature_are_reproduced_byte_for_byte() -> None:
    signer = NoteSigner.from_key_text(GO_SKEY)
    assert signer.key_text() == GO_SKEY
    assert signer.verifier.key_text() == GO_VKEY
    assert signer.key_id == 0xC74F20A3
    line = signature_line(signer.name, signer.key_id, signer.sign(GO_TEXT))
    assert line == GO_SIGNATURE_LINE


def test_the_go_reference_note_parses_and_verifies() -> None:
    note = parse_note(GO_NOTE)
    assert note.text == GO_TEXT
    (signature,) = note.signatures
    assert (signature.name, signature.key_id) == ("PeterNeumann", 0xC74F20A3)
    verifier = NoteVerifier.from_key_text(GO_VKEY)
    assert verifier.verify(note.text, signature.signature)
    assert not verifier.verify(
        note.text.replace(b"cryptography", b"cryptographY"), signature.signature
    )


@pytest.mark.parametrize("generate", [generate_log_key, generate_cosigner_key])
def test_generated_keys_round_trip(generate: Callable[[str], tuple[str, str]]) -> None:
    signer_text, verifier_text = generate("borough.example/witness")
    signer = NoteSigner.from_key_text(signer_text)
    verifier = NoteVerifier.from_key_text(verifier_text)
    assert signer.verifier == verifier
    assert verifier.key_text() == verifier_text
    assert verifier.verify(b"text\n", signer.sign(b"text\n"))


def test_the_type_byte_separates_log_keys_from_cosigner_keys() -> None:
    private = Ed25519PrivateKey.generate()
    as_log = NoteSigner("same.example/key", private, SignatureType.ED25519)
    as_witness = NoteSigner("same.example/key", private, SignatureType.COSIGNATURE_V1)
    assert as_log.key_id != as_witness.key_id
    assert base64.b64decode(as_log.verifier.key_text().split("+", 2)[2])[0] == 0x01
    assert base64.b64decode(as_witness.verifier.key_text().split("+", 2)[2])[0] == 0x04


def test_every_single_character_change_of_a_verifier_key_is_refused() -> None:
    for position in range(len(GO_VKEY)):
        mangled = GO_VKEY[:position] + chr(ord(GO_VKEY[position]) + 1) + GO_VKEY[position + 1 :]
        with pytest.raises(LogKeyInvalid, match=r"verifier key|key name"):
            NoteVerifier.from_key_text(mangled)


@pytest.mark.parametrize(
    ("key_text", "reason"),
    [
        ("PeterNeumann+c74f20a3", r"has the form <name>\+<key ID>\+<key>"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", r"key name is empty"),
        (
            "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            r"is not 8 lowercase hex digits",
        ),
        (
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            r"states key ID c74f20a4, but its name and key give c74f20a3",
        ),
        ("PeterNeumann+c74f20a3+ARpc2Q==", r"holds 4 bytes, expected a type byte and 32 key bytes"),
        (
            "PeterNeumann+c74f20a3+" + base64.b64encode(b"\x03" + GO_PUBLIC_KEY).decode(),
            r"unsupported type 0x03",
        ),
        (
            GO_VKEY + "==",
            r"verifier key 'PeterNeumann' is not canonical base64",
        ),
    ],
)
def test_malformed_verifier_keys_are_refused(key_text: str, reason: str) -> None:
    with pytest.raises(LogKeyInvalid, match=reason):
        NoteVerifier.from_key_text(key_text)


def test_a_signer_key_without_its_prefix_is_refused() -> None:
    with pytest.raises(LogKeyInvalid, match=r"a signer key starts with 'PRIVATE\+KEY\+'"):
        NoteSigner.from_key_text(GO_SKEY.removeprefix("PRIVATE+KEY+"))


def test_a_signer_key_error_does_not_echo_the_secret() -> None:
    wrong_id = GO_SKEY.replace("c74f20a3", "00000000")
    with pytest.raises(LogKeyInvalid, match=r"states key ID 00000000") as caught:
        NoteSigner.from_key_text(wrong_id)
    assert "AYEKFALV" not in caught.value.reason
    assert "AYEKFALV" not in repr(NoteSigner.from_key_text(GO_SKEY))


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (GO_TEXT + GO_SIGNATURE_LINE, r"no blank line before its signatures"),
        (GO_TEXT + b"\n", r"no signature lines"),
        (GO_NOTE[:-1], r"last signature line does not end in a newline"),
        (GO_NOTE.replace("—".encode(), b"--"), r"signature line 1 does not start with an em dash"),
        (GO_NOTE.replace(b"PeterNeumann ", b"PeterNeumann"), r"no space between key name"),
        (GO_NOTE.replace(b"PeterNeumann ", b"Peter+Neumann "), r"contains a space or a plus sign"),
        (GO_NOTE.replace(b"x08go/", b"x08go*"), r"signature line 1 is not valid base64"),
        (GO_NOTE.replace(b"JnAM=", b"JnAN="), r"signature line 1 is not canonical base64"),
        (GO_NOTE.replace(b"x08go/ZJ", b"x08go/ZJ "), r"not valid base64"),
        (GO_NOTE.replace(b"problem,", b"problem,\t"), r"control character U\+0009 at offset 56"),
        (GO_NOTE.replace(b"problem,", b"problem,\r"), r"control character U\+000D"),
        (GO_NOTE.replace(b"problem,", b"problem,\xff"), r"note is not UTF-8"),
        (GO_TEXT + b"\n" + "— PeterNeumann AAAA\n".encode(), r"holds 3 bytes, too few"),
    ],
)
def test_malformed_notes_are_refused(note: bytes, reason: str) -> None:
    with pytest.raises(NoteMalformed, match=reason):
        parse_note(note)


def test_the_text_ends_at_the_last_blank_line() -> None:
    text = b"first paragraph\n\nsecond paragraph\n"
    note = parse_note(text + b"\n" + GO_SIGNATURE_LINE)
    assert note.text == text


def test_too_many_signature_lines_are_refused() -> None:
    allowed = GO_TEXT + b"\n" + GO_SIGNATURE_LINE * MAX_SIGNATURE_LINES
    assert len(parse_note(allowed).signatures) == MAX_SIGNATURE_LINES
    with pytest.raises(
        NoteTooLarge, match=rf"33 signature lines, the limit is {MAX_SIGNATURE_LINES}"
    ):
        parse_note(allowed + GO_SIGNATURE_LINE)


def test_an_oversized_note_is_refused_before_parsing() -> None:
    huge = b"x" * MAX_NOTE_BYTES + b"\n\n" + GO_SIGNATURE_LINE
    with pytest.raises(NoteTooLarge, match=rf"the limit is {MAX_NOTE_BYTES}"):
        parse_note(huge)


def test_sixteen_post_quantum_sized_signatures_fit() -> None:
    # signed-note: verifiers MUST accept at least 16 signatures, which may be
    # post-quantum ones of ~2.4 kB (3.3 kB as base64).
    big = signature_line("pq.example/witness", 7, b"\x00" * 2420)
    note = parse_note(GO_NOTE + big * 15)
    assert len(note.signatures) == 16
    assert note.signatures[1] == NoteSignature("pq.example/witness", 7, b"\x00" * 2420)
