"""The trust store: is this certificate a London party's, valid and unrevoked?

``TrustStore.validate_chain`` runs on every message, so the expensive part is
cached per certificate. Steps (SPEC §3; RFC 5280 §6 reduced to our profile):

(1) build the path leaf → intermediates → pinned root by issuer name, each
    link checked with the issuer's key (``verify_directly_issued_by``);
(2) every issuer is a CA allowed to sign certificates, within its path length;
    the leaf is not a CA;
(3) the leaf's extended key usage fits the purpose (message signing or TLS),
    and every key is of an allowed type and size;
(4) the leaf names exactly one authority, the same by SAN URI and subject OU;
(5) every certificate is valid at the message's ``Created`` and now;
(6) no certificate issued by the root is on the root's CRL.

Steps (1)–(4) depend only on the certificates and are cached by their SHA-256
fingerprints; (5) and (6) run every time and cost a few comparisons.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes

from hub.errors import (
    CertificateExpired,
    CertificateRevoked,
    InternalError,
    UntrustedCertificate,
)
from hub.identifiers import AuthorityCode
from hub.pki.profile import Purpose, authority_of, check_key, has_purpose

__all__ = ["MAX_CHAIN_LENGTH", "TrustStore", "ValidatedChain"]

MAX_CHAIN_LENGTH: Final = 4
"""Leaf, at most two intermediates, root. The London PKI issues from the root
directly; a longer path is not ours."""

_CACHE_ENTRIES: Final = 4096
"""Validated chains kept: all 34 parties' certificates through several
rotations, bounded so a flood of distinct certificates cannot grow memory."""


@dataclass(frozen=True, slots=True)
class ValidatedChain:
    """A certificate path that passed steps (1)–(6)."""

    leaf: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    """Leaf first, the pinned root last."""
    authority: AuthorityCode
    """The authority the leaf names."""
    fingerprint: str
    """SHA-256 of the leaf's DER, lowercase hex."""
    not_before: datetime
    """Latest start of validity along the chain."""
    not_after: datetime
    """Earliest end of validity along the chain."""


