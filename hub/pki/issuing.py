"""The development CA: ``irthub pki init``, ``issue``, ``revoke`` and ``crl`` on a PKI directory.

Every certificate is issued from its profile in ``certs/profiles/`` (keys,
validity, extensions; ``profiles`` defaults to the packaged ones).
``init_pki`` makes the London root CA, a message-signing and a separate TLS
certificate (each with its own key) for the 33 authorities and the hub, and
CRL number 1; ``reissue`` rotates one certificate (or makes a test
certificate with any validity); ``revoke`` and ``write_crl`` keep the CRL
current. Every certificate and revocation is recorded in ``serials.json``
(``hub.pki.registry``) so the CRL can always be rebuilt. The certificates
themselves are built by ``hub.pki.certificates``; the builders most callers
need, ``new_key`` and ``issue_certificate``, are re-exported here.

Production authorities get their certificates from the LCPC's real CA; this
module exists so that the demo, the tests and integrators have a faithful PKI
on any machine without network access. Every time is an argument: the CLI
passes the clock's ``now``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hub.authorities import PARTIES
from hub.files import PUBLIC_MODE, write_file
from hub.identifiers import AuthorityCode
from hub.pki.certificates import (
    DEFAULT_TLS_HOST,
    REVOCATION_REASONS,
    KeyType,
    PrivateKey,
    PublicKey,
    Revocation,
    build_crl,
    issue_certificate,
    issue_root,
    new_key,
)
from hub.pki.errors import PkiError
from hub.pki.layout import PkiLayout, write_private_key, write_public_file
from hub.pki.profile_loader import default_profiles
from hub.pki.profile_model import ProfileSet, Purpose
from hub.pki.registry import IssuedRecord, Registry, parse_serial

__all__ = [
    "CRL_VALIDITY",
    "REVOCATION_REASONS",
    "init_pki",
    "is_encrypted_key",
    "issue_certificate",
    "load_ca",
    "load_registry",
    "new_key",
    "reissue",
    "revoke",
    "write_crl",
]

CRL_VALIDITY: Final = timedelta(days=7)
"""Default gap between a CRL's thisUpdate and nextUpdate (``--next-update-days``)."""

_PURPOSES: tuple[Purpose, ...] = ("signing", "tls")


def init_pki(
    layout: PkiLayout,
    *,
    now: datetime,
    key_type: KeyType = "ec",
    rsa_bits: int | None = None,
    force: bool = False,
    host: str = DEFAULT_TLS_HOST,
    progress: Callable[[int, IssuedRecord], None] | None = None,
    profiles: ProfileSet | None = None,
) -> Registry:
    """Create the root CA, every party's signing and TLS certificates, and CRL number 1.

    Keys are ``key_type`` (RSA of ``rsa_bits``, default each profile's);
    validity and extensions are each profile's. ``progress`` is told each
    party certificate as it is written, with the count so far. Raises
    ``PkiError`` when a CA already exists in the directory and ``force`` is
    false, for a key a profile does not accept, and when a file cannot be
    written; ``ProfileInvalid`` for a broken profile.
    """
    _check_time(now)
    profiles = profiles or default_profiles()
    if layout.has_ca() and not force:
        raise PkiError(
            f"{layout.root} already holds a CA ({layout.root_cert.name}, {layout.registry.name}); "
            "pass --force to replace it and every certificate in it"
        )
    root_profile = profiles.root
    root_key = new_key(key_type, rsa_bits=rsa_bits, rules=root_profile.key)
    root = issue_root(
        root_key,
        not_before=now - root_profile.validity.backdate,
        not_after=now + root_profile.validity.period,
        profile=root_profile,
    )
    with _writing(layout.root):
        layout.root.mkdir(parents=True, exist_ok=True)
        if layout.crl_history.exists():
            # The replaced root's CRLs restart at number 1 under the new root;
            # the old ones are kept aside (with the old root they still prove
            # what was revoked), never overwritten.
            layout.crl_history.rename(
                layout.root / f"crl-before-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
            )
        write_private_key(layout.root_key, _pem_key(root_key))
        write_public_file(layout.root_cert, root.public_bytes(serialization.Encoding.PEM))
    registry = Registry(issued=(IssuedRecord.of(root, "root", None),))
    for code in PARTIES:
        for purpose in _PURPOSES:
            profile = profiles.party(purpose)
            key = new_key(key_type, rsa_bits=rsa_bits, rules=profile.key)
            cert = issue_certificate(
                root,
                root_key,
                party=code,
                kind=purpose,
                public_key=key.public_key(),
                not_before=now - profile.validity.backdate,
                not_after=now + profile.validity.period,
                host=host,
                profiles=profiles,
            )
            _write_pair(layout.key(code, purpose), layout.cert(code, purpose), key, cert)
            record = IssuedRecord.of(cert, purpose, code)
            registry = registry.with_issued(record)
            if progress is not None:
                progress(len(registry.issued) - 1, record)
    registry, _ = _publish_crl(layout, root, root_key, registry, now, CRL_VALIDITY)
    return registry


