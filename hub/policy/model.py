"""Typed information sharing protocols (SPEC §7), built only from checked bytes.

``parse_isp`` makes an ``IspDocument`` from outside bytes (the hub itself
reads only signed ones, through ``hub.policy.signed``):

(1) parse with ``hub.xmlparse.parse_untrusted`` (size, DTD, PI and depth
    limits);
(2) check the root is an ``InformationSharingProtocol`` and validate it
    against ``schemas/isp/1/isp.xsd`` through the schema registry;
(3) check what the schema cannot say: permit rules name purposes, consent
    values and a ``MaxLevel`` above ``none``; forbid rules grant nothing;
    groups exist in the directory; a document never lists its own authority
    as a partner; ``EffectiveTo`` is not before ``EffectiveFrom``;
(4) record the SHA-256 digest of the exact bytes as the version identity
    (for a signed document, the exact signed bytes: see ``hub.policy.signed``).

``build_isp`` runs steps (2)-(4) on a tree already parsed, such as the
signed tree a ``DocumentVerifier`` returns.

Every failure raises ``SchemaInvalid`` whose reason names the source, the
line and, inside ``Rules``, the rule id.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final, Literal, cast

from lxml import etree

from hub.directory import Directory, GroupName
from hub.errors import IrtError, SchemaInvalid
from hub.identifiers import (
    AGENCY_TYPES,
    CONSENT_VALUES,
    DISCLOSURE_LEVELS,
    ORDINARY_CATEGORIES,
    PURPOSES,
    AuthorityCode,
)
from hub.schemas import default_registry
from hub.xmlparse import XmlLimits, parse_untrusted

__all__ = [
    "ISP_NS",
    "LEVEL_RANK",
    "MAX_ISP_BYTES",
    "Effect",
    "IspDocument",
    "Obligations",
    "PartnerSet",
    "Rule",
    "Side",
    "Signatory",
    "build_isp",
    "load_isp",
    "parse_isp",
]

ISP_NS: Final = "urn:lcpc:irt:isp:1"
MAX_ISP_BYTES: Final = 256 * 1024
"""A full ISP of 200 rules is about 60 KiB; four times that is refused as abuse."""
LEVEL_RANK: Final = {level: rank for rank, level in enumerate(DISCLOSURE_LEVELS)}
"""Disclosure level to its position in the SPEC §1 order (``none`` is 0)."""

Effect = Literal["permit", "forbid"]
Side = Literal["disclose", "request"]

_Q: Final = "{" + ISP_NS + "}"
_LINE: Final = re.compile(r"line (\d+)")


@dataclass(frozen=True, slots=True)
class Signatory:
    """An agency that signed up to the protocol."""

    agency_type: str
    name: str


@dataclass(frozen=True, slots=True)
class PartnerSet:
    """A union of partner authorities, as written; resolve it with a directory."""

    london: bool = False
    neighbours: bool = False
    groups: frozenset[GroupName] = frozenset()
    authorities: frozenset[AuthorityCode] = frozenset()

    def resolve(self, owner: AuthorityCode, directory: Directory) -> frozenset[AuthorityCode]:
        """The authorities this set names for ``owner``'s document; never ``owner`` itself."""
        if self.london:
            return frozenset(directory.codes()) - {owner}
        members: set[AuthorityCode] = set(self.authorities)
        if self.neighbours:
            members.update(directory.neighbours(owner))
        for group in self.groups:
            members.update(directory.members(group))
        members.discard(owner)
        return frozenset(members)

    def describe(self) -> str:
        """Plain English, e.g. ``neighbours, group south, E09000001``."""
        if self.london:
            return "all of London"
        parts = ["neighbours"] if self.neighbours else []
        parts += [f"group {g}" for g in sorted(self.groups)]
        parts += sorted(self.authorities)
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule. Empty condition sets mean "any" (see isp.xsd for when that is allowed)."""

    id: str
    effect: Effect
    side: Side
    line: int
    """Line of the ``Rule`` element in its document, for reports."""
    purposes: frozenset[str]
    consents: frozenset[str]
    agencies: frozenset[str]
    partners: PartnerSet | None
    """``None``: the document's partners."""
    max_level: str
    """``none`` for a forbid rule."""
    categories: frozenset[str]
    """Granted categories; the four ordinary ones when a permit lists none."""
    description: str = ""

    def matches(self, purpose: str, consent: str, agency: str) -> bool:
        """True when the purpose, consent and agency conditions all hold."""
        return (
            (not self.purposes or purpose in self.purposes)
            and (not self.consents or consent in self.consents)
            and (not self.agencies or agency in self.agencies)
        )


