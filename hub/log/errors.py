"""The verifiable log's errors: one ``LogError`` branch grafted onto ``hub.errors``.

Every class is both a ``LogError`` (so the log's callers can catch the whole
branch) and a leaf of the interchange tree that fixes its SPEC §5 code. The
mixin defines no ``code`` of its own, so the code always comes from the
``hub.errors`` parent.

    IrtError
    └── LogError                        anything the verifiable log refuses
        ├── InclusionProofInvalid       signature-invalid   403  (SignatureInvalid)
        ├── ConsistencyProofInvalid     signature-invalid   403  (SignatureInvalid)
        ├── NoteMalformed               signature-invalid   403  (SignatureInvalid)
        ├── NoteSignatureInvalid        signature-invalid   403  (SignatureInvalid)
        ├── CheckpointInconsistent      signature-invalid   403  (SignatureInvalid)
        ├── LogEvidenceInvalid          signature-invalid   403  (SignatureInvalid)
        ├── NoteTooLarge                too-large           413  (TooLarge)
        ├── LogRangeError               schema-invalid      400  (SchemaInvalid)
        ├── LogKeyInvalid               internal-error      500  (InternalError)
        └── LogStoreError               internal-error      500  (InternalError)

Why ``signature-invalid`` for a bad proof: a Merkle proof or a checkpoint is
evidence that extends a signature. A proof that does not reproduce a signed
root, a note whose signature does not verify, or a checkpoint that forks the
log the witness already saw are all evidence of tampering (or of a broken
peer), not of a fault of ours, so they must never be ``internal-error``; they
are trust failures of exactly the kind ``SignatureInvalid`` names, and they map
to 403 like every other trust failure. A note beyond a size limit is
``too-large``, as for XML. A request for a proof outside the stored tree is the
caller's mistake: ``schema-invalid`` is the nearest SPEC §5 code for a request
whose values lie outside their valid range (400, never 500). Key text that
cannot be read and a node store that fails or lacks a node it must hold are
faults of our own configuration or storage: ``internal-error``.
"""

from __future__ import annotations

from hub.errors import InternalError, IrtError, SchemaInvalid, SignatureInvalid, TooLarge

__all__ = [
    "CheckpointInconsistent",
    "ConsistencyProofInvalid",
    "InclusionProofInvalid",
    "LogError",
    "LogEvidenceInvalid",
    "LogKeyInvalid",
    "LogRangeError",
    "LogStoreError",
    "NoteMalformed",
    "NoteSignatureInvalid",
    "NoteTooLarge",
]


class LogError(IrtError):
    """Base of the verifiable log's errors; defines no code, its leaves inherit one."""


class InclusionProofInvalid(LogError, SignatureInvalid):
    """An RFC 9162 §2.1.3.2 inclusion proof does not bind the leaf to the root."""


class ConsistencyProofInvalid(LogError, SignatureInvalid):
    """An RFC 9162 §2.1.4.2 consistency proof does not link the two roots."""


class NoteMalformed(LogError, SignatureInvalid):
    """A signed note, a checkpoint body or a signature line breaks its C2SP format."""


class NoteSignatureInvalid(LogError, SignatureInvalid):
    """A required note signature or cosignature is missing or does not verify."""


class CheckpointInconsistent(LogError, SignatureInvalid):
    """A checkpoint rolls back or forks the log a witness has already accepted."""


class LogEvidenceInvalid(LogError, SignatureInvalid):
    """A stored leaf, message, checkpoint or evidence bundle contradicts what binds it.

    Raised by the offline auditor and the bundle checker: bytes that no longer
    hash to their leaf, a leaf missing or out of place, a root that is not the
    signed one. The reason names the first broken item.
    """


class NoteTooLarge(LogError, TooLarge):
    """A signed note exceeds a named size or count limit."""


class LogRangeError(LogError, SchemaInvalid):
    """A proof or root was asked for an index or tree size the log does not hold."""


class LogKeyInvalid(LogError, InternalError):
    """A signer or verifier key text cannot be read; a configuration fault."""


class LogStoreError(LogError, InternalError):
    """The node store failed, lost a node, or was changed by another appender."""
