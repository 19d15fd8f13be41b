"""C2SP tlog-checkpoint: the log's signed tree head, and opening one strictly.

A checkpoint is a signed note whose text is exactly::

    <origin>\\n
    <tree size, ASCII decimal, no leading zeros>\\n
    <base64 root hash>\\n
    [<extension line>\\n ...]

followed by the blank line and the signature lines of C2SP signed-note. The
log signs with an Ed25519 note key (type 0x01); witnesses add
tlog-cosignature/v1 lines (type 0x04) beside it.

``open_note`` steps:

(1) parse the note (signed-note §Format), within ``MAX_NOTE_BYTES`` and
    ``MAX_SIGNATURE_LINES``;
(2) parse the text as a checkpoint (tlog-checkpoint §Note text);
(3) match each signature line to a known key by name *and* key ID; lines of
    unknown keys are ignored, as signed-note §Signatures requires;
(4) verify every line of a known key — Ed25519 over the text, or
    cosignature/v1 — and reject the whole note if any fails;
(5) reject the note unless the log's own key signed it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from hub.log.cosignature import Cosignature, verify_cosignature
from hub.log.errors import LogKeyInvalid, NoteMalformed, NoteSignatureInvalid, NoteTooLarge
from hub.log.merkle import HASH_SIZE, MAX_TREE_SIZE, RootHash
from hub.log.note import (
    NoteSigner,
    NoteVerifier,
    SignatureType,
    decode_base64,
    parse_note,
    signature_line,
)

__all__ = [
    "MAX_EXTENSION_LINES",
    "Checkpoint",
    "SignedCheckpoint",
    "open_note",
    "sign_checkpoint",
]

MAX_EXTENSION_LINES: Final = 8
"""Extension lines after the root hash. tlog-checkpoint discourages them and
this log writes none; a few are tolerated from other logs, no more."""

_DECIMAL: Final = re.compile(r"0|[1-9][0-9]{0,18}")
_CONTROL: Final = re.compile(r"[\x00-\x1f]")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's tree head: origin, size and root hash, plus any extension lines.

    Construction checks every field; raises ``NoteMalformed`` or, beyond
    ``MAX_EXTENSION_LINES``, ``NoteTooLarge``.
    """

    origin: str
    """The log's identity, e.g. ``irt.london.gov.uk/log``; the key name should match it."""
    size: int
    root_hash: RootHash
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line("checkpoint origin", self.origin)
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteMalformed(f"checkpoint tree size {self.size} is out of range")
        if len(self.root_hash) != HASH_SIZE:
            raise NoteMalformed(
                f"checkpoint root hash has {len(self.root_hash)} bytes, expected {HASH_SIZE}"
            )
        if len(self.extensions) > MAX_EXTENSION_LINES:
            raise NoteTooLarge(
                f"checkpoint has {len(self.extensions)} extension lines, "
                f"the limit is {MAX_EXTENSION_LINES}"
            )
        for number, line in enumerate(self.extensions, 1):
            _check_line(f"checkpoint extension line {number}", line)

    def text(self) -> bytes:
        """The note text: one newline-terminated line per field."""
        root = base64.b64encode(self.root_hash).decode()
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(f"{line}\n" for line in lines).encode()

    @classmethod
    def from_text(cls, text: bytes) -> Checkpoint:
        """Parse a checkpoint note text (tlog-checkpoint §Note text).

        Raises ``NoteMalformed`` naming the first defect.
        """
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteMalformed(f"checkpoint is not UTF-8: {exc}") from exc
        if not decoded.endswith("\n"):
            raise NoteMalformed("checkpoint text does not end in a newline")
        lines = decoded[:-1].split("\n")
        if len(lines) < 3:
            raise NoteMalformed(f"checkpoint has {len(lines)} lines, expected at least 3")
        if len(lines) - 3 > MAX_EXTENSION_LINES:
            raise NoteTooLarge(
                f"checkpoint has {len(lines) - 3} extension lines, "
                f"the limit is {MAX_EXTENSION_LINES}"
            )
        origin, size, root, *extensions = lines
        if not _DECIMAL.fullmatch(size):
            raise NoteMalformed(
                f"checkpoint tree size {size!r} is not a decimal number without leading zeros"
            )
        root_hash = decode_base64("checkpoint root hash", root)
        return cls(origin, int(size), RootHash(root_hash), tuple(extensions))


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint whose log signature verified, with the cosignatures that verified."""

    checkpoint: Checkpoint
    text: bytes
    """The exact signed note text."""
    note: bytes
    """The whole note as received, including lines of keys we do not know."""
    cosignatures: tuple[Cosignature, ...]
    """One per known witness key that cosigned, in note order."""


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> bytes:
    """The signed note for ``checkpoint``, carrying the log's signature only.

    Raises ``LogKeyInvalid`` if ``signer`` is not an Ed25519 note key.
    """
    if signer.sig_type is not SignatureType.ED25519:
        raise LogKeyInvalid(f"key {signer.name!r} is not an Ed25519 note key")
    text = checkpoint.text()
    return text + b"\n" + signature_line(signer.name, signer.key_id, signer.sign(text))


def open_note(
    note: bytes, verifiers: Iterable[NoteVerifier] = (), *, required: NoteVerifier
) -> SignedCheckpoint:
    """Parse and verify a checkpoint note; see the module docstring for the steps.

    ``required`` is the log's Ed25519 key, whose signature must be present and
    valid; ``verifiers`` are further known keys, usually witnesses'
    cosignature keys. Raises ``NoteTooLarge``, ``NoteMalformed`` or
    ``NoteSignatureInvalid`` for the note, ``LogKeyInvalid`` for the keys.
    """
    if required.sig_type is not SignatureType.ED25519:
        raise LogKeyInvalid(f"log key {required.name!r} is not an Ed25519 note key")
    known: dict[tuple[str, int], NoteVerifier] = {}
    for verifier in (required, *verifiers):
        slot = (verifier.name, verifier.key_id)
        if known.setdefault(slot, verifier) != verifier:
            raise LogKeyInvalid(
                f"two known keys share name {verifier.name!r} and key ID {verifier.key_id:08x}"
            )
    # (1) The note's format and limits.
    parsed = parse_note(note)
    # (2) Its text as a checkpoint.
    checkpoint = Checkpoint.from_text(parsed.text)
    log_signed = False
    cosignatures: dict[tuple[str, int], Cosignature] = {}
    for signature in parsed.signatures:
        # (3) A line counts only if both its key name and key ID are known.
        key = known.get((signature.name, signature.key_id))
        if key is None:
            continue
        # (4) Every line of a known key must verify.
        if key.sig_type is SignatureType.COSIGNATURE_V1:
            cosignature = verify_cosignature(parsed.text, signature, key)
            cosignatures.setdefault((signature.name, signature.key_id), cosignature)
        elif key.verify(parsed.text, signature.signature):
            log_signed = log_signed or key == required
        else:
            raise NoteSignatureInvalid(
                f"signature by {signature.name!r} (key {signature.key_id:08x}) does not verify"
            )
    # (5) The log itself must have signed.
    if not log_signed:
        raise NoteSignatureInvalid(
            f"checkpoint carries no signature by the log key {required.name!r} "
            f"(key {required.key_id:08x})"
        )
    return SignedCheckpoint(
        checkpoint=checkpoint,
        text=parsed.text,
        note=note,
        cosignatures=tuple(cosignatures.values()),
    )


def _check_line(what: str, line: str) -> None:
    if not line:
        raise NoteMalformed(f"{what} is empty")
    control = _CONTROL.search(line)
    if control is not None:
        raise NoteMalformed(f"{what} contains control character U+{ord(control.group()):04X}")
