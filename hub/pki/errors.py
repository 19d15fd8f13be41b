"""The development CA's one error, grafted onto ``hub.errors``.

    IrtError
    └── InternalError                   internal-error  500
        └── PkiError                    the development CA refused a request

The trust store raises the SPEC §5 trust failures (``UntrustedCertificate``,
``CertificateExpired``, ``CertificateRevoked``, ``SenderMismatch``) directly.
``PkiError`` is only for the tooling that makes certificates: a CA that
already exists, an unknown serial, a key too weak for the profile, an
unreadable ``serials.json``. None of these can be caused by a message on the
wire, so on the wire it would be ``internal-error``; ``irthub pki`` prints its
reason as a plain usage error instead.
"""

from __future__ import annotations

from hub.errors import InternalError

__all__ = ["PkiError"]


class PkiError(InternalError):
    """The development CA cannot do what was asked; ``reason`` says why and what to do."""
