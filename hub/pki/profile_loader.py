"""Reading the certificate profiles: ``certs/profiles/*.toml`` into a checked ``ProfileSet``.

The one parser for profile files. Each file is one kind of certificate
(``PROFILE_FILES``); its tables are those of ``certs/README.md``::

    subject = [["C", "GB"], ["O", "{name}"], ...]
    [key]                  curve, rsa_bits, accepted_curves, min_rsa_bits
    [validity]             days, backdate_minutes
    [basic_constraints]    critical, ca, path_length (a CA only)
    [key_usage]            critical, issued, issued_with_ec_key, required
    [extended_key_usage]   critical, usages            (party certificates only)
    [subject_alt_name]     critical, uri, dns, extra_dns, ip   (party certificates only)
    [key_identifiers]      subject, authority
    [crl_distribution_points]  uri: https URLs of the hub's /v1/pki/crl (party only, optional)

Everything is checked here, once: unknown keys, types, names outside the
vocabularies of ``hub.pki.profile_model``, and the rules the trust store
relies on (the root is a CA that may sign certificates and CRLs; a party
certificate is not a CA, names its authority by subject ``OU={code}`` and SAN
URI ``urn:lcpc:authority:{code}``, and the signing and TLS profiles share no
extended key usage). A refusal is ``ProfileInvalid`` reading
``<file>: <table>.<key>: <what is wrong>``.
"""

from __future__ import annotations

import functools
import importlib.resources
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib.resources.abc import Traversable
from ipaddress import IPv4Address, IPv6Address, ip_address
from types import MappingProxyType
from typing import Final, NoReturn
from urllib.parse import urlsplit

from hub.identifiers import AUTHORITY_URN_PREFIX
from hub.pki.errors import ProfileInvalid
from hub.pki.profile_model import (
    CRL_DISTRIBUTION_PATH,
    CURVES,
    EXTENDED_KEY_USAGES,
    KEY_USAGES,
    MIN_RSA_BITS,
    SUBJECT_ATTRIBUTES,
    TEMPLATE_FIELDS,
    AltNameRule,
    BasicConstraintsRule,
    CertificateProfile,
    ExtendedKeyUsageRule,
    KeyRules,
    KeyUsageRule,
    Kind,
    ProfileSet,
    Validity,
    is_dns_name,
)

__all__ = ["PROFILE_FILES", "default_profiles", "load_profile", "load_profiles"]

PROFILE_FILES: Final[Mapping[Kind, str]] = MappingProxyType(
    {"root": "root-ca.toml", "signing": "signing.toml", "tls": "tls.toml"}
)
"""The file of each kind, in the profile folder."""

_PACKAGE: Final = "certs"
_FOLDER: Final = "profiles"
_AUTHORITY_URI: Final = AUTHORITY_URN_PREFIX + "{code}"
# Template values used only to check that a profile's subject can be built.
_SAMPLE_FIELDS: Final = MappingProxyType(
    {"code": "E09000001", "name": "City of London", "host": "localhost"}
)


@functools.cache
def default_profiles() -> ProfileSet:
    """The profiles shipped in the ``certs`` package (``certs/profiles/``), loaded on first use.

    Raises ``ProfileInvalid`` as ``load_profiles`` does.
    """
    return load_profiles(importlib.resources.files(_PACKAGE) / _FOLDER)


def load_profiles(folder: Traversable) -> ProfileSet:
    """Read and check the three profile files in ``folder``.

    Raises ``ProfileInvalid`` naming the file (and key) when one is missing,
    unreadable or wrong, when ``folder`` holds a ``.toml`` file that is not a
    profile, or when the signing and TLS profiles share an extended key usage.
    """
    known = set(PROFILE_FILES.values())
    try:
        strays = sorted(
            entry.name
            for entry in folder.iterdir()
            if entry.name.endswith(".toml") and entry.name not in known
        )
    except OSError as exc:
        raise ProfileInvalid(f"cannot list profile folder {folder}: {exc}") from exc
    if strays:
        raise ProfileInvalid(
            f"{folder / strays[0]}: not a certificate profile; the profiles are "
            f"{', '.join(PROFILE_FILES.values())}"
        )
    profiles = ProfileSet(
        root=load_profile(folder / PROFILE_FILES["root"], "root"),
        signing=load_profile(folder / PROFILE_FILES["signing"], "signing"),
        tls=load_profile(folder / PROFILE_FILES["tls"], "tls"),
    )
    shared = set(_eku(profiles.signing)) & set(_eku(profiles.tls))
    if shared:
        raise ProfileInvalid(
            f"{profiles.tls.source}: extended_key_usage.usages: {', '.join(sorted(shared))} is "
            f"also a usage of {profiles.signing.source}; signing and TLS certificates must "
            "share none, or a receiver cannot tell their keys apart"
        )
    return profiles


