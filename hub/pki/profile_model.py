"""What a certificate profile says: one kind of London certificate, as data.

A ``CertificateProfile`` is one file of ``certs/profiles/`` after
``hub.pki.profile_loader`` has parsed and checked it: the key rules, the
validity, the subject and subjectAltName templates, and exactly the
extensions a certificate of that kind carries. ``ProfileSet`` holds the three
kinds the London PKI issues — the root CA, message signing and TLS (every
authority and the hub hold one of each). The same objects drive issuing
(``hub.pki.certificates``) and the receiver's checks (``hub.pki.profile``,
``hub.pki.trust``), so what is issued and what is required cannot drift.

The mappings below are the vocabulary a profile file may use: RFC 5280
§4.2.1.3 keyUsage bits, extended key usages (RFC 5280 §4.2.1.12, RFC 9336),
subject attributes, the SPEC §3 curves, and the fields of the templates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import IPv4Address, IPv6Address
from pathlib import PurePath
from types import MappingProxyType
from typing import Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from hub.pki.errors import PkiError

__all__ = [
    "CRL_DISTRIBUTION_PATH",
    "CURVES",
    "DOCUMENT_SIGNING",
    "EXTENDED_KEY_USAGES",
    "KEY_USAGES",
    "MIN_RSA_BITS",
    "SUBJECT_ATTRIBUTES",
    "TEMPLATE_FIELDS",
    "AltNameRule",
    "BasicConstraintsRule",
    "CertificateProfile",
    "ExtendedKeyUsageRule",
    "KeyRules",
    "KeyUsageRule",
    "Kind",
    "ProfileSet",
    "Purpose",
    "Validity",
    "is_dns_name",
    "key_description",
]

Kind = Literal["root", "signing", "tls"]
"""The certificate kinds, one profile file each: ``certs/profiles/<kind>.toml``
(the root's file is ``root-ca.toml``, like its certificate)."""

Purpose = Literal["signing", "tls"]
"""What a party certificate is for: message signing or mutual TLS, never both."""

DOCUMENT_SIGNING: Final = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""RFC 9336 id-kp-documentSigning: marks a certificate as a message signer."""

MIN_RSA_BITS: Final = 2048
"""SPEC §3: RSA keys must be at least 2048 bits; no profile may accept fewer."""

KEY_USAGES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "digitalSignature": "digital_signature",
        "contentCommitment": "content_commitment",
        "keyEncipherment": "key_encipherment",
        "dataEncipherment": "data_encipherment",
        "keyAgreement": "key_agreement",
        "keyCertSign": "key_cert_sign",
        "cRLSign": "crl_sign",
    }
)
"""RFC 5280 §4.2.1.3 bit names → ``x509.KeyUsage`` attributes. encipherOnly and
decipherOnly, which qualify keyAgreement for static Diffie-Hellman, are left
out: no London certificate uses them."""

EXTENDED_KEY_USAGES: Final[Mapping[str, x509.ObjectIdentifier]] = MappingProxyType(
    {
        "documentSigning": DOCUMENT_SIGNING,
        "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
        "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
        "codeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
        "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
        "timeStamping": ExtendedKeyUsageOID.TIME_STAMPING,
        "OCSPSigning": ExtendedKeyUsageOID.OCSP_SIGNING,
    }
)
"""Extended key usage names (RFC 5280 §4.2.1.12, RFC 9336 §3) → OIDs."""

SUBJECT_ATTRIBUTES: Final[Mapping[str, x509.ObjectIdentifier]] = MappingProxyType(
    {
        "C": NameOID.COUNTRY_NAME,
        "ST": NameOID.STATE_OR_PROVINCE_NAME,
        "L": NameOID.LOCALITY_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "CN": NameOID.COMMON_NAME,
    }
)
"""Subject attribute short names (RFC 4514 §3) → OIDs."""

CURVES: Final[Mapping[str, type[ec.EllipticCurve]]] = MappingProxyType(
    {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1}
)
"""SPEC §3: the only curves a London certificate may use."""

CRL_DISTRIBUTION_PATH: Final = "/v1/pki/crl"
"""The path of the hub's CRL distribution point (SPEC §4.2), the only one a profile may name."""

TEMPLATE_FIELDS: Final[Mapping[Kind, frozenset[str]]] = MappingProxyType(
    {
        "root": frozenset(),
        "signing": frozenset({"code", "name", "host"}),
        "tls": frozenset({"code", "name", "host"}),
    }
)
"""The ``{fields}`` a subject or subjectAltName template of each kind may use:
the party's GSS code (or ``HUB``), its name from ``hub.authorities`` and the
TLS host name (``--host``). The root names no party."""

# A DNS name as a certificate may carry it: ASCII labels, an optional leading
# wildcard label (RFC 6125 §6.4.3). Anything else is refused before signing.
_DNS_NAME: Final = re.compile(
    r"(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\Z"
)


def is_dns_name(text: str) -> bool:
    """True when ``text`` is a DNS name (or leading wildcard) a certificate can carry."""
    return _DNS_NAME.match(text) is not None


def key_description(key: CertificatePublicKeyTypes) -> str:
    """How people are told a key: ``ECDSA P-256``, ``RSA 3072``, or its type."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        name = next((n for n, c in CURVES.items() if isinstance(key.curve, c)), key.curve.name)
        return f"ECDSA {name}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    return type(key).__name__


@dataclass(frozen=True, slots=True)
class KeyRules:
    """``[key]``: the keys ``irthub pki`` generates and receivers accept."""

    curve: str
    """Curve of generated ECDSA keys (``--key-type ec``); one of ``accepted_curves``."""
    rsa_bits: int
    """Size of generated RSA keys (``--key-type rsa`` without ``--rsa-bits``)."""
    accepted_curves: tuple[str, ...]
    """ECDSA curves a receiver accepts, from ``CURVES``."""
    min_rsa_bits: int
    """Smallest RSA key a receiver accepts; never below ``MIN_RSA_BITS``."""

    def ec_curve(self) -> ec.EllipticCurve:
        """A fresh instance of the curve to generate keys on."""
        return CURVES[self.curve]()

    def problem(self, key: CertificatePublicKeyTypes) -> str | None:
        """Why ``key`` is not accepted, or ``None`` when it is."""
        curves = " and ".join(self.accepted_curves)
        if isinstance(key, ec.EllipticCurvePublicKey):
            if any(isinstance(key.curve, CURVES[name]) for name in self.accepted_curves):
                return None
            return f"an EC key on curve {key.curve.name}; only {curves} are allowed"
        if isinstance(key, rsa.RSAPublicKey):
            if key.key_size >= self.min_rsa_bits:
                return None
            return f"an RSA key of {key.key_size} bits; at least {self.min_rsa_bits} are required"
        return f"a {type(key).__name__}; only ECDSA {curves} and RSA of {self.min_rsa_bits}+ bits"


@dataclass(frozen=True, slots=True)
class Validity:
    """``[validity]``: how long a certificate of this kind is valid."""

    period: timedelta
    """From notBefore to notAfter, before backdating (``days``)."""
    backdate: timedelta
    """notBefore is this long before issue (``backdate_minutes``): the SPEC §2
    clock window, so a peer whose clock is behind accepts a certificate at once."""


@dataclass(frozen=True, slots=True)
class BasicConstraintsRule:
    """``[basic_constraints]`` (RFC 5280 §4.2.1.9)."""

    critical: bool
    ca: bool
    """True for a CA; a party certificate is never one."""
    path_length: int | None
    """pathLenConstraint of a CA: how many intermediates may sit below it."""

    def extension(self) -> x509.BasicConstraints:
        """The extension as issued."""
        return x509.BasicConstraints(ca=self.ca, path_length=self.path_length)


@dataclass(frozen=True, slots=True)
class KeyUsageRule:
    """``[key_usage]`` (RFC 5280 §4.2.1.3): names from ``KEY_USAGES``."""

    critical: bool
    issued: tuple[str, ...]
    """Bits every certificate of this kind is issued with."""
    issued_with_ec_key: tuple[str, ...]
    """Bits added when the key is ECDSA (keyAgreement, for ECDH in TLS)."""
    required: tuple[str, ...]
    """Bits a receiver insists on; always among ``issued``."""

    def extension(self, public_key: CertificatePublicKeyTypes) -> x509.KeyUsage:
        """The extension as issued for ``public_key``."""
        names = set(self.issued)
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            names.update(self.issued_with_ec_key)
        bits = {attribute: name in names for name, attribute in KEY_USAGES.items()}
        return x509.KeyUsage(**bits, encipher_only=False, decipher_only=False)

    def missing(self, usage: x509.KeyUsage | None) -> tuple[str, ...]:
        """The required bits ``usage`` (``None``: no extension) lacks."""
        return tuple(
            name for name in self.required if usage is None or not getattr(usage, KEY_USAGES[name])
        )


@dataclass(frozen=True, slots=True)
class ExtendedKeyUsageRule:
    """``[extended_key_usage]``: names from ``EXTENDED_KEY_USAGES``, all of them required."""

    critical: bool
    usages: tuple[str, ...]
    """In the order they are written into the certificate."""

    def oids(self) -> tuple[x509.ObjectIdentifier, ...]:
        """The OIDs of ``usages``, in order."""
        return tuple(EXTENDED_KEY_USAGES[name] for name in self.usages)

    def extension(self) -> x509.ExtendedKeyUsage:
        """The extension as issued."""
        return x509.ExtendedKeyUsage(list(self.oids()))


@dataclass(frozen=True, slots=True)
class AltNameRule:
    """``[subject_alt_name]``: templates of the names, in the order they are written."""

    critical: bool
    uri: tuple[str, ...]
    """URI templates, such as ``urn:lcpc:authority:{code}``."""
    dns: tuple[str, ...]
    """DNS name templates, such as ``{host}``; repeats are written once."""
    extra_dns: bool
    """Whether ``irthub pki issue --dns NAME`` may add DNS names after ``dns``."""
    ip: tuple[IPv4Address | IPv6Address, ...]
    """IP addresses, written last."""

    def general_names(
        self, fields: Mapping[str, str], extra_dns: Sequence[str], source: str
    ) -> list[x509.GeneralName]:
        """The names for a party with template ``fields`` and ``extra_dns``.

        Raises ``PkiError`` for extra names the profile (file ``source``) does
        not take, and for a name that is not a DNS name.
        """
        if extra_dns and not self.extra_dns:
            raise PkiError(
                f"{source} takes no extra DNS names (subject_alt_name.extra_dns is false): "
                f"{', '.join(extra_dns)}"
            )
        names = list(dict.fromkeys((*(t.format_map(fields) for t in self.dns), *extra_dns)))
        for name in names:
            if not is_dns_name(name):
                raise PkiError(f"{name!r} is not a DNS name a certificate can carry")
        return [
            *(x509.UniformResourceIdentifier(t.format_map(fields)) for t in self.uri),
            *map(x509.DNSName, names),
            *map(x509.IPAddress, self.ip),
        ]


@dataclass(frozen=True, slots=True)
class CertificateProfile:
    """One kind of certificate: everything it is issued with, and what receivers require."""

    kind: Kind
    source: str
    """The file it was read from, for messages."""
    subject: tuple[tuple[str, str], ...]
    """(attribute, template) pairs in order, attributes from ``SUBJECT_ATTRIBUTES``."""
    key: KeyRules
    validity: Validity
    basic_constraints: BasicConstraintsRule
    key_usage: KeyUsageRule
    extended_key_usage: ExtendedKeyUsageRule | None
    """``None``: the certificate carries no extendedKeyUsage."""
    subject_alt_name: AltNameRule | None
    """``None``: the certificate carries no subjectAltName."""
    subject_key_identifier: bool
    """Whether the certificate carries a subjectKeyIdentifier (RFC 5280 §4.2.1.2)."""
    authority_key_identifier: bool
    """Whether it carries its issuer's key identifier (RFC 5280 §4.2.1.1)."""
    crl_distribution_points: tuple[str, ...] = ()
    """Where the root's CRL is served (RFC 5280 §4.2.1.13), ``https`` URLs of
    the hub's ``/v1/pki/crl``; empty: the certificate carries none."""

    @property
    def file_name(self) -> str:
        """The name of the file without its folder, such as ``signing.toml``, for refusals
        that go on the wire (which must not reveal where the hub is installed)."""
        return PurePath(self.source).name

    def subject_name(self, fields: Mapping[str, str]) -> x509.Name:
        """The subject for a party with template ``fields`` (none for the root)."""
        return x509.Name(
            [
                x509.NameAttribute(SUBJECT_ATTRIBUTES[attribute], template.format_map(fields))
                for attribute, template in self.subject
            ]
        )

    def extension_oids(self) -> frozenset[x509.ObjectIdentifier]:
        """Exactly the extensions a certificate issued from this profile carries."""
        present = {
            ExtensionOID.BASIC_CONSTRAINTS: True,
            ExtensionOID.KEY_USAGE: True,
            ExtensionOID.EXTENDED_KEY_USAGE: self.extended_key_usage is not None,
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME: self.subject_alt_name is not None,
            ExtensionOID.SUBJECT_KEY_IDENTIFIER: self.subject_key_identifier,
            ExtensionOID.AUTHORITY_KEY_IDENTIFIER: self.authority_key_identifier,
            ExtensionOID.CRL_DISTRIBUTION_POINTS: bool(self.crl_distribution_points),
        }
        return frozenset(oid for oid, is_present in present.items() if is_present)


@dataclass(frozen=True, slots=True)
class ProfileSet:
    """The London PKI's three profiles, checked against each other by the loader."""

    root: CertificateProfile
    """The root CA: ``root-ca.toml``; every issuer in a path is checked against it."""
    signing: CertificateProfile
    """Message signing, for every authority and the hub: ``signing.toml``."""
    tls: CertificateProfile
    """Mutual TLS, server and client in one certificate: ``tls.toml``."""

    def party(self, purpose: Purpose) -> CertificateProfile:
        """The profile of party certificates for ``purpose``."""
        return self.signing if purpose == "signing" else self.tls

    def all(self) -> tuple[CertificateProfile, ...]:
        """Root, signing and TLS, in that order."""
        return (self.root, self.signing, self.tls)

    def foreign_usages(self, purpose: Purpose) -> tuple[str, ...]:
        """Extended key usages of the other party profiles, which ``purpose``'s must not carry.

        Purposes are exclusive: a certificate that carries another purpose's
        usage could be used for it, so its key would not be separate.
        """
        own = set(_usages(self.party(purpose)))
        other = self.party("tls" if purpose == "signing" else "signing")
        return tuple(name for name in _usages(other) if name not in own)


def _usages(profile: CertificateProfile) -> tuple[str, ...]:
    rule = profile.extended_key_usage
    return () if rule is None else rule.usages
