"""The trust store: is this a London party's certificate, valid, unrevoked and fit for purpose?

``TrustStore.validate_chain`` runs on every message and every TLS peer, so the
part that costs signature checks is cached. The steps (SPEC §3; RFC 5280 §6.1
reduced to the London profile, docs/pki.md):

(1) build the path leaf → intermediates → a pinned root, linking each
    certificate to an issuer whose subject is its issuer name and whose key
    verifies its signature (``verify_directly_issued_by``); at most
    ``MAX_CHAIN_LENGTH`` certificates; a leaf that is itself a root is refused;
(2) every issuer is a CA (basicConstraints CA:true) with the keyUsage the
    root profile requires (keyCertSign), within its pathLenConstraint; the
    leaf is not a CA;
(3) every certificate is valid at ``at`` (the message's ``Created``) and at
    ``now``;
(4) the CRL, when the store has one, is current (its nextUpdate has not
    passed), covers every non-root certificate in the path (same issuer), and
    lists none of them;
(5) the leaf's usages fit its purpose's profile (``check_purpose``):
    id-kp-documentSigning (RFC 9336) for message signing, serverAuth +
    clientAuth for TLS, never both, and the required keyUsage bits;
(6) the leaf's key is one its profile accepts, every issuer's one the root
    profile accepts (ECDSA P-256/P-384 or RSA of at least 2048 bits; an
    intermediate's key is checked before it is used to verify anything);
(7) the leaf names one authority, the same by SAN URI and subject OU
    (``authority_of``; ``SenderMismatch`` otherwise).

The rules of steps (2), (5) and (6) are not written here: they are derived
from the store's ``ProfileSet`` (``certs/profiles/*.toml``, the same files
``irthub pki`` issues from). Steps (1), (2) and (5)–(7) depend only on the
certificates, the pinned roots and the profiles, so their outcome — the
``ValidatedChain`` or the refusal — is cached per purpose, leaf and
intermediates (keyed by the certificates themselves, which hash and compare
by their full DER), in a bounded LRU shared by every store made from the same
roots (``with_crl``). Steps (3) and (4) run on every call: a few comparisons
and set lookups. A refusal is a ``TrustFailure`` naming the certificate and
the rule it breaks.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

from hub.errors import (
    CertificateExpired,
    CertificateRevoked,
    InternalError,
    TrustFailure,
    UntrustedCertificate,
)
from hub.identifiers import AuthorityCode
from hub.pki.profile import authority_of, check_key, check_purpose, describe
from hub.pki.profile_loader import default_profiles
from hub.pki.profile_model import CertificateProfile, ProfileSet, Purpose

__all__ = [
    "CHAIN_CACHE_ENTRIES",
    "MAX_CHAIN_LENGTH",
    "TrustStore",
    "ValidatedChain",
    "crl_number",
]

MAX_CHAIN_LENGTH: Final = 3
"""Leaf, one intermediate, root: the root's pathLenConstraint of 1 allows no
longer valid path, so path building stops there instead of checking more
signatures for an attacker."""

CHAIN_CACHE_ENTRIES: Final = 4096
"""Checked paths kept: the 34 parties' signing and TLS certificates through
many rotations, bounded so a flood of distinct certificates cannot grow memory."""

_CacheKey = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class ValidatedChain:
    """A certificate path that passed every step, and what it proves."""

    leaf: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    """Leaf first, the pinned root last."""
    authority: AuthorityCode
    """The authority the leaf names (SAN URI and subject OU agree)."""
    fingerprint: str
    """SHA-256 of the leaf's DER, lowercase hex."""
    not_before: datetime
    """Latest notBefore along the chain: the chain is valid from here…"""
    not_after: datetime
    """…to the earliest notAfter along it."""
    purpose: Purpose
    """What the leaf was validated for."""


@dataclass(frozen=True, slots=True)
class _Refusal:
    """A cached outcome of the certificate-only steps that failed."""

    error: type[TrustFailure]
    reason: str


