"""Evidence bundles: everything needed to prove one logged message, offline, in one zip.

A bundle (format ``london-irt-evidence-bundle/1``) holds:

- ``bundle.json``: ``{"format", "index", "tree_size", "inclusion": [base64…],
  "pruned": null | {"rule_id", "pruned_at"}}``;
- ``leaf.json``: the exact leaf bytes (``hub.log.entry``);
- ``message.xml``: the exact message bytes, unless a retention rule pruned them;
- ``chain.pem``: the certificates the message's signature carries, signer first;
- ``checkpoint.txt``: the latest checkpoint note with its cosignatures.

``verify_bundle`` steps, trusting only the root CA, the CRLs and the log key:

(1) read the zip within ``MAX_BUNDLE_ENTRY_BYTES`` per file, known names only;
(2) parse the leaf strictly;
(3) open the checkpoint: the log key's signature, the log's origin, the
    cosignatures of configured witnesses, at least ``quorum`` of them;
(4) RFC 9162 §2.1.3.2: the inclusion proof binds the leaf to the signed root;
(5) the message passes ``MessageChecker`` (hash, signature and chain at
    ``Created``, header = leaf), and ``chain.pem`` is the chain it carries;
    or the bundle says it was pruned, and by which rule.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from hub.envelope import DS_NS
from hub.errors import IrtError
from hub.files import UMASK_MODE, write_file
from hub.log.checkpoint import SignedCheckpoint, open_note
from hub.log.entry import LogEntry
from hub.log.errors import LogEvidenceInvalid, LogRangeError, LogStoreError
from hub.log.evidence import AUDIT_MAX_MESSAGE_BYTES, CheckedMessage, MessageChecker
from hub.log.merkle import leaf_hash, verify_inclusion
from hub.log.message_log import MessageLog
from hub.log.note import NoteVerifier
from hub.log.store import Pruned, check_rule_id
from hub.xmlparse import XmlLimits, parse_untrusted

__all__ = [
    "BUNDLE_FORMAT",
    "MAX_BUNDLE_ENTRY_BYTES",
    "BundleReport",
    "export_bundle",
    "verify_bundle",
]

BUNDLE_FORMAT: Final = "london-irt-evidence-bundle/1"

MAX_BUNDLE_ENTRY_BYTES: Final = AUDIT_MAX_MESSAGE_BYTES
"""No file in a bundle is larger than the largest message an auditor reads;
a zip entry claiming more is refused before it is inflated."""

_T = TypeVar("_T")
_NAMES: Final = frozenset(
    {"bundle.json", "leaf.json", "message.xml", "chain.pem", "checkpoint.txt"}
)
_MAX_PROOF_HASHES: Final = 64
"""An inclusion proof in a tree of up to 2^63 leaves has at most 63 hashes."""


@dataclass(frozen=True, slots=True)
class BundleReport:
    """What a bundle proved."""

    index: int
    entry: LogEntry
    checkpoint: SignedCheckpoint
    message: CheckedMessage | None
    """``None`` when the message was pruned."""
    pruned: Pruned | None

    def lines(self) -> list[str]:
        """A human-readable account, one fact per line."""
        entry, checkpoint = self.entry, self.checkpoint.checkpoint
        lines = [
            f"message:     {entry.message_id} ({entry.message_class} {entry.qualifier}, "
            f"{entry.direction}, from {entry.sender} to {' '.join(entry.recipients)})",
            f"logged at:   {entry.logged_at.isoformat()} as leaf {self.index}",
            f"included in: checkpoint of size {checkpoint.size} signed by {checkpoint.origin}",
            "cosigned by: "
            + (", ".join(c.name for c in self.checkpoint.cosignatures) or "no configured witness"),
        ]
        if self.message is not None:
            chain = self.message.message.document.chain
            crl = self.message.crl_number
            lines.append(
                f"signature:   valid, by {chain.authority} (certificate {chain.fingerprint[:16]}…, "
                f"CRL {crl if crl is not None else 'none'} in force at Created)"
            )
        if self.pruned is not None:
            lines.append(f"message:     {self.pruned}; leaf and inclusion verified")
        return lines


def export_bundle(log: MessageLog, message_id: str, out: Path, *, index: int | None = None) -> int:
    """Write the evidence bundle of ``message_id`` (leaf ``index`` if logged twice) to ``out``.

    Returns the leaf index. Raises ``LogRangeError`` if the message is not
    logged, no checkpoint covers it yet, or ``out`` exists.
    """
    indices = log.find(message_id)
    if not indices:
        raise LogRangeError(f"message {message_id} is not in the log")
    if index is None:
        index = indices[0]
    elif index not in indices:
        raise LogRangeError(f"leaf {index} does not hold message {message_id} (it is in {indices})")
    latest = log.latest_checkpoint()
    if latest is None or latest.size <= index:
        raise LogRangeError(f"no checkpoint covers leaf {index} yet; sign one and export again")
    note = log.checkpoint_note(latest.size) or latest.note
    message = log.message(index)
    manifest: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "index": index,
        "tree_size": latest.size,
        "inclusion": [
            base64.b64encode(h).decode() for h in log.inclusion_proof(index, latest.size)
        ],
        "pruned": None,
    }
    files = {"leaf.json": log.leaf(index), "checkpoint.txt": note}
    if isinstance(message, Pruned):
        manifest["pruned"] = {
            "rule_id": message.rule_id,
            "pruned_at": message.pruned_at.isoformat(),
        }
    else:
        files["message.xml"] = message
        files["chain.pem"] = _step(f"leaf {index}: certificates", lambda: _chain_pem(message))
    files["bundle.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    _write_zip(out, files)
    return index


def verify_bundle(
    path: Path,
    *,
    checker: MessageChecker,
    log_key: NoteVerifier,
    witnesses: tuple[NoteVerifier, ...] = (),
    quorum: int = 0,
) -> BundleReport:
    """Verify the bundle at ``path``; see the module docstring for the steps.

    Raises ``LogEvidenceInvalid`` naming the step and the reason.
    """
    files = _read_zip(path)  # (1)
    manifest = _manifest(files)
    index, size = manifest["index"], manifest["tree_size"]
    entry = _step("leaf.json", lambda: LogEntry.from_leaf_bytes(files["leaf.json"]))  # (2)
    opened = _step(  # (3)
        "checkpoint.txt", lambda: open_note(files["checkpoint.txt"], witnesses, required=log_key)
    )
    checkpoint = opened.checkpoint
    if checkpoint.origin != log_key.name or checkpoint.size != size:
        raise LogEvidenceInvalid(
            f"checkpoint.txt: checkpoint of {checkpoint.origin!r} at size {checkpoint.size} is "
            f"not the log {log_key.name!r} at the bundle's size {size}"
        )
    if len({c.name for c in opened.cosignatures}) < quorum:
        raise LogEvidenceInvalid(
            f"checkpoint.txt: cosigned by {len(opened.cosignatures)} configured witnesses, "
            f"the quorum is {quorum}"
        )
    proof = manifest["inclusion"]
    _step(  # (4)
        "inclusion proof",
        lambda: verify_inclusion(
            leaf_hash(files["leaf.json"]), index, size, proof, checkpoint.root_hash
        ),
    )
    if manifest["pruned"] is not None:  # (5)
        if "message.xml" in files:
            raise LogEvidenceInvalid("bundle.json says the message was pruned, yet it is included")
        pruned = manifest["pruned"]
        return BundleReport(index, entry, opened, None, pruned)
    if "message.xml" not in files or "chain.pem" not in files:
        raise LogEvidenceInvalid("message.xml or chain.pem is missing, and no pruning is recorded")
    checked = _step("message.xml", lambda: checker.check(files["message.xml"], entry))
    carried = _step("chain.pem", lambda: x509.load_pem_x509_certificates(files["chain.pem"]))
    if carried[0] != checked.message.document.chain.leaf:
        raise LogEvidenceInvalid("chain.pem: its first certificate did not sign message.xml")
    return BundleReport(index, entry, opened, checked, None)


def _manifest(files: dict[str, bytes]) -> dict[str, Any]:
    try:
        data = json.loads(files["bundle.json"])
        if data["format"] != BUNDLE_FORMAT:
            raise ValueError(f"format {data['format']!r} is not {BUNDLE_FORMAT}")
        index, size, hashes = data["index"], data["tree_size"], data["inclusion"]
        if type(index) is not int or type(size) is not int or not 0 <= index < size:
            raise ValueError("index and tree_size must be integers with 0 <= index < tree_size")
        if not isinstance(hashes, list) or len(hashes) > _MAX_PROOF_HASHES:
            raise ValueError(f"inclusion must be a list of at most {_MAX_PROOF_HASHES} hashes")
        data["inclusion"] = [base64.b64decode(h, validate=True) for h in hashes]
        if data["pruned"] is not None:
            rule_id = check_rule_id(str(data["pruned"]["rule_id"]))
            at = datetime.fromisoformat(str(data["pruned"]["pruned_at"]))
            data["pruned"] = Pruned(index, rule_id, at)
    except (KeyError, TypeError, ValueError, binascii.Error, IrtError) as exc:
        raise LogEvidenceInvalid(f"bundle.json is malformed: {exc}") from exc
    return dict(data)


def _step(what: str, call: Callable[[], _T]) -> _T:
    try:
        return call()
    except IrtError as exc:
        raise LogEvidenceInvalid(f"{what}: {exc.reason}") from exc
    except (ValueError, binascii.Error) as exc:
        raise LogEvidenceInvalid(f"{what}: {exc}") from exc


def _read_zip(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            if len(set(names)) != len(names) or not set(names) <= _NAMES:
                raise LogEvidenceInvalid(
                    f"bundle holds unexpected or repeated files: {sorted(names)}; "
                    f"expected some of {sorted(_NAMES)}"
                )
            files: dict[str, bytes] = {}
            for info in infos:
                if info.file_size > MAX_BUNDLE_ENTRY_BYTES:
                    raise LogEvidenceInvalid(f"{info.filename} is larger than the limit")
                with archive.open(info) as handle:
                    files[info.filename] = handle.read(MAX_BUNDLE_ENTRY_BYTES + 1)
                if len(files[info.filename]) > MAX_BUNDLE_ENTRY_BYTES:
                    raise LogEvidenceInvalid(f"{info.filename} is larger than the limit")
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise LogEvidenceInvalid(f"cannot read bundle {path}: {exc}") from exc
    for required in ("bundle.json", "leaf.json", "checkpoint.txt"):
        if required not in files:
            raise LogEvidenceInvalid(f"bundle has no {required}")
    return files


def _write_zip(out: Path, files: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(name, files[name])
    try:
        write_file(out, buffer.getvalue(), mode=UMASK_MODE, overwrite=False)
    except FileExistsError as exc:
        raise LogRangeError(f"{out} already exists; choose a new file") from exc
    except OSError as exc:
        raise LogStoreError(f"cannot write {out}: {exc}") from exc


def _chain_pem(raw: bytes) -> bytes:
    root = parse_untrusted(raw, limits=XmlLimits(max_bytes=AUDIT_MAX_MESSAGE_BYTES))
    certificates = root.iterfind(
        f"{{{DS_NS}}}Signature/{{{DS_NS}}}KeyInfo//{{{DS_NS}}}X509Certificate"
    )
    pem = b""
    for element in certificates:
        der = base64.b64decode("".join((element.text or "").split()))
        pem += x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM)
    return pem
