"""C2SP signed-note: Ed25519 note keys, their text forms, and the note wire format.

A signed note is UTF-8 text ending in a newline, a blank line, then one or
more signature lines ``— <key name> <base64(key ID || signature)>`` (em dash
U+2014, space). The text a signature covers includes its final newline but
not the blank line. A key is named; its 4-byte key ID is
``SHA-256(name || 0x0A || type || public key)[:4]``, with type ``0x01`` for
Ed25519 note signatures and ``0x04`` for tlog-cosignature/v1 cosignatures.

Key texts follow golang.org/x/mod/sumdb/note, so keys interoperate with Go
tools: a verifier key is ``<name>+<8 hex key ID>+<base64(type || public key)>``
and a signer key is ``PRIVATE+KEY+<name>+<8 hex key ID>+<base64(type || seed)>``.

``parse_note`` checks the format and the size limits only; which signatures
count, and whether they verify, is decided in ``hub.log.checkpoint``.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import re
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hub.log.errors import LogKeyInvalid, NoteMalformed, NoteTooLarge

__all__ = [
    "MAX_KEY_NAME_BYTES",
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURE_LINES",
    "Note",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "SignatureType",
    "decode_base64",
    "generate_cosigner_key",
    "generate_log_key",
    "parse_note",
    "signature_line",
]

MAX_NOTE_BYTES: Final = 64 * 1024
"""A whole note. signed-note says verifiers MUST accept at least 16 signatures
and that post-quantum ones approach 5 kB of text each; 16 of those plus a
checkpoint fit, and a witness never buffers more than this from a peer."""

MAX_SIGNATURE_LINES: Final = 32
"""Signature lines per note: twice the 16 signed-note obliges us to accept,
bounding the verification work a hostile note can demand."""

MAX_KEY_NAME_BYTES: Final = 256
"""Key names are schema-less URLs; no legitimate one comes near this."""

SIGNATURE_PREFIX: Final = "— "
"""Every signature line starts with an em dash (U+2014) and a space."""

_KEY_ID_SIZE: Final = 4
_ED25519_KEY_SIZE: Final = 32
_PRIVATE_KEY_PREFIX: Final = "PRIVATE+KEY+"
_HEX_KEY_ID: Final = re.compile(r"[0-9a-f]{8}")
_FORBIDDEN_CONTROL: Final = re.compile(r"[\x00-\x09\x0b-\x1f]")


class SignatureType(enum.IntEnum):
    """signed-note signature type bytes this package implements."""

    ED25519 = 0x01
    """A log's Ed25519 signature over the note text (signed-note §Ed25519)."""

    COSIGNATURE_V1 = 0x04
    """A witness's timestamped Ed25519 cosignature (tlog-cosignature)."""


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A named Ed25519 public key of one signature type, parsed once."""

    name: str
    public_key: Ed25519PublicKey = field(repr=False, compare=False)
    sig_type: SignatureType = SignatureType.ED25519
    raw_public_key: bytes = field(init=False, repr=False)
    key_id: int = field(init=False)
    """The 4-byte key ID, big-endian, as in signature lines."""

    def __post_init__(self) -> None:
        _check_key_name(self.name, LogKeyInvalid)
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        object.__setattr__(self, "raw_public_key", raw)
        object.__setattr__(self, "key_id", _key_id(self.name, self.sig_type, raw))

    @classmethod
    def from_key_text(cls, text: str) -> NoteVerifier:
        """Parse ``<name>+<hex key ID>+<base64(type || public key)>``.

        Raises ``LogKeyInvalid`` if any part is malformed or the key ID does
        not match the name and key.
        """
        name, key_id, sig_type, material = _split_key_text(text, "verifier")
        try:
            public_key = Ed25519PublicKey.from_public_bytes(material)
        except ValueError as exc:
            raise LogKeyInvalid(f"verifier key {name!r}: {exc}") from exc
        verifier = cls(name, public_key, sig_type)
        if verifier.key_id != key_id:
            raise LogKeyInvalid(
                f"verifier key {name!r} states key ID {key_id:08x}, "
                f"but its name and key give {verifier.key_id:08x}"
            )
        return verifier

    def key_text(self) -> str:
        """This key in the verifier-key text form."""
        material = base64.b64encode(bytes([self.sig_type]) + self.raw_public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{material}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """A named Ed25519 private key of one signature type, loaded once."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)
    sig_type: SignatureType = SignatureType.ED25519
    verifier: NoteVerifier = field(init=False)
    """The matching public key, with the same name and type."""

    def __post_init__(self) -> None:
        verifier = NoteVerifier(self.name, self.private_key.public_key(), self.sig_type)
        object.__setattr__(self, "verifier", verifier)

    @property
    def key_id(self) -> int:
        """The 4-byte key ID, big-endian, as in signature lines."""
        return self.verifier.key_id

    @classmethod
    def from_key_text(cls, text: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>``.

        Raises ``LogKeyInvalid`` (without echoing the key) if it is malformed
        or the key ID does not match.
        """
        if not text.startswith(_PRIVATE_KEY_PREFIX):
            raise LogKeyInvalid(f"a signer key starts with {_PRIVATE_KEY_PREFIX!r}")
        name, key_id, sig_type, seed = _split_key_text(text[len(_PRIVATE_KEY_PREFIX) :], "signer")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed), sig_type)
        if signer.key_id != key_id:
            raise LogKeyInvalid(
                f"signer key {name!r} states key ID {key_id:08x}, "
                f"but its name and key give {signer.key_id:08x}"
            )
        return signer

    def key_text(self) -> str:
        """This private key in the signer-key text form; a secret."""
        seed = self.private_key.private_bytes_raw()
        material = base64.b64encode(bytes([self.sig_type]) + seed).decode()
        return f"{_PRIVATE_KEY_PREFIX}{self.name}+{self.key_id:08x}+{material}"

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self.private_key.sign(message)


def generate_log_key(name: str) -> tuple[str, str]:
    """A new Ed25519 note key for a log: ``(signer key text, verifier key text)``."""
    signer = NoteSigner(name, Ed25519PrivateKey.generate(), SignatureType.ED25519)
    return signer.key_text(), signer.verifier.key_text()


def generate_cosigner_key(name: str) -> tuple[str, str]:
    """A new cosignature/v1 key for a witness: ``(signer key text, verifier key text)``."""
    signer = NoteSigner(name, Ed25519PrivateKey.generate(), SignatureType.COSIGNATURE_V1)
    return signer.key_text(), signer.verifier.key_text()


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One parsed signature line, not yet verified."""

    name: str
    key_id: int
    signature: bytes
    """The bytes after the key ID: what the key's algorithm produced."""


@dataclass(frozen=True, slots=True)
class Note:
    """A note split into its signed text and its signature lines, not yet verified."""

    text: bytes
    """The signed text, with its final newline, without the blank line."""
    signatures: tuple[NoteSignature, ...]


def parse_note(data: bytes) -> Note:
    """Split a signed note per C2SP signed-note §Format, checking every limit.

    Raises ``NoteTooLarge`` beyond ``MAX_NOTE_BYTES`` or
    ``MAX_SIGNATURE_LINES``, and ``NoteMalformed`` naming the first defect.
    """
    # (1) Size first, before any decoding work.
    if len(data) > MAX_NOTE_BYTES:
        raise NoteTooLarge(f"note has {len(data)} bytes, the limit is {MAX_NOTE_BYTES}")
    # (2) Valid UTF-8 without control characters other than newline.
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteMalformed(f"note is not UTF-8: {exc}") from exc
    control = _FORBIDDEN_CONTROL.search(decoded)
    if control is not None:
        raise NoteMalformed(
            f"note contains control character U+{ord(control.group()):04X} "
            f"at offset {control.start()}"
        )
    # (3) The text ends at the last blank line; signature lines follow it.
    split = decoded.rfind("\n\n")
    if split < 0:
        raise NoteMalformed("note has no blank line before its signatures")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    if not block:
        raise NoteMalformed("note has no signature lines")
    if not block.endswith("\n"):
        raise NoteMalformed("note's last signature line does not end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURE_LINES:
        raise NoteTooLarge(
            f"note has {len(lines)} signature lines, the limit is {MAX_SIGNATURE_LINES}"
        )
    # (4) Each line: em dash, space, key name, space, base64(key ID || signature).
    signatures = tuple(_parse_signature_line(line, number) for number, line in enumerate(lines, 1))
    return Note(text=text.encode(), signatures=signatures)


def signature_line(name: str, key_id: int, signature: bytes) -> bytes:
    """The signature line ``— <name> <base64(key ID || signature)>\\n`` as bytes."""
    blob = base64.b64encode(key_id.to_bytes(_KEY_ID_SIZE, "big") + signature).decode()
    return f"{SIGNATURE_PREFIX}{name} {blob}\n".encode()


def decode_base64(what: str, text: str) -> bytes:
    """Strict RFC 4648 §4 base64: padded, no whitespace, canonical.

    Raises ``NoteMalformed`` naming ``what`` if ``text`` is anything else, so
    each value has exactly one accepted spelling.
    """
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteMalformed(f"{what} is not valid base64: {exc}") from exc
    if base64.b64encode(raw).decode() != text:
        raise NoteMalformed(f"{what} is not canonical base64")
    return raw


def _parse_signature_line(line: str, number: int) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteMalformed(f"signature line {number} does not start with an em dash and a space")
    name, space, blob = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not space:
        raise NoteMalformed(f"signature line {number} has no space between key name and signature")
    _check_key_name(name, NoteMalformed)
    raw = decode_base64(f"signature line {number}", blob)
    if len(raw) <= _KEY_ID_SIZE:
        raise NoteMalformed(f"signature line {number} holds {len(raw)} bytes, too few for a key ID")
    return NoteSignature(
        name=name,
        key_id=int.from_bytes(raw[:_KEY_ID_SIZE], "big"),
        signature=raw[_KEY_ID_SIZE:],
    )


def _check_key_name(name: str, error: type[LogKeyInvalid] | type[NoteMalformed]) -> None:
    # signed-note §Format: non-empty, no Unicode spaces, no plus signs.
    if not name:
        raise error("key name is empty")
    if len(name.encode()) > MAX_KEY_NAME_BYTES:
        raise error(f"key name is longer than {MAX_KEY_NAME_BYTES} bytes")
    if "+" in name or any(char.isspace() for char in name):
        raise error(f"key name {name!r} contains a space or a plus sign")
    if _FORBIDDEN_CONTROL.search(name) or "\n" in name:
        raise error(f"key name {name!r} contains a control character")


def _key_id(name: str, sig_type: SignatureType, public_key: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()
    return int.from_bytes(digest[:_KEY_ID_SIZE], "big")


def _split_key_text(text: str, kind: str) -> tuple[str, int, SignatureType, bytes]:
    # <name>+<8 hex digits>+<base64(type || 32 bytes)>; base64 may itself hold
    # plus signs, so split twice from the left only.
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise LogKeyInvalid(f"a {kind} key has the form <name>+<key ID>+<key>")
    name, hex_id, material = parts
    _check_key_name(name, LogKeyInvalid)
    if not _HEX_KEY_ID.fullmatch(hex_id):
        raise LogKeyInvalid(f"{kind} key {name!r}: key ID {hex_id!r} is not 8 lowercase hex digits")
    try:
        raw = decode_base64(f"{kind} key {name!r}", material)
    except NoteMalformed as exc:
        raise LogKeyInvalid(exc.reason) from exc
    if len(raw) != 1 + _ED25519_KEY_SIZE:
        raise LogKeyInvalid(
            f"{kind} key {name!r} holds {len(raw)} bytes, expected a type byte and 32 key bytes"
        )
    try:
        sig_type = SignatureType(raw[0])
    except ValueError as exc:
        raise LogKeyInvalid(f"{kind} key {name!r} has unsupported type 0x{raw[0]:02x}") from exc
    return name, int(hex_id, 16), sig_type, raw[1:]