def load_profile(path: Traversable, kind: Kind) -> CertificateProfile:
    """Read and check one profile file of ``kind``.

    Raises ``ProfileInvalid`` naming ``path`` and the key at fault.
    """
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProfileInvalid(f"{source}: the {kind} certificate profile is missing") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileInvalid(f"{source}: cannot read the profile: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileInvalid(f"{source}: not valid TOML: {exc}") from exc
    top = _Table(source, "", data)
    top.only(
        "subject", "key", "validity", "basic_constraints", "key_usage",
        "extended_key_usage", "subject_alt_name", "key_identifiers", "crl_distribution_points",
    )  # fmt: skip
    party = kind != "root"
    identifiers = top.table("key_identifiers")
    identifiers.only("subject", "authority")
    profile = CertificateProfile(
        kind=kind,
        source=source,
        subject=_subject(top, kind),
        key=_key(top.table("key")),
        validity=_validity(top.table("validity")),
        basic_constraints=_basic_constraints(top.table("basic_constraints"), ca=not party),
        key_usage=_key_usage(top.table("key_usage"), ca=not party),
        extended_key_usage=_extended_key_usage(top, party=party),
        subject_alt_name=_subject_alt_name(top, kind),
        subject_key_identifier=identifiers.boolean("subject"),
        authority_key_identifier=identifiers.boolean("authority"),
        crl_distribution_points=_distribution_points(top, party=party),
    )
    try:
        profile.subject_name(_SAMPLE_FIELDS)
    except ValueError as exc:
        top.fail("subject", f"cannot be a certificate subject: {exc}")
    return profile


@dataclass(frozen=True, slots=True)
class _Table:
    """One TOML table of a profile file, with the path that error messages need."""

    source: str
    prefix: str
    data: Mapping[str, object]

    def fail(self, key: str, reason: str) -> NoReturn:
        """Raise ``ProfileInvalid`` naming the file and ``key`` of this table."""
        raise ProfileInvalid(f"{self.source}: {self.prefix}{key}: {reason}")

    def only(self, *keys: str) -> None:
        """Refuse any key but ``keys``: a misspelt key must not be silently ignored."""
        for key in self.data:
            if key not in keys:
                self.fail(key, f"unknown key; this table takes {', '.join(keys)}")

    def has(self, key: str) -> bool:
        return key in self.data

    def value(self, key: str, kind: type, what: str) -> object:
        """The value of ``key``, which must be present and of ``kind`` (``what``, for people)."""
        if key not in self.data:
            self.fail(key, f"missing; {what} is required")
        value = self.data[key]
        # bool is an int in Python, never in a profile.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(key, f"must be {what}, not {value!r}")
        return value

    def table(self, key: str) -> _Table:
        value = self.value(key, dict, "a table")
        assert isinstance(value, dict)
        return _Table(self.source, f"{self.prefix}{key}.", value)

    def boolean(self, key: str, default: bool | None = None) -> bool:
        if default is not None and key not in self.data:
            return default
        return bool(self.value(key, bool, "true or false"))

    def integer(self, key: str, *, minimum: int) -> int:
        value = self.value(key, int, "an integer")
        assert isinstance(value, int)
        if value < minimum:
            self.fail(key, f"must be at least {minimum}, not {value}")
        return value

    def strings(self, key: str, *, optional: bool = False) -> tuple[str, ...]:
        if optional and key not in self.data:
            return ()
        value = self.value(key, list, "a list of strings")
        assert isinstance(value, list)
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.fail(f"{key}[{index}]", f"must be a string, not {item!r}")
        return tuple(value)

    def names(
        self, key: str, vocabulary: Mapping[str, object], what: str, *, optional: bool = False
    ) -> tuple[str, ...]:
        """A list of names from ``vocabulary``, each once."""
        names = self.strings(key, optional=optional)
        for index, name in enumerate(names):
            if name not in vocabulary:
                self.fail(
                    f"{key}[{index}]",
                    f"{name!r} is not {what}; one of {', '.join(vocabulary)}",
                )
            if name in names[:index]:
                self.fail(f"{key}[{index}]", f"{name} is listed twice")
        return names


def _subject(top: _Table, kind: Kind) -> tuple[tuple[str, str], ...]:
    pairs = top.value("subject", list, 'a list of ["attribute", "value"] pairs')
    assert isinstance(pairs, list)
    if not pairs:
        top.fail("subject", "is empty; a certificate needs a subject")
    subject: list[tuple[str, str]] = []
    for index, pair in enumerate(pairs):
        key = f"subject[{index}]"
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            top.fail(key, f'must be a pair ["attribute", "value"], not {pair!r}')
        attribute, template = pair
        if attribute not in SUBJECT_ATTRIBUTES:
            top.fail(
                key, f"{attribute!r} is not an attribute; one of {', '.join(SUBJECT_ATTRIBUTES)}"
            )
        _check_template(top, key, template, kind)
        subject.append((attribute, template))
    if kind != "root" and [t for a, t in subject if a == "OU"] != ["{code}"]:
        top.fail(
            "subject",
            'a party certificate names its authority by exactly one ["OU", "{code}"]; '
            "the trust store reads it (docs/pki.md, step 7)",
        )
    return tuple(subject)


def _key(table: _Table) -> KeyRules:
    table.only("curve", "rsa_bits", "accepted_curves", "min_rsa_bits")
    accepted = table.names("accepted_curves", CURVES, "a curve SPEC §3 allows")
    if not accepted:
        table.fail("accepted_curves", "is empty; at least one curve must be accepted")
    curve = table.value("curve", str, "a curve name")
    if curve not in accepted:
        table.fail("curve", f"{curve!r} is not one of accepted_curves ({', '.join(accepted)})")
    minimum = table.integer("min_rsa_bits", minimum=MIN_RSA_BITS)
    return KeyRules(
        curve=str(curve),
        rsa_bits=table.integer("rsa_bits", minimum=minimum),
        accepted_curves=accepted,
        min_rsa_bits=minimum,
    )


def _validity(table: _Table) -> Validity:
    table.only("days", "backdate_minutes")
    period = timedelta(days=table.integer("days", minimum=1))
    backdate = timedelta(minutes=table.integer("backdate_minutes", minimum=0))
    if backdate >= period:
        table.fail("backdate_minutes", "must be shorter than the validity")
    return Validity(period=period, backdate=backdate)


def _basic_constraints(table: _Table, *, ca: bool) -> BasicConstraintsRule:
    table.only("critical", "ca", "path_length")
    if table.boolean("ca") != ca:
        what = "the root is a CA" if ca else "a party certificate is never a CA"
        table.fail("ca", f"must be {str(ca).lower()}: {what}")
    if ca:
        path_length: int | None = table.integer("path_length", minimum=0)
    elif table.has("path_length"):
        table.fail("path_length", "only a CA has a pathLenConstraint")
    else:
        path_length = None
    return BasicConstraintsRule(critical=table.boolean("critical"), ca=ca, path_length=path_length)


def _key_usage(table: _Table, *, ca: bool) -> KeyUsageRule:
    table.only("critical", "issued", "issued_with_ec_key", "required")
    issued = table.names("issued", KEY_USAGES, "a key usage")
    with_ec = table.names("issued_with_ec_key", KEY_USAGES, "a key usage", optional=True)
    required = table.names("required", KEY_USAGES, "a key usage")
    for index, name in enumerate(required):
        if name not in issued:
            table.fail(f"required[{index}]", f"{name} is required but not issued")
    signs = {"keyCertSign", "cRLSign"}
    if ca and not signs <= set(issued):
        table.fail("issued", "the root signs certificates and CRLs: keyCertSign and cRLSign")
    if ca and "keyCertSign" not in required:
        table.fail("required", "receivers require keyCertSign of every issuer")
    if not ca and signs & {*issued, *with_ec}:
        table.fail("issued", "a party certificate signs neither certificates nor CRLs")
    return KeyUsageRule(
        critical=table.boolean("critical"),
        issued=issued,
        issued_with_ec_key=with_ec,
        required=required,
    )


def _extended_key_usage(top: _Table, *, party: bool) -> ExtendedKeyUsageRule | None:
    if not party:
        if top.has("extended_key_usage"):
            top.fail("extended_key_usage", "the root CA carries none")
        return None
    table = top.table("extended_key_usage")
    table.only("critical", "usages")
    usages = table.names("usages", EXTENDED_KEY_USAGES, "an extended key usage")
    if not usages:
        table.fail("usages", "is empty; receivers tell signing and TLS certificates apart by it")
    return ExtendedKeyUsageRule(critical=table.boolean("critical"), usages=usages)


def _distribution_points(top: _Table, *, party: bool) -> tuple[str, ...]:
    if not top.has("crl_distribution_points"):
        return ()
    table = top.table("crl_distribution_points")
    if not party:
        top.fail("crl_distribution_points", "the root CA is not covered by its own CRL")
    table.only("uri")
    uris = table.strings("uri")
    for index, uri in enumerate(uris):
        parts = urlsplit(uri)
        if parts.scheme != "https" or not parts.hostname or parts.path != CRL_DISTRIBUTION_PATH:
            table.fail(
                f"uri[{index}]",
                f"{uri!r} is not an https URL of the hub's {CRL_DISTRIBUTION_PATH}, where the "
                "hub serves the CRL in force (SPEC §4.2)",
            )
    return uris


def _subject_alt_name(top: _Table, kind: Kind) -> AltNameRule | None:
    if kind == "root":
        if top.has("subject_alt_name"):
            top.fail("subject_alt_name", "the root CA carries none")
        return None
    table = top.table("subject_alt_name")
    table.only("critical", "uri", "dns", "extra_dns", "ip")
    uris = table.strings("uri")
    dns = table.strings("dns", optional=True)
    for key, templates in (("uri", uris), ("dns", dns)):
        for index, template in enumerate(templates):
            _check_template(table, f"{key}[{index}]", template, kind)
    if [u for u in uris if u.startswith(AUTHORITY_URN_PREFIX)] != [_AUTHORITY_URI]:
        table.fail(
            "uri",
            f"a party certificate names its authority by exactly one {_AUTHORITY_URI!r}; "
            "the trust store reads it (docs/pki.md, step 7)",
        )
    for index, name in enumerate(dns):
        if "{" not in name and not is_dns_name(name):
            table.fail(f"dns[{index}]", f"{name!r} is not a DNS name")
    return AltNameRule(
        critical=table.boolean("critical"),
        uri=uris,
        dns=dns,
        extra_dns=table.boolean("extra_dns", default=False),
        ip=tuple(
            _ip(table, index, text) for index, text in enumerate(table.strings("ip", optional=True))
        ),
    )


def _ip(table: _Table, index: int, text: str) -> IPv4Address | IPv6Address:
    try:
        return ip_address(text)
    except ValueError:
        table.fail(f"ip[{index}]", f"{text!r} is not an IP address")


def _check_template(table: _Table, key: str, template: str, kind: Kind) -> None:
    allowed = TEMPLATE_FIELDS[kind]
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        table.fail(key, f"{template!r} is not a template: {exc}")
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in allowed or spec or conversion:
            fields = ", ".join(f"{{{f}}}" for f in sorted(allowed)) or "none"
            table.fail(key, f"{{{field}}} is not a field here; the {kind} profile has {fields}")
    if not template:
        table.fail(key, "is empty")


def _eku(profile: CertificateProfile) -> tuple[str, ...]:
    rule = profile.extended_key_usage
    return () if rule is None else rule.usages
