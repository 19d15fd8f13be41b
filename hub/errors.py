"""The one exception tree of the interchange, each leaf mapped to a SPEC §5 code.

Every failure a party can see on the wire is one of these classes; library
errors (lxml, signxml, cryptography, databases) are translated where they are
caught, with ``raise ... from exc``. The HTTP layer and the CLI turn any
``IrtError`` into a signed ``env:Error`` envelope or a printed
``code: reason`` line using only ``code``, ``http_status`` and ``reason``.

    IrtError
    ├── InputRejected                   the sender's message is at fault
    │   ├── MalformedXml                malformed-xml          400
    │   ├── ForbiddenXml                forbidden-xml          400
    │   ├── TooLarge                    too-large              413
    │   ├── SchemaInvalid               schema-invalid         400
    │   └── StaleMessage                stale-message          400
    ├── TrustFailure                    who signed it cannot be trusted
    │   ├── SignatureInvalid            signature-invalid      403
    │   ├── UntrustedCertificate        untrusted-certificate  403
    │   ├── CertificateExpired          certificate-expired    403
    │   ├── CertificateRevoked          certificate-revoked    403
    │   └── SenderMismatch              sender-mismatch        403
    ├── DuplicateMessage                duplicate-message      409
    ├── UnknownRecipient                unknown-recipient      404
    ├── PolicyDenied                    policy-denied          403
    ├── DeliveryFailure                 the far side failed us
    │   ├── RecipientUnavailable        recipient-unavailable  502
    │   └── DeliveryTimeout             timeout                504
    ├── Busy                            busy                   503 (+ Retry-After)
    │   └── RequesterBusy               busy                   429 (+ Retry-After)
    └── InternalError                   internal-error         500
        └── NotReady                    internal-error         500 (reason told as is)

``InternalError`` is reserved for faults of our own (a database that is down,
a key that cannot be read); bad input must never produce it. Its reason
names our internals, so another party is told only ``INTERNAL_REASON``
(``for_peer``) and the full reason goes to the operator's log. ``NotReady``
is the exception: a fault of ours whose reason is written for the party
that asked (a node whose children's index is empty or stale says so).

``Busy`` is admission control (SPEC §5): the receiver runs as much of this
work as it admits, overall (503) or for the sender's authority (429), and
says in ``retry_after`` (the ``Retry-After`` header) when a slot frees.
"""

from __future__ import annotations

import math
from typing import ClassVar, Final

__all__ = [
    "CODES",
    "INTERNAL_REASON",
    "Busy",
    "CertificateExpired",
    "CertificateRevoked",
    "DeliveryFailure",
    "DeliveryTimeout",
    "DuplicateMessage",
    "ForbiddenXml",
    "InputRejected",
    "InternalError",
    "IrtError",
    "MalformedXml",
    "NotReady",
    "PolicyDenied",
    "RecipientUnavailable",
    "RequesterBusy",
    "SchemaInvalid",
    "SenderMismatch",
    "SignatureInvalid",
    "StaleMessage",
    "TooLarge",
    "TrustFailure",
    "UnknownRecipient",
    "UntrustedCertificate",
    "error_for_code",
    "for_peer",
]