@dataclass(frozen=True)
class TrustStore:
    """The pinned London root(s) and the root's current CRL; immutable."""

    roots: tuple[x509.Certificate, ...]
    crl: x509.CertificateRevocationList | None = None
    _revoked: frozenset[int] = field(init=False)
    _cache: OrderedDict[tuple[object, ...], ValidatedChain] = field(
        init=False, default_factory=OrderedDict, compare=False
    )
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock, compare=False)

    def __post_init__(self) -> None:
        if not self.roots:
            raise InternalError("a trust store needs at least one root certificate")
        revoked: frozenset[int] = frozenset()
        if self.crl is not None:
            issuer = next((r for r in self.roots if r.subject == self.crl.issuer), None)
            if issuer is None or not self.crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                raise UntrustedCertificate("the CRL is not signed by the London root CA")
            revoked = frozenset(entry.serial_number for entry in self.crl)
        object.__setattr__(self, "_revoked", revoked)

    @classmethod
    def from_files(cls, root: Path, crl: Path | None = None) -> TrustStore:
        """Load PEM root certificate(s) and an optional PEM CRL.

        Raises ``InternalError`` naming a file that cannot be read, and
        ``UntrustedCertificate`` for a CRL the root did not sign.
        """
        try:
            roots = tuple(x509.load_pem_x509_certificates(root.read_bytes()))
        except (OSError, ValueError) as exc:
            raise InternalError(f"cannot load root certificate {root}: {exc}") from exc
        loaded_crl = None
        if crl is not None:
            try:
                loaded_crl = x509.load_pem_x509_crl(crl.read_bytes())
            except (OSError, ValueError) as exc:
                raise InternalError(f"cannot load CRL {crl}: {exc}") from exc
        return cls(roots=roots, crl=loaded_crl)

    def with_crl(self, crl: x509.CertificateRevocationList) -> TrustStore:
        """A new store with the same roots and ``crl``."""
        return TrustStore(roots=self.roots, crl=crl)

    def validate_chain(
        self,
        leaf: x509.Certificate,
        intermediates: Sequence[x509.Certificate] = (),
        *,
        at: datetime,
        now: datetime,
        purpose: Purpose = "signing",
    ) -> ValidatedChain:
        """Validate ``leaf`` for ``purpose`` at ``at`` and ``now``.

        Raises ``UntrustedCertificate``, ``SenderMismatch``,
        ``CertificateExpired`` or ``CertificateRevoked`` naming the certificate
        and the rule it breaks.
        """
        # Certificates hash cheaply and compare by their full DER, so they key
        # the cache themselves: a forged look-alike never hits a real entry.
        key = (purpose, leaf, *intermediates)
        with self._lock:
            validated = self._cache.get(key)
        if validated is None:
            validated = self._validate_static(leaf, intermediates, purpose)
            with self._lock:
                self._cache[key] = validated
                while len(self._cache) > _CACHE_ENTRIES:
                    self._cache.popitem(last=False)
        # (5) valid at Created and now
        for moment, what in ((now, "now"), (at, "at the message's Created time")):
            if not validated.not_before <= moment <= validated.not_after:
                culprit = _invalid_at(validated.chain, moment)
                raise CertificateExpired(
                    f"certificate {_describe(culprit)} is not valid {what} ({moment.isoformat()}): "
                    f"valid from {culprit.not_valid_before_utc.isoformat()} "
                    f"to {culprit.not_valid_after_utc.isoformat()}"
                )
        # (6) not revoked by the root
        for cert in validated.chain[:-1]:
            if cert.issuer == validated.chain[-1].subject and cert.serial_number in self._revoked:
                raise CertificateRevoked(f"certificate {_describe(cert)} is revoked by the CRL")
        return validated

    def _validate_static(
        self, leaf: x509.Certificate, intermediates: Sequence[x509.Certificate], purpose: Purpose
    ) -> ValidatedChain:
        chain = self._build_path(leaf, intermediates)  # (1)
        _check_issuers(chain)  # (2)
        if not has_purpose(leaf, purpose):  # (3)
            what = "a message-signing" if purpose == "signing" else "a TLS"
            raise UntrustedCertificate(f"certificate {_describe(leaf)} is not {what} certificate")
        for cert in chain:
            check_key(cert)
        authority = authority_of(leaf)  # (4)
        return ValidatedChain(
            leaf=leaf,
            chain=chain,
            authority=authority,
            fingerprint=leaf.fingerprint(hashes.SHA256()).hex(),
            not_before=max(c.not_valid_before_utc for c in chain),
            not_after=min(c.not_valid_after_utc for c in chain),
        )

    def _build_path(
        self, leaf: x509.Certificate, intermediates: Sequence[x509.Certificate]
    ) -> tuple[x509.Certificate, ...]:
        path = [leaf]
        candidates = [*intermediates, *self.roots]
        while len(path) <= MAX_CHAIN_LENGTH:
            current = path[-1]
            root = next((r for r in self.roots if _issued(current, r)), None)
            if root is not None:
                return (*path, root) if current is not root else tuple(path)
            issuer = next((c for c in candidates if c not in path and _issued(current, c)), None)
            if issuer is None:
                raise UntrustedCertificate(
                    f"certificate {_describe(leaf)} does not chain to the London root CA"
                )
            path.append(issuer)
        raise UntrustedCertificate(
            f"certificate {_describe(leaf)} needs a path longer than {MAX_CHAIN_LENGTH}"
        )


def _issued(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _check_issuers(chain: tuple[x509.Certificate, ...]) -> None:
    if _is_ca(chain[0]):
        raise UntrustedCertificate(f"certificate {_describe(chain[0])} is a CA, not a party")
    for below, issuer in enumerate(chain[1:]):
        if not _is_ca(issuer):
            raise UntrustedCertificate(f"issuer {_describe(issuer)} is not a CA")
        constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
        intermediates_below = below  # certificates strictly between leaf and this issuer
        if constraints.path_length is not None and intermediates_below > constraints.path_length:
            raise UntrustedCertificate(f"issuer {_describe(issuer)} exceeds its path length")
        try:
            usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            usage = None
        if usage is None or not usage.key_cert_sign:
            raise UntrustedCertificate(f"issuer {_describe(issuer)} may not sign certificates")


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _invalid_at(chain: tuple[x509.Certificate, ...], moment: datetime) -> x509.Certificate:
    return next(c for c in chain if not c.not_valid_before_utc <= moment <= c.not_valid_after_utc)


def _describe(cert: x509.Certificate) -> str:
    return f"{cert.subject.rfc4514_string()} (serial {cert.serial_number:x})"
