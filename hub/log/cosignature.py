"""C2SP tlog-cosignature/v1: a witness's timestamped Ed25519 signature on a checkpoint.

The signed message is ``cosignature/v1\\n``, ``time <POSIX seconds>\\n``, then
the whole checkpoint note text (extension lines included, signatures
excluded). The signature line is an ordinary note signature whose payload
is ``key ID (4) || timestamp (8, big-endian) || Ed25519 signature (64)`` and
whose key ID uses type byte ``0x04``. A cosignature states that, at that
time, this was the largest consistent tree the witness had seen for the log
named by the origin line; it says nothing about extension lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hub.log.errors import LogKeyInvalid, NoteMalformed, NoteSignatureInvalid
from hub.log.note import NoteSignature, NoteSigner, NoteVerifier, SignatureType, signature_line

__all__ = [
    "MAX_TIMESTAMP",
    "Cosignature",
    "cosign",
    "cosigned_message",
    "verify_cosignature",
]

MAX_TIMESTAMP: Final = 2**63 - 1
"""tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1."""

_HEADER: Final = b"cosignature/v1\n"
_TIMESTAMP_SIZE: Final = 8
_ED25519_SIGNATURE_SIZE: Final = 64


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A verified cosignature: which witness key signed, and when it says it did."""

    name: str
    key_id: int
    timestamp: int
    """POSIX seconds, as the witness stated them."""


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs for the checkpoint note ``text`` at ``timestamp``."""
    return _HEADER + b"time %d\n" % timestamp + text


def cosign(text: bytes, signer: NoteSigner, *, timestamp: int) -> bytes:
    """The cosignature line for the checkpoint note ``text``, dated ``timestamp``.

    Raises ``LogKeyInvalid`` if ``signer`` is not a cosignature/v1 key, and
    ``NoteMalformed`` if ``timestamp`` is out of range. The caller must have
    verified the checkpoint first; see ``adapters.witness.cosigning``.
    """
    if signer.sig_type is not SignatureType.COSIGNATURE_V1:
        raise LogKeyInvalid(f"key {signer.name!r} is not a cosignature/v1 key")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteMalformed(f"cosignature timestamp {timestamp} is out of range")
    signature = signer.sign(cosigned_message(text, timestamp))
    payload = timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signature
    return signature_line(signer.name, signer.key_id, payload)


def verify_cosignature(
    text: bytes, signature: NoteSignature, verifier: NoteVerifier
) -> Cosignature:
    """Verify one parsed cosignature line over the checkpoint note ``text``.

    The caller has matched ``signature`` to ``verifier`` by name and key ID.
    Raises ``NoteSignatureInvalid`` if the payload is mis-sized, the timestamp
    out of range, or the signature does not verify.
    """
    # (1) The payload is exactly a u64 timestamp and a 64-byte Ed25519 signature.
    expected = _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE
    if len(signature.signature) != expected:
        raise NoteSignatureInvalid(
            f"cosignature by {signature.name!r} has {len(signature.signature)} bytes "
            f"after its key ID, expected {expected}"
        )
    # (2) The timestamp must not exceed 2^63 - 1.
    timestamp = int.from_bytes(signature.signature[:_TIMESTAMP_SIZE], "big")
    if timestamp > MAX_TIMESTAMP:
        raise NoteSignatureInvalid(
            f"cosignature by {signature.name!r} has timestamp {timestamp} beyond 2^63 - 1"
        )
    # (3) The signature covers the header, the time line and the note text.
    message = cosigned_message(text, timestamp)
    if not verifier.verify(message, signature.signature[_TIMESTAMP_SIZE:]):
        raise NoteSignatureInvalid(
            f"cosignature by {signature.name!r} (key {signature.key_id:08x}) "
            f"at time {timestamp} does not verify"
        )
    return Cosignature(name=signature.name, key_id=signature.key_id, timestamp=timestamp)