@dataclass(frozen=True, slots=True)
class Obligations:
    """Duties on the recipient of a disclosure (SPEC §7)."""

    retention_days: int
    no_onward_sharing: bool
    notify_owner: bool


@dataclass(frozen=True, slots=True)
class IspDocument:
    """One checked version of one authority's information sharing protocol."""

    id: str
    authority: AuthorityCode
    version: int
    title: str
    effective_from: date
    effective_to: date | None
    signatories: tuple[Signatory, ...]
    partners: PartnerSet
    rules: tuple[Rule, ...]
    obligations: Obligations
    digest: str
    """SHA-256 of the exact document bytes, lowercase hex: the version identity."""
    source: str
    """File name or other label the bytes came from."""

    def in_force_on(self, day: date) -> bool:
        """True when ``day`` lies within the effective dates (both inclusive)."""
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def rules_for(self, side: Side) -> tuple[Rule, ...]:
        """The rules of one side, in document order."""
        return tuple(rule for rule in self.rules if rule.side == side)

    def rule(self, rule_id: str) -> Rule:
        """The rule with ``rule_id``; raise ``KeyError`` if absent."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def load_isp(path: Path, *, directory: Directory) -> IspDocument:
    """Read ``path`` and ``parse_isp`` it; raise ``SchemaInvalid`` if unreadable or invalid."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SchemaInvalid(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_isp(data, source=str(path), directory=directory)


def parse_isp(data: bytes, *, source: str, directory: Directory) -> IspDocument:
    """Check untrusted ``data`` as an ISP document and build it.

    Raises ``SchemaInvalid`` (and, from the parser, ``MalformedXml``,
    ``ForbiddenXml`` or ``TooLarge``) with ``source`` and the line in the reason.
    """
    # (1) the hardened parser; its errors name the source too
    try:
        root = parse_untrusted(data, limits=XmlLimits(max_bytes=MAX_ISP_BYTES))
    except IrtError as exc:
        raise type(exc)(f"{source}: {exc.reason}") from exc
    return build_isp(root, source=source, directory=directory, digest=_digest(data))


def build_isp(
    root: etree._Element, *, source: str, directory: Directory, digest: str
) -> IspDocument:
    """Run steps (2) and (3) on a tree the hardened parser (or a verifier) made.

    ``digest`` is step (4): the SHA-256 (lowercase hex) of the bytes ``root``
    was parsed from. ``hub.policy.signed`` passes the verifier's signed tree
    here. Raises ``SchemaInvalid`` naming ``source``, the line and the rule.
    """
    # (2) the schema
    _validate(root, source)
    # (3) what the schema cannot say, and (4) the identity of this version
    return _build(root, source, directory, digest=digest)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _validate(root: etree._Element, source: str) -> None:
    if root.tag != _Q + "InformationSharingProtocol":
        raise SchemaInvalid(
            f"{source}, line {_line(root)}: root element is {root.tag}, "
            f"not InformationSharingProtocol in {ISP_NS}"
        )
    try:
        default_registry().validate(root)
    except SchemaInvalid as exc:
        # The registry names the line; add the rule whose element spans it.
        found = _LINE.search(exc.reason)
        rule_id = _rule_at(root, int(found.group(1))) if found else None
        where = f"{source}, rule {rule_id}" if rule_id else source
        raise SchemaInvalid(f"{where}: {exc.reason}") from exc


def _rule_at(root: etree._Element, line: int) -> str | None:
    """The id of the rule whose element spans ``line``, if any."""
    for rule in root.iterfind(f"{_Q}Rules/{_Q}Rule"):
        if _line(rule) <= line <= max(_line(e) for e in rule.iter()):
            return rule.get("id")
    return None


def _line(element: etree._Element) -> int:
    # lxml-stubs declare sourceline untyped; it is an int or None.
    line: int | None = cast(Any, element).sourceline
    return line or 0


def _text(element: etree._Element, name: str) -> str | None:
    child = element.find(_Q + name)
    return None if child is None else (child.text or "").strip()


def _texts(element: etree._Element, name: str) -> list[str]:
    return [(child.text or "").strip() for child in element.iterfind(_Q + name)]