def reissue(
    layout: PkiLayout,
    *,
    party: str,
    kind: Purpose,
    now: datetime,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int | None = None,
    dns_names: Sequence[str] = (),
    host: str = DEFAULT_TLS_HOST,
    key_type: KeyType = "ec",
    rsa_bits: int | None = None,
    out_dir: Path | None = None,
    profiles: ProfileSet | None = None,
    public_key: PublicKey | None = None,
    password: bytes | None = None,
) -> IssuedRecord:
    """Issue ``party`` a new ``kind`` certificate with a fresh key and record it.

    With ``public_key`` (from a borough's CSR, ``hub.pki.csr``) no key is
    made: only the certificate is written, and the private key never leaves
    the borough. ``password`` decrypts an encrypted root key. The files
    replace ``<CODE>/<kind>.pem`` and ``.key``, or go to ``out_dir/<kind>.pem``
    and ``.key`` when given (test certificates that must not displace the party's
    own). Validity is ``not_before`` (default
    now minus the profile's backdating) to ``not_after``, or ``days`` from
    now (default the profile's validity). The old certificate stays valid
    until revoked. Raises ``PkiError`` for an unknown party, an empty window,
    both ``days`` and ``not_after``, a key the profile does not accept, or a
    directory without a CA.
    """
    _check_time(now)
    profiles = profiles or default_profiles()
    profile = profiles.party(kind)
    code = _party(party)
    if days is not None and not_after is not None:
        raise PkiError("give either a validity in days or an explicit notAfter, not both")
    if days is not None and days < 1:
        raise PkiError(f"validity must be at least one day, not {days}")
    root, root_key = load_ca(layout, password=password)
    registry = load_registry(layout)
    key: PrivateKey | None = None
    if public_key is None:
        key = new_key(key_type, rsa_bits=rsa_bits, rules=profile.key)
        public_key = key.public_key()
    period = timedelta(days=days) if days else profile.validity.period
    cert = issue_certificate(
        root,
        root_key,
        party=code,
        kind=kind,
        public_key=public_key,
        not_before=not_before or now - profile.validity.backdate,
        not_after=not_after or now + period,
        host=host,
        dns_names=dns_names,
        profiles=profiles,
    )
    if out_dir is None:
        key_path, cert_path = layout.key(code, kind), layout.cert(code, kind)
    else:
        key_path, cert_path = out_dir / f"{kind}.key", out_dir / f"{kind}.pem"
    if key is None:
        with _writing(cert_path):
            cert_path.parent.mkdir(parents=True, exist_ok=True)
            write_public_file(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    else:
        _write_pair(key_path, cert_path, key, cert)
    record = IssuedRecord.of(cert, kind, code)
    _save_registry(layout, registry.with_issued(record))
    return record


def revoke(
    layout: PkiLayout,
    serial: int | str,
    *,
    now: datetime,
    reason: str = "unspecified",
    next_update: timedelta = CRL_VALIDITY,
    password: bytes | None = None,
) -> x509.CertificateRevocationList:
    """Revoke the party certificate ``serial`` (an int, or hex text) and write a new CRL.

    ``password`` decrypts an encrypted root key.

    ``reason`` is an RFC 5280 name such as ``keyCompromise``. Raises
    ``PkiError`` for an unknown serial or reason, the root itself, or a
    certificate already revoked.
    """
    _check_time(now)
    number = parse_serial(serial) if isinstance(serial, str) else serial
    flag = REVOCATION_REASONS.get(reason)
    if flag is None:
        raise PkiError(
            f"unknown revocation reason {reason!r}; one of {', '.join(REVOCATION_REASONS)}"
        )
    root, root_key = load_ca(layout, password=password)
    registry = load_registry(layout)
    record = registry.find(number)
    if record is None:
        raise PkiError(
            f"no certificate with serial {number:x} was issued by the CA in {layout.root}"
        )
    if record.kind == "root":
        raise PkiError(
            "the root CA cannot be revoked by its own CRL; replace the PKI with init --force"
        )
    earlier = registry.revocation(number)
    if earlier is not None:
        raise PkiError(
            f"certificate {number:x} was already revoked at {earlier.revoked_at.isoformat()} "
            f"({earlier.reason.value})"
        )
    # The CRL keeps whole seconds; the registry says the same instant.
    revoked_at = now.replace(microsecond=0)
    registry = registry.with_revocation(
        Revocation(serial=number, revoked_at=revoked_at, reason=flag)
    )
    _, crl = _publish_crl(layout, root, root_key, registry, now, next_update)
    return crl


def write_crl(
    layout: PkiLayout,
    *,
    now: datetime,
    next_update: timedelta = CRL_VALIDITY,
    password: bytes | None = None,
) -> x509.CertificateRevocationList:
    """Write the root's next CRL, listing every revocation, valid for ``next_update``.

    ``password`` decrypts an encrypted root key.

    Raises ``PkiError`` when ``next_update`` is not positive or there is no CA.
    """
    _check_time(now)
    root, root_key = load_ca(layout, password=password)
    _, crl = _publish_crl(layout, root, root_key, load_registry(layout), now, next_update)
    return crl


def load_ca(
    layout: PkiLayout, *, password: bytes | None = None
) -> tuple[x509.Certificate, PrivateKey]:
    """The root certificate and key of ``layout``; raise ``PkiError`` if absent or unusable.

    ``password`` decrypts an encrypted key (PKCS#8 ``ENCRYPTED PRIVATE KEY``);
    an encrypted key without it, or with the wrong one, is a ``PkiError``
    saying so.
    """
    try:
        cert = x509.load_pem_x509_certificate(layout.root_cert.read_bytes())
        key_pem = layout.root_key.read_bytes()
        if password is None and is_encrypted_key(key_pem):
            raise PkiError(
                f"{layout.root_key} is encrypted: give its password "
                "(--key-password-env VAR, or type it when asked)"
            )
        key = serialization.load_pem_private_key(key_pem, password=password)
    except FileNotFoundError as exc:
        raise PkiError(
            f"no CA in {layout.root} ({exc.filename} is missing); run init first"
        ) from exc
    except (OSError, ValueError, TypeError) as exc:
        hint = " (is the password right?)" if password is not None else ""
        raise PkiError(f"cannot load the root CA from {layout.root}: {exc}{hint}") from exc
    if not isinstance(key, PrivateKey) or key.public_key() != cert.public_key():
        raise PkiError(f"{layout.root_key} is not the private key of {layout.root_cert}")
    return cert, key


def is_encrypted_key(pem: bytes) -> bool:
    """True when ``pem`` is an encrypted private key (PKCS#8, or legacy PEM encryption)."""
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem or b"Proc-Type: 4,ENCRYPTED" in pem


def load_registry(layout: PkiLayout) -> Registry:
    """The ``serials.json`` of ``layout``; raise ``PkiError`` if absent or unreadable."""
    try:
        data = layout.registry.read_bytes()
    except OSError as exc:
        raise PkiError(f"cannot read {layout.registry}: {exc.strerror}; run init first") from exc
    return Registry.from_json(data, source=str(layout.registry))


def _publish_crl(
    layout: PkiLayout,
    root: x509.Certificate,
    root_key: PrivateKey,
    registry: Registry,
    now: datetime,
    next_update: timedelta,
) -> tuple[Registry, x509.CertificateRevocationList]:
    if next_update <= timedelta(0):
        raise PkiError(f"a CRL must be valid for some time, not {next_update}")
    # The number is saved before the CRL is written: a crash in between skips
    # a number, which is harmless, instead of reusing one, which is not.
    registry = registry.with_next_crl_number()
    _save_registry(layout, registry)
    crl = build_crl(
        root,
        root_key,
        registry.revoked,
        number=registry.crl_number,
        this_update=now,
        next_update=now + next_update,
    )
    pem = crl.public_bytes(serialization.Encoding.PEM)
    # The numbered copy first: crl.pem never names a CRL the history lacks.
    numbered = layout.numbered_crl(registry.crl_number)
    with _writing(numbered):
        numbered.parent.mkdir(mode=0o755, exist_ok=True)
        write_file(numbered, pem, mode=PUBLIC_MODE, overwrite=False)
    with _writing(layout.crl):
        write_public_file(layout.crl, pem)
    return registry, crl


def _save_registry(layout: PkiLayout, registry: Registry) -> None:
    with _writing(layout.registry):
        write_public_file(layout.registry, registry.to_json())


def _write_pair(key_path: Path, cert_path: Path, key: PrivateKey, cert: x509.Certificate) -> None:
    with _writing(key_path.parent):
        key_path.parent.mkdir(parents=True, exist_ok=True)
        write_private_key(key_path, _pem_key(key))
        write_public_file(cert_path, cert.public_bytes(serialization.Encoding.PEM))


def _pem_key(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _party(text: str) -> AuthorityCode:
    if text not in PARTIES:
        raise PkiError(f"{text!r} is not a London authority code (E09000001-E09000033) or HUB")
    return AuthorityCode(text)


def _check_time(now: datetime) -> None:
    if now.tzinfo is None:
        raise PkiError("the CA needs time-zone aware times (UTC)")


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise PkiError(f"cannot write {exc.filename or path}: {exc.strerror or exc}") from exc
