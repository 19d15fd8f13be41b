"""The checks the certificate profiles imply (docs/pki.md), as receivers run them.

One root, "London IRT Root CA", issues every party two end-entity
certificates with separate keys: one for message signing (RFC 9336
``id-kp-documentSigning``) and one for mutual TLS (serverAuth + clientAuth).
What each contains is data: ``certs/profiles/*.toml``, read by
``hub.pki.profile_loader`` into a ``ProfileSet``. The checks here are derived
from those profiles, so what ``irthub pki`` issues and what a receiver
requires cannot drift:

- ``check_purpose``: the leaf carries every extended key usage of its
  purpose's profile, none that only the other party profile carries, and the
  profile's required keyUsage bits;
- ``check_key``: the key is one the profile accepts;
- ``authority_of``: the certificate names one authority, the same by subject
  ``OU`` and SAN URI ``urn:lcpc:authority:<code>`` (the loader refuses a party
  profile that does not name it both ways).
"""

from __future__ import annotations

from typing import Final

from cryptography import x509
from cryptography.x509.oid import NameOID

from hub.errors import SchemaInvalid, SenderMismatch, UntrustedCertificate
from hub.identifiers import AUTHORITY_URN_PREFIX, AuthorityCode, parse_authority
from hub.pki.profile_model import (
    DOCUMENT_SIGNING,
    EXTENDED_KEY_USAGES,
    CertificateProfile,
    KeyRules,
    ProfileSet,
    Purpose,
)

__all__ = [
    "DOCUMENT_SIGNING",
    "Purpose",
    "authority_of",
    "check_key",
    "check_purpose",
    "describe",
]

_WHAT: Final[dict[Purpose, str]] = {"signing": "a message-signing", "tls": "a TLS"}


def authority_of(cert: x509.Certificate) -> AuthorityCode:
    """The authority a certificate names, by subject ``OU`` and SAN URI together.

    Raises ``SenderMismatch`` when it names none, several, two different ones,
    or a code that is not a London authority: such a certificate cannot speak
    for any sender (docs/pki.md, "Which authority a certificate names").
    """
    try:
        subject_codes = {
            str(attribute.value)
            for attribute in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        }
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    except ValueError as exc:
        # cryptography parses names and extensions lazily; a corrupt one names no one.
        raise SenderMismatch(
            f"certificate (serial {cert.serial_number:x}) has an unreadable name: {exc}"
        ) from exc
    uri_codes = {
        uri.removeprefix(AUTHORITY_URN_PREFIX)
        for uri in uris
        if uri.startswith(AUTHORITY_URN_PREFIX)
    }
    if len(uri_codes) != 1:
        raise SenderMismatch(
            f"certificate {describe(cert)} names {len(uri_codes)} authorities by SAN URI "
            f"{AUTHORITY_URN_PREFIX}<code>; exactly one is required"
        )
    (code,) = uri_codes
    if subject_codes != {code}:
        found = ", ".join(sorted(subject_codes)) or "missing"
        raise SenderMismatch(
            f"certificate {describe(cert)} has SAN URI {AUTHORITY_URN_PREFIX}{code} but subject "
            f"OU {found}; both must name the same authority"
        )
    try:
        return parse_authority(code)
    except SchemaInvalid as exc:
        raise SenderMismatch(f"certificate {describe(cert)}: {exc.reason}") from exc


def check_purpose(cert: x509.Certificate, purpose: Purpose, profiles: ProfileSet) -> None:
    """Raise ``UntrustedCertificate`` unless ``cert`` fits the party profile of ``purpose``.

    It must carry every extended key usage of that profile and none that only
    the other party profile carries (keeping the usages apart is what keeps
    the signing and TLS keys apart), and every keyUsage bit the profile
    requires.
    """
    profile = profiles.party(purpose)
    try:
        carried = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        carried = set()
    rule = profile.extended_key_usage
    required = rule.usages if rule is not None else ()
    foreign = profiles.foreign_usages(purpose)
    missing = [n for n in required if _oid(n) not in carried]
    wrong = [n for n in foreign if _oid(n) in carried]
    if missing or wrong:
        raise UntrustedCertificate(
            f"certificate {describe(cert)} is not {_WHAT[purpose]} certificate: "
            f"{_needs(required, foreign)} ({profile.file_name}); "
            f"{_found(missing, wrong)}"
        )
    try:
        key_usage: x509.KeyUsage | None = cert.extensions.get_extension_for_class(
            x509.KeyUsage
        ).value
    except x509.ExtensionNotFound:
        key_usage = None
    lacking = profile.key_usage.missing(key_usage)
    if lacking:
        raise UntrustedCertificate(
            f"certificate {describe(cert)} is not {_WHAT[purpose]} certificate: "
            f"its key usage lacks {', '.join(lacking)} ({profile.file_name})"
        )


def check_key(cert: x509.Certificate, profile: CertificateProfile | KeyRules) -> None:
    """Raise ``UntrustedCertificate`` unless ``profile`` accepts the certificate's key."""
    rules = profile.key if isinstance(profile, CertificateProfile) else profile
    problem = rules.problem(cert.public_key())
    if problem is not None:
        raise UntrustedCertificate(f"certificate {describe(cert)} has {problem}")


def describe(cert: x509.Certificate) -> str:
    """How error messages name a certificate: its subject and hex serial."""
    return f"{cert.subject.rfc4514_string()!r} (serial {cert.serial_number:x})"


def _oid(name: str) -> x509.ObjectIdentifier:
    return EXTENDED_KEY_USAGES[name]


def _needs(required: tuple[str, ...], foreign: tuple[str, ...]) -> str:
    text = "it needs extended key usage " + " and ".join(
        f"{n} ({_oid(n).dotted_string})" if _oid(n) == DOCUMENT_SIGNING else n for n in required
    )
    return text + (f", without {' or '.join(foreign)}" if foreign else "")


def _found(missing: list[str], wrong: list[str]) -> str:
    parts = [f"{' and '.join(missing)} missing"] if missing else []
    parts += [f"{' and '.join(wrong)} present"] if wrong else []
    return ", ".join(parts)