class IrtError(Exception):
    """Base of every error the interchange reports; carries a SPEC code."""

    code: ClassVar[str] = "internal-error"
    http_status: ClassVar[int] = 500
    told_as_is: ClassVar[bool] = True
    """Whether ``reason`` may be sent to another party as it stands (``for_peer``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


class InputRejected(IrtError):
    """The bytes themselves are unacceptable, before any trust question."""


class MalformedXml(InputRejected):
    """Not well-formed XML, or not UTF-8."""

    code = "malformed-xml"
    http_status = 400


class ForbiddenXml(InputRejected):
    """A DTD, entity, processing instruction, XInclude or excessive nesting."""

    code = "forbidden-xml"
    http_status = 400


class TooLarge(InputRejected):
    """The message exceeds the configured size or tree limits."""

    code = "too-large"
    http_status = 413


class SchemaInvalid(InputRejected):
    """The document does not validate against its XSD."""

    code = "schema-invalid"
    http_status = 400


class StaleMessage(InputRejected):
    """``Created`` lies outside the accepted window or ``Expires`` has passed."""

    code = "stale-message"
    http_status = 400


class TrustFailure(IrtError):
    """The signature or the signer cannot be trusted."""

    http_status = 403


class SignatureInvalid(TrustFailure):
    """Missing, misplaced, mis-formed or non-verifying XML signature."""

    code = "signature-invalid"


class UntrustedCertificate(TrustFailure):
    """The signer certificate does not chain to the pinned London root CA."""

    code = "untrusted-certificate"


class CertificateExpired(TrustFailure):
    """A certificate in the chain is not valid at ``Created`` or now."""

    code = "certificate-expired"


class CertificateRevoked(TrustFailure):
    """A certificate in the chain is on the current CRL."""

    code = "certificate-revoked"


class SenderMismatch(TrustFailure):
    """The certificate, the TLS identity and ``From`` name different authorities."""

    code = "sender-mismatch"


class DuplicateMessage(IrtError):
    """A ``MessageID`` already seen from this sender, with different bytes."""

    code = "duplicate-message"
    http_status = 409


class UnknownRecipient(IrtError):
    """``To`` names an authority, node or service the directory does not know."""

    code = "unknown-recipient"
    http_status = 404


class PolicyDenied(IrtError):
    """An information sharing protocol does not permit the exchange."""

    code = "policy-denied"
    http_status = 403


class DeliveryFailure(IrtError):
    """The recipient could not be reached or did not answer in time."""


class RecipientUnavailable(DeliveryFailure):
    """The recipient refused the connection or answered with an error."""

    code = "recipient-unavailable"
    http_status = 502


class DeliveryTimeout(DeliveryFailure):
    """The recipient did not answer before the deadline."""

    code = "timeout"
    http_status = 504


class Busy(IrtError):
    """The receiver already runs all the work of this kind it admits; try later."""

    code = "busy"
    http_status = 503

    def __init__(self, reason: str, *, retry_after: float = 1.0) -> None:
        super().__init__(reason)
        self.retry_after = max(1, math.ceil(retry_after))
        """Whole seconds after which a new attempt may be admitted (``Retry-After``)."""


class RequesterBusy(Busy):
    """The sender's authority already holds its whole share of the receiver's slots."""

    http_status = 429


class InternalError(IrtError):
    """A fault of our own; never caused by bad input."""

    code = "internal-error"
    http_status = 500
    told_as_is = False


class NotReady(InternalError):
    """We cannot answer rightly now, for a reason written for the party that asked."""

    told_as_is = True


INTERNAL_REASON: Final = "the receiver failed; nothing was acknowledged; try again"
"""What another party is told of an ``InternalError``: its own reason names
files, hosts or libraries of the receiver and stays in the receiver's log."""


def for_peer(error: IrtError) -> IrtError:
    """``error`` as it may be told to another party: an ``InternalError`` says only
    ``INTERNAL_REASON`` (but ``NotReady``); every other error names the
    sender's problem already."""
    if not error.told_as_is and error.reason != INTERNAL_REASON:
        return InternalError(INTERNAL_REASON)
    return error


def _coded(cls: type[IrtError]) -> list[type[IrtError]]:
    """``cls`` and its subclasses, parents first, each that sets its own ``code``."""
    own = [cls] if "code" in vars(cls) else []
    return own + [found for sub in cls.__subclasses__() for found in _coded(sub)]


def _codes() -> dict[str, type[IrtError]]:
    codes: dict[str, type[IrtError]] = {}
    for cls in (found for sub in IrtError.__subclasses__() for found in _coded(sub)):
        codes.setdefault(cls.code, cls)
    return codes


CODES: dict[str, type[IrtError]] = _codes()
"""Every SPEC §5 code and the class that stands for it (the most general one
that sets it: ``busy`` is ``Busy``)."""


def error_for_code(code: str, reason: str) -> IrtError:
    """Rebuild the exception for a SPEC code received from another party.

    An unknown code becomes ``InternalError`` naming it, so a peer that speaks
    a newer version of the SPEC is reported rather than crashing the reader.
    """
    cls = CODES.get(code)
    if cls is None:
        return InternalError(f"peer sent unknown error code {code!r}: {reason}")
    return cls(reason)