class _ChainCache:
    """A thread-safe LRU of certificate-only outcomes, keyed by the certificates."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise InternalError(f"a chain cache needs room for at least one entry, not {limit}")
        self._limit = limit
        self._entries: OrderedDict[_CacheKey, ValidatedChain | _Refusal] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _CacheKey) -> ValidatedChain | _Refusal | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: _CacheKey, entry: ValidatedChain | _Refusal) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)


@dataclass(frozen=True, slots=True)
class _Revocation:
    """The CRL in force and what step (4) looks up in it; replaced whole, never changed."""

    crl: x509.CertificateRevocationList
    issuer: bytes
    revoked: Mapping[int, x509.RevokedCertificate]


class TrustStore:
    """The pinned London root(s) and the root's CRL in force; thread-safe.

    Build it once (``from_files``) and share it. The roots, profiles and
    cache never change; the CRL in force is replaced by ``install_crl`` (a
    newer CRL, checked first) in one reference swap, so every holder of the
    store — verifiers, health checks — applies it to the next message, and a
    check in progress sees either the old CRL or the new one, never a mix.
    ``with_crl`` makes a separate store for another CRL, sharing the cache.
    """

    __slots__ = ("_cache", "_profiles", "_revocation", "_roots")
    _revocation: _Revocation | None

    def __init__(
        self,
        roots: Sequence[x509.Certificate],
        crl: x509.CertificateRevocationList | None = None,
        *,
        cache_entries: int = CHAIN_CACHE_ENTRIES,
        profiles: ProfileSet | None = None,
    ) -> None:
        """Pin ``roots``, load ``crl``, and check certificates against ``profiles``.

        ``profiles`` default to the packaged ``certs/profiles/``. Raises
        ``InternalError`` when there is no root or a root is not a CA
        certificate with an allowed key, ``UntrustedCertificate`` when the CRL
        is not signed by a pinned root or has no nextUpdate, and
        ``ProfileInvalid`` for a broken packaged profile.
        """
        self._profiles = profiles or default_profiles()
        self._roots = _pinned(roots, self._profiles.root)
        self._cache = _ChainCache(cache_entries)
        self._load_crl(crl)

    @classmethod
    def from_files(
        cls, root: Path, crl: Path | None = None, *, profiles: ProfileSet | None = None
    ) -> TrustStore:
        """Load PEM root certificate(s) and an optional PEM CRL.

        Raises ``InternalError`` naming a file that cannot be read or parsed,
        and what the constructor raises.
        """
        try:
            root_pem = root.read_bytes()
        except OSError as exc:
            raise InternalError(f"cannot read root certificate {root}: {exc.strerror}") from exc
        try:
            crl_pem = None if crl is None else crl.read_bytes()
        except OSError as exc:
            raise InternalError(f"cannot read CRL {crl}: {exc.strerror}") from exc
        return cls.from_pem(root_pem, crl_pem, source=f"{root}, {crl}", profiles=profiles)

    @classmethod
    def from_pem(
        cls,
        root_pem: bytes,
        crl_pem: bytes | None = None,
        *,
        source: str = "PEM data",
        profiles: ProfileSet | None = None,
    ) -> TrustStore:
        """Load PEM root certificate(s) and an optional PEM CRL from bytes.

        Raises ``InternalError`` naming ``source`` when either does not parse,
        and what the constructor raises.
        """
        try:
            roots = x509.load_pem_x509_certificates(root_pem)
            crl = None if crl_pem is None else x509.load_pem_x509_crl(crl_pem)
        except ValueError as exc:
            raise InternalError(f"cannot load trust material from {source}: {exc}") from exc
        return cls(roots, crl, profiles=profiles)

    @property
    def roots(self) -> tuple[x509.Certificate, ...]:
        """The pinned root certificates."""
        return self._roots

    @property
    def profiles(self) -> ProfileSet:
        """The certificate profiles the checks are derived from."""
        return self._profiles

    @property
    def crl(self) -> x509.CertificateRevocationList | None:
        """The current CRL, or ``None`` when revocation is not checked."""
        revocation = self._revocation
        return None if revocation is None else revocation.crl

    def install_crl(self, crl: x509.CertificateRevocationList) -> None:
        """Put ``crl`` in force in place of the current one, for every holder of this store.

        The new CRL must be signed by a pinned root, have a nextUpdate, and
        carry a CRL number (RFC 5280 §5.2.3) not lower than the current one's,
        so an old CRL replayed from a cache cannot un-revoke a certificate.
        Raises ``UntrustedCertificate`` naming the rule it breaks; the CRL in
        force is then unchanged.
        """
        revocation = self._checked(crl)
        current = self._revocation
        if current is not None:
            old, new = crl_number(current.crl), crl_number(crl)
            if old is not None and (new is None or new < old):
                raise UntrustedCertificate(
                    f"the new CRL's number {new} is lower than the number {old} of the CRL in "
                    "force; an older CRL never replaces a newer one"
                )
        self._revocation = revocation

    def with_crl(self, crl: x509.CertificateRevocationList) -> TrustStore:
        """A store with the same roots and cache, and ``crl``; this one is unchanged.

        Raises ``UntrustedCertificate`` when ``crl`` is not signed by a pinned root.
        """
        store = object.__new__(TrustStore)
        store._roots = self._roots
        store._cache = self._cache
        store._profiles = self._profiles
        store._revocation = store._checked(crl)
        return store

    def validate_chain(
        self,
        leaf: x509.Certificate,
        intermediates: Sequence[x509.Certificate] = (),
        *,
        at: datetime,
        now: datetime,
        purpose: Purpose = "signing",
    ) -> ValidatedChain:
        """Validate ``leaf`` (with ``intermediates``) for ``purpose`` at ``at`` and ``now``.

        Runs steps (1)–(7) of the module docstring. Raises
        ``UntrustedCertificate``, ``SenderMismatch``, ``CertificateExpired``
        or ``CertificateRevoked`` naming the certificate and the rule it
        breaks; ``InternalError`` for naive datetimes.
        """
        if at.tzinfo is None or now.tzinfo is None:
            raise InternalError("validate_chain needs time-zone aware datetimes")
        # Certificates hash cheaply and compare by their full DER, so they key
        # the cache themselves: a forged look-alike never hits a real entry,
        # and no digest is computed per call.
        key = (purpose, leaf, *intermediates)
        entry = self._cache.get(key)
        if entry is None:
            entry = self._check_certificates(leaf, intermediates, purpose)
            self._cache.put(key, entry)
        if isinstance(entry, _Refusal):
            raise entry.error(entry.reason)
        # (3) valid now and at Created
        for moment, when in ((now, "now"), (at, "at Created")):
            if not entry.not_before <= moment <= entry.not_after:
                _raise_not_valid(entry.chain, moment, when)
        self._check_revocation(entry, now)  # (4)
        return entry

    def _check_certificates(
        self, leaf: x509.Certificate, intermediates: Sequence[x509.Certificate], purpose: Purpose
    ) -> ValidatedChain | _Refusal:
        """Steps (1), (2), (5), (6), (7): the outcome that depends only on certificates."""
        try:
            root_profile = self._profiles.root
            chain = self._build_path(leaf, intermediates)  # (1)
            _check_issuers(chain, root_profile)  # (2)
            check_purpose(leaf, purpose, self._profiles)  # (5)
            check_key(leaf, self._profiles.party(purpose))  # (6)
            for issuer in chain[1:]:
                check_key(issuer, root_profile)
            authority = authority_of(leaf)  # (7)
            return ValidatedChain(
                leaf=leaf,
                chain=chain,
                authority=authority,
                fingerprint=leaf.fingerprint(hashes.SHA256()).hex(),
                not_before=max(c.not_valid_before_utc for c in chain),
                not_after=min(c.not_valid_after_utc for c in chain),
                purpose=purpose,
            )
        except TrustFailure as exc:
            return _Refusal(type(exc), exc.reason)
        except (ValueError, UnsupportedAlgorithm) as exc:
            # cryptography parses names, extensions and keys lazily, so a
            # corrupt certificate surfaces here, at whichever field is read first.
            return _Refusal(
                UntrustedCertificate,
                f"certificate (serial {leaf.serial_number:x}) or its chain cannot be read: {exc}",
            )

    def _build_path(
        self, leaf: x509.Certificate, intermediates: Sequence[x509.Certificate]
    ) -> tuple[x509.Certificate, ...]:
        """Step (1): leaf first, pinned root last."""
        if leaf in self._roots:
            raise UntrustedCertificate(
                f"certificate {describe(leaf)} is the root CA itself, not a party certificate"
            )
        path = [leaf]
        while len(path) < MAX_CHAIN_LENGTH:
            current = path[-1]
            root = next((r for r in self._roots if _issued_by(current, r)), None)
            if root is not None:
                return (*path, root)
            issuer = None
            for candidate in intermediates:
                if candidate in path or candidate.subject != current.issuer:
                    continue
                check_key(candidate, self._profiles.root)  # (6) before an attacker's key is used
                if _issued_by(current, candidate):
                    issuer = candidate
                    break
            if issuer is None:
                raise UntrustedCertificate(
                    f"certificate {describe(leaf)} does not chain to the London root CA: "
                    f"no pinned root or supplied intermediate named "
                    f"{current.issuer.rfc4514_string()!r} verifies its signature"
                )
            path.append(issuer)
        raise UntrustedCertificate(
            f"certificate {describe(leaf)} does not chain to the London root CA within "
            f"{MAX_CHAIN_LENGTH} certificates"
        )

    def _check_revocation(self, chain: ValidatedChain, now: datetime) -> None:
        """Step (4): a current CRL, from the right issuer, not listing the path."""
        revocation = self._revocation  # read once: install_crl may swap it meanwhile
        if revocation is None:
            return
        crl = revocation.crl
        next_update = crl.next_update_utc
        if next_update is not None and next_update < now:
            raise UntrustedCertificate(
                f"revocation status unknown: the CRL's nextUpdate {next_update.isoformat()} has "
                "passed; publish a fresh CRL (irthub pki crl) and reload it"
            )
        for cert in chain.chain[:-1]:
            if cert.issuer.public_bytes() != revocation.issuer:
                raise UntrustedCertificate(
                    f"revocation status of certificate {describe(cert)} is unknown: the CRL is "
                    f"issued by {crl.issuer.rfc4514_string()!r}, not by its issuer"
                )
            entry = revocation.revoked.get(cert.serial_number)
            if entry is not None:
                raise CertificateRevoked(
                    f"certificate {describe(cert)} is revoked by the CRL since "
                    f"{entry.revocation_date_utc.isoformat()} ({_reason(entry)})"
                )

    def _load_crl(self, crl: x509.CertificateRevocationList | None) -> None:
        self._revocation = None if crl is None else self._checked(crl)

    def _checked(self, crl: x509.CertificateRevocationList) -> _Revocation:
        """``crl`` ready for step (4), once it is signed by a root and has a nextUpdate."""
        issuer = next((r for r in self._roots if _signed_crl(crl, r)), None)
        if issuer is None:
            raise UntrustedCertificate(
                f"the CRL is not signed by the London root CA (it names issuer "
                f"{crl.issuer.rfc4514_string()!r})"
            )
        if crl.next_update_utc is None:
            raise UntrustedCertificate("the CRL has no nextUpdate, so it can never be stale")
        return _Revocation(
            crl=crl,
            issuer=crl.issuer.public_bytes(),
            revoked={entry.serial_number: entry for entry in crl},
        )


def crl_number(crl: x509.CertificateRevocationList) -> int | None:
    """The CRL's cRLNumber (RFC 5280 §5.2.3), or ``None`` when it has none."""
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return None