def _build(root: etree._Element, source: str, directory: Directory, *, digest: str) -> IspDocument:
    authority = AuthorityCode(_text(root, "Authority") or "")
    effective_from = date.fromisoformat(_text(root, "EffectiveFrom") or "")
    raw_to = _text(root, "EffectiveTo")
    effective_to = date.fromisoformat(raw_to) if raw_to else None
    if effective_to is not None and effective_to < effective_from:
        line = root.find(_Q + "EffectiveTo")
        raise SchemaInvalid(
            f"{source}, line {_line(line) if line is not None else '?'}: "
            f"EffectiveTo {effective_to} is before EffectiveFrom {effective_from}"
        )
    partners_el = root.find(_Q + "Partners")
    assert partners_el is not None  # required by the schema
    partners = _partner_set(
        partners_el, authority, directory, f"{source}, line {_line(partners_el)}"
    )
    rules = tuple(
        _rule(el, authority, directory, source) for el in root.iterfind(f"{_Q}Rules/{_Q}Rule")
    )
    obligations_el = root.find(_Q + "Obligations")
    assert obligations_el is not None  # required by the schema
    return IspDocument(
        id=_text(root, "Id") or "",
        authority=authority,
        version=int(_text(root, "Version") or "0"),
        title=_text(root, "Title") or "",
        effective_from=effective_from,
        effective_to=effective_to,
        signatories=tuple(
            Signatory(agency_type=el.get("type", ""), name=el.get("name", ""))
            for el in root.iterfind(f"{_Q}Signatories/{_Q}Agency")
        ),
        partners=partners,
        rules=rules,
        obligations=Obligations(
            retention_days=int(_text(obligations_el, "RetentionDays") or "0"),
            no_onward_sharing=_boolean(_text(obligations_el, "NoOnwardSharing")),
            notify_owner=_boolean(_text(obligations_el, "NotifyOwner")),
        ),
        digest=digest,
        source=source,
    )


def _boolean(text: str | None) -> bool:
    return text in {"true", "1"}


def _partner_set(
    element: etree._Element, owner: AuthorityCode, directory: Directory, where: str
) -> PartnerSet:
    groups = _texts(element, "Group")
    for group in groups:
        if group not in directory.groups:
            raise SchemaInvalid(
                f"{where}: group {group!r} is not in the directory "
                f"(known: {', '.join(sorted(directory.groups))})"
            )
    authorities = _texts(element, "Authority")
    if owner in authorities:
        raise SchemaInvalid(f"{where}: {owner} lists itself as a partner")
    return PartnerSet(
        london=element.find(_Q + "London") is not None,
        neighbours=element.find(_Q + "Neighbours") is not None,
        groups=frozenset(GroupName(g) for g in groups),
        authorities=frozenset(AuthorityCode(a) for a in authorities),
    )


def _rule(element: etree._Element, owner: AuthorityCode, directory: Directory, source: str) -> Rule:
    rule_id = element.get("id", "")
    effect: Effect = "permit" if element.get("effect") == "permit" else "forbid"
    side: Side = "disclose" if element.get("side") == "disclose" else "request"
    where = f"{source}, line {_line(element)}, rule {rule_id}"
    purposes = _closed(_texts(element, "Purpose"), PURPOSES, where)
    consents = _closed(_texts(element, "Consent"), CONSENT_VALUES, where)
    agencies = _closed(_texts(element, "RequesterAgency"), AGENCY_TYPES, where)
    max_level = _text(element, "MaxLevel")
    categories = frozenset(_texts(element, "Category"))
    partners_el = element.find(_Q + "Partners")
    partners = None if partners_el is None else _partner_set(partners_el, owner, directory, where)
    if effect == "permit":
        # Fail closed: a permit never applies to purposes or consent it does not name.
        if not purposes:
            raise SchemaInvalid(f"{where}: a permit rule must name at least one Purpose")
        if not consents:
            raise SchemaInvalid(f"{where}: a permit rule must name the Consent values it accepts")
        if max_level is None or max_level == "none":
            raise SchemaInvalid(f"{where}: a permit rule needs a MaxLevel above 'none'")
        granted = categories or frozenset(ORDINARY_CATEGORIES)
    else:
        if max_level is not None or categories:
            raise SchemaInvalid(f"{where}: a forbid rule grants nothing: no MaxLevel or Category")
        max_level, granted = "none", frozenset()
    return Rule(
        id=rule_id,
        effect=effect,
        side=side,
        line=_line(element),
        purposes=purposes,
        consents=consents,
        agencies=agencies,
        partners=partners,
        max_level=max_level,
        categories=granted,
        description=_text(element, "Description") or "",
    )


def _closed(values: Iterable[str], allowed: tuple[str, ...], where: str) -> frozenset[str]:
    chosen = list(values)
    if len(set(chosen)) != len(chosen):
        raise SchemaInvalid(f"{where}: a condition value is listed twice: {', '.join(chosen)}")
    unknown = set(chosen) - set(allowed)
    if unknown:  # the schema already refuses these; kept so the model never trusts callers
        raise SchemaInvalid(f"{where}: unknown values {', '.join(sorted(unknown))}")
    return frozenset(chosen)
