"""Note key files on disk: the log's signing key, witness keys, and witness lists.

``irthub log keygen --out DIR`` writes a key pair in the Go note key text
forms (``hub.log.note``): ``DIR/log.key`` (the signer key, mode 0600 from
creation) and ``DIR/log.pub`` (the verifier key, what auditors and witnesses
pin); with ``--witness``, ``witness.key`` and ``witness.pub`` holding a
tlog-cosignature/v1 key. Existing files are never overwritten.

A witness list (``--witnesses FILE``, and the hub's accepted cosigners) is
one verifier key text per line; blank lines and ``#`` comments are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hub.files import PUBLIC_MODE, SECRET_MODE, write_file
from hub.log.errors import LogKeyInvalid
from hub.log.note import (
    NoteSigner,
    NoteVerifier,
    SignatureType,
    generate_cosigner_key,
    generate_log_key,
)

__all__ = [
    "DEFAULT_LOG_ORIGIN",
    "MAX_WITNESSES",
    "KeyFiles",
    "load_signer",
    "load_verifier",
    "load_witness_keys",
    "write_key_pair",
]

DEFAULT_LOG_ORIGIN: Final = "london-irt.hub/log"
"""The log's key name and checkpoint origin line."""

MAX_WITNESSES: Final = 64
"""Witness keys in one list: every authority twice over (key rotation), no more."""

_MAX_KEY_FILE_BYTES: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class KeyFiles:
    """Where ``write_key_pair`` put the two halves."""

    signer: Path
    verifier: Path


def write_key_pair(directory: Path, name: str, *, witness: bool = False) -> KeyFiles:
    """Generate a note key named ``name`` and write both halves into ``directory``.

    Raises ``LogKeyInvalid`` for a bad name, an existing file, or a write error.
    """
    stem = "witness" if witness else "log"
    generate = generate_cosigner_key if witness else generate_log_key
    signer_text, verifier_text = generate(name)
    files = KeyFiles(directory / f"{stem}.key", directory / f"{stem}.pub")
    for path in (files.signer, files.verifier):
        if path.exists():
            raise LogKeyInvalid(f"{path} already exists; refusing to overwrite a key")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_file(files.signer, f"{signer_text}\n".encode(), mode=SECRET_MODE, overwrite=False)
        write_file(files.verifier, f"{verifier_text}\n".encode(), mode=PUBLIC_MODE, overwrite=False)
    except OSError as exc:
        raise LogKeyInvalid(f"cannot write key files in {directory}: {exc}") from exc
    return files


def load_signer(path: Path) -> NoteSigner:
    """The note signer key in ``path``; ``LogKeyInvalid`` if unreadable or malformed."""
    return NoteSigner.from_key_text(_read_key_text(path))


def load_verifier(path: Path, *, sig_type: SignatureType = SignatureType.ED25519) -> NoteVerifier:
    """The note verifier key of type ``sig_type`` in ``path``; ``LogKeyInvalid`` otherwise."""
    verifier = NoteVerifier.from_key_text(_read_key_text(path))
    if verifier.sig_type is not sig_type:
        raise LogKeyInvalid(f"{path} holds a {verifier.sig_type.name} key, not {sig_type.name}")
    return verifier


def load_witness_keys(path: Path) -> tuple[NoteVerifier, ...]:
    """The cosignature/v1 verifier keys listed in ``path``.

    Raises ``LogKeyInvalid`` naming the line of a malformed key, a key of
    another type, a repeated witness name, or more than ``MAX_WITNESSES``.
    """
    keys: list[NoteVerifier] = []
    for number, line in enumerate(_read(path).splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            key = NoteVerifier.from_key_text(text)
        except LogKeyInvalid as exc:
            raise LogKeyInvalid(f"{path} line {number}: {exc.reason}") from exc
        if key.sig_type is not SignatureType.COSIGNATURE_V1:
            raise LogKeyInvalid(f"{path} line {number}: {key.name!r} is not a witness key")
        if any(known.name == key.name for known in keys):
            raise LogKeyInvalid(f"{path} line {number}: witness {key.name!r} is listed twice")
        keys.append(key)
        if len(keys) > MAX_WITNESSES:
            raise LogKeyInvalid(f"{path} lists more than {MAX_WITNESSES} witnesses")
    return tuple(keys)


def _read_key_text(path: Path) -> str:
    lines = [line.strip() for line in _read(path).splitlines() if line.strip()]
    if len(lines) != 1:
        raise LogKeyInvalid(f"{path} must hold exactly one key line, not {len(lines)}")
    return lines[0]


def _read(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise LogKeyInvalid(f"cannot read key file {path}: {exc.strerror or exc}") from exc
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise LogKeyInvalid(f"{path} is larger than {_MAX_KEY_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LogKeyInvalid(f"{path} is not UTF-8 text") from exc
