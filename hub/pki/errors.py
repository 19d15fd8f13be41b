"""The PKI tooling's errors, grafted onto ``hub.errors``.

    IrtError
    └── InternalError                   internal-error  500
        └── PkiError                    the development CA refused a request
            └── ProfileInvalid          a certificate profile file is broken

The trust store raises the SPEC §5 trust failures (``UntrustedCertificate``,
``CertificateExpired``, ``CertificateRevoked``, ``SenderMismatch``) directly.
``PkiError`` is only for the tooling that makes certificates: a CA that
already exists, an unknown serial, a key too weak for the profile, an
unreadable ``serials.json``. ``ProfileInvalid`` says that a file in
``certs/profiles/`` cannot be used, naming the file and the key. None of these
can be caused by a message on the wire, so on the wire it would be
``internal-error``; ``irthub pki`` prints its reason as a plain usage error
instead.
"""

from __future__ import annotations

from hub.errors import InternalError

__all__ = ["PkiError", "ProfileInvalid"]


class PkiError(InternalError):
    """The development CA cannot do what was asked; ``reason`` says why and what to do."""


class ProfileInvalid(PkiError):
    """A certificate profile file is missing or broken; ``reason`` names the file and key."""