def _pinned(
    roots: Sequence[x509.Certificate], profile: CertificateProfile
) -> tuple[x509.Certificate, ...]:
    if not roots:
        raise InternalError("a trust store needs at least one root certificate")
    for root in roots:
        if not _is_ca(root) or _lacking_usages(root, profile):
            raise InternalError(f"pinned root {describe(root)} is not a CA certificate")
        try:
            check_key(root, profile)
        except UntrustedCertificate as exc:
            raise InternalError(f"pinned root: {exc.reason}") from exc
    return tuple(roots)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _signed_crl(crl: x509.CertificateRevocationList, root: x509.Certificate) -> bool:
    if crl.issuer != root.subject:
        return False
    try:
        return crl.is_signature_valid(root.public_key())  # type: ignore[arg-type]
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False


def _check_issuers(chain: tuple[x509.Certificate, ...], profile: CertificateProfile) -> None:
    """Step (2), issuers checked against the root ``profile``."""
    if _is_ca(chain[0]):
        raise UntrustedCertificate(f"certificate {describe(chain[0])} is a CA, not a party")
    for below, issuer in enumerate(chain[1:]):
        # ``below`` counts the intermediates between the leaf and this issuer.
        if not _is_ca(issuer):
            raise UntrustedCertificate(f"issuer {describe(issuer)} is not a CA")
        limit = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
        if limit is not None and below > limit:
            raise UntrustedCertificate(
                f"issuer {describe(issuer)} allows {limit} intermediate(s) below it, "
                f"the path has {below}"
            )
        lacking = _lacking_usages(issuer, profile)
        if lacking:
            raise UntrustedCertificate(
                f"issuer {describe(issuer)} lacks keyUsage {', '.join(lacking)} "
                f"({profile.file_name}); it may not sign certificates"
            )


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _lacking_usages(cert: x509.Certificate, profile: CertificateProfile) -> tuple[str, ...]:
    try:
        usage: x509.KeyUsage | None = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    return profile.key_usage.missing(usage)


def _raise_not_valid(chain: tuple[x509.Certificate, ...], moment: datetime, when: str) -> None:
    for cert in chain:
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        if not start <= moment <= end:
            state = f"it expired at {end.isoformat()}" if moment > end else "it is not yet valid"
            raise CertificateExpired(
                f"certificate {describe(cert)} is not valid {when} ({moment.isoformat()}): "
                f"{state}; valid from {start.isoformat()} to {end.isoformat()}"
            )


def _reason(entry: x509.RevokedCertificate) -> str:
    try:
        return str(entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value)
    except x509.ExtensionNotFound:
        return "unspecified"
