"""Checking one logged message offline: its bytes, its signature then, its leaf.

An auditor trusts only the London root CA and the root's CRLs. A message is
judged as its receiver had to judge it (SPEC §3), at the time it was made:

(1) the stored bytes hash to the leaf's ``message_sha256``;
(2) ``Created`` is read from the (not yet verified) bytes, only to choose the
    moment of verification;
(3) the envelope is verified by ``EnvelopeVerifier`` — schema, pinned
    signature shape, certificate chain to the root, signer = ``From`` — with
    the clock set to ``Created`` and the CRL in force then (``CrlTimeline``);
    the signed ``Created`` must be the one used;
(4) the signed header says what the leaf says: ``MessageID``, ``Class``,
    ``Qualifier``, ``From`` and each ``To``.

Freshness and replay are not judged again: they depended on the receiver's
clock and memory at the time, which the leaf's ``logged_at`` records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography import x509

from hub.clock import FixedClock
from hub.envelope import ENV_NS, parse_time
from hub.errors import IrtError
from hub.log.entry import LogEntry, recipient_tokens
from hub.log.errors import LogEvidenceInvalid
from hub.pki.trust import TrustStore
from hub.schemas import SchemaRegistry, default_registry
from hub.verify import EnvelopeVerifier, VerifiedMessage
from hub.xmlparse import XmlLimits, parse_untrusted

__all__ = ["AUDIT_MAX_MESSAGE_BYTES", "CheckedMessage", "CrlTimeline", "MessageChecker"]

AUDIT_MAX_MESSAGE_BYTES: Final = 16 * 1024 * 1024
"""Largest logged message the auditor reads: the hub's limit (1 MiB by
default, SPEC §4) may be configured higher; an auditor must not refuse what
the hub accepted, but need not read anything larger."""

_CREATED: Final = f"{{{ENV_NS}}}Header/{{{ENV_NS}}}Created"


@dataclass(frozen=True)
class CrlTimeline:
    """The London root and its CRLs by date: which CRL was in force at a moment."""

    roots: TrustStore
    """The root(s) alone: used before the first CRL."""
    dated: tuple[tuple[x509.CertificateRevocationList, TrustStore], ...] = ()
    """Each CRL with its store (which verified it against the root), oldest first."""

    @classmethod
    def from_files(cls, root: Path, crls: Sequence[Path] = ()) -> CrlTimeline:
        """Load the root certificate(s) and every CRL file.

        Raises ``InternalError`` for a file that cannot be read and
        ``UntrustedCertificate`` for a CRL the root did not sign.
        """
        dated = []
        for path in crls:
            store = TrustStore.from_files(root, path)
            if store.crl is not None:
                dated.append((store.crl, store))
        dated.sort(key=lambda pair: pair[0].last_update_utc)
        return cls(roots=TrustStore.from_files(root), dated=tuple(dated))

    def at(self, moment: datetime) -> TrustStore:
        """The store whose CRL was in force at ``moment``.

        That is the latest CRL with ``thisUpdate <= moment < nextUpdate``;
        failing that the latest issued before ``moment``; failing that none.
        """
        issued = [(crl, store) for crl, store in self.dated if crl.last_update_utc <= moment]
        current = [store for crl, store in issued if moment < _next_update(crl)]
        if current:
            return current[-1]
        return issued[-1][1] if issued else self.roots


@dataclass(frozen=True, slots=True)
class CheckedMessage:
    """A logged message that passed every step, and what it was judged with."""

    message: VerifiedMessage
    crl_number: int | None
    """The CRL in force at ``Created``, or ``None`` if there was none yet."""


@dataclass(frozen=True)
class MessageChecker:
    """Checks logged messages against their leaves; see the module docstring."""

    timeline: CrlTimeline
    registry: SchemaRegistry = field(default_factory=default_registry)
    limits: XmlLimits = field(default_factory=lambda: XmlLimits(max_bytes=AUDIT_MAX_MESSAGE_BYTES))

    def check(self, raw: bytes, entry: LogEntry) -> CheckedMessage:
        """Verify ``raw`` as the message ``entry`` records.

        Raises ``LogEvidenceInvalid`` whose reason says which step failed.
        """
        # (1) The bytes are the ones the leaf commits to.
        if hashlib.sha256(raw).hexdigest() != entry.message_sha256:
            raise LogEvidenceInvalid(
                "stored message bytes do not match the leaf's SHA-256 (tampered or replaced)"
            )
        # (2) The moment to judge the signature at.
        created = _unverified_created(raw, self.limits)
        # (3) The signature, the chain and the CRL, as of then.
        checked = self._verify_at(raw, created)
        signed = checked.message.header.created
        if signed != created:
            checked = self._verify_at(raw, signed)
        # (4) The leaf's metadata is the signed header's.
        _compare(entry, checked.message)
        return checked

    def _verify_at(self, raw: bytes, moment: datetime) -> CheckedMessage:
        store = self.timeline.at(moment)
        verifier = EnvelopeVerifier(
            trust=store, registry=self.registry, clock=FixedClock(moment), limits=self.limits
        )
        try:
            message = verifier.verify_envelope(raw)
        except IrtError as exc:
            raise LogEvidenceInvalid(
                f"message signature does not hold at its Created {moment.isoformat()} "
                f"({exc.code}): {exc.reason}"
            ) from exc
        return CheckedMessage(message=message, crl_number=_crl_number(store.crl))


def _unverified_created(raw: bytes, limits: XmlLimits) -> datetime:
    try:
        text = parse_untrusted(raw, limits=limits).findtext(_CREATED)
        if not text:
            raise LogEvidenceInvalid("message has no env:Header/env:Created")
        return parse_time(text)
    except LogEvidenceInvalid:
        raise
    except IrtError as exc:
        raise LogEvidenceInvalid(f"message cannot be read ({exc.code}): {exc.reason}") from exc


def _compare(entry: LogEntry, message: VerifiedMessage) -> None:
    header = message.header
    pairs = (
        ("MessageID", entry.message_id, header.message_id),
        ("Class", entry.message_class, header.message_class),
        ("Qualifier", entry.qualifier, header.qualifier),
        ("From", entry.sender, header.sender.authority),
        ("To", " ".join(entry.recipients), " ".join(recipient_tokens(header.recipients))),
    )
    for name, logged, signed in pairs:
        if logged != signed:
            raise LogEvidenceInvalid(
                f"the leaf says {name} {logged!r} but the signed message says {signed!r}"
            )


def _next_update(crl: x509.CertificateRevocationList) -> datetime:
    return crl.next_update_utc or datetime.max.replace(tzinfo=crl.last_update_utc.tzinfo)


def _crl_number(crl: x509.CertificateRevocationList | None) -> int | None:
    if crl is None:
        return None
    try:
        return int(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
    except x509.ExtensionNotFound:
        return None
