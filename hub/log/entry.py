"""The log's leaf: what the hub records about one message, and nothing personal.

SPEC §8: a leaf holds metadata and digests only. ``LogEntry.leaf_bytes`` is
the data the RFC 9162 leaf hash covers, format version 1: canonical JSON,
one object, keys sorted, no whitespace, ASCII only::

    {"decision_digest":null,"direction":"in",
     "logged_at":"2026-11-22T10:15:30.412000Z","message_class":"KnownToQuery",
     "message_id":"urn:uuid:…","message_sha256":"<64 hex>","qualifier":"request",
     "recipients":["E09000028"],"sender":"E09000022","v":1}

(shown wrapped; the bytes are one line). Fields:

- ``v``: the format version, the integer 1;
- ``logged_at``: when the hub logged the message, UTC, microseconds, ``Z``;
- ``direction``: ``in`` (received and verified by the hub) or ``out`` (signed
  and sent by the hub);
- ``message_id``, ``message_class``, ``qualifier``, ``sender``: from the
  signed header (``MessageID``, ``Class``, ``Qualifier``, ``From/@authority``);
- ``recipients``: each ``To`` in header order, an authority code (any
  well-formed one: a query naming an authority the directory does not hold
  is logged as received before it is refused), or ``scope:neighbours`` /
  ``scope:london`` for a scope the hub expands;
- ``message_sha256``: lowercase hex SHA-256 of the exact message bytes;
- ``decision_digest``: lowercase hex ``Decision.digest()`` of the policy
  decision the message carries or answers, or ``null``.

``from_leaf_bytes`` accepts exactly the bytes ``leaf_bytes`` writes: a leaf
in any other spelling, with a missing, extra or duplicated key, is refused,
so one entry has one leaf hash.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

from hub.envelope import Header, Qualifier, Recipient
from hub.errors import SchemaInvalid
from hub.identifiers import (
    QUALIFIERS,
    AuthorityCode,
    MessageId,
    parse_authority,
    parse_message_id,
    parse_recipient_code,
)
from hub.log.errors import LogEvidenceInvalid
from hub.verify import VerifiedMessage

__all__ = [
    "LEAF_VERSION",
    "MAX_LEAF_BYTES",
    "MAX_RECIPIENTS",
    "Direction",
    "LogEntry",
    "recipient_tokens",
]

LEAF_VERSION: Final = 1
"""The ``v`` this module writes and the only one it reads."""

MAX_LEAF_BYTES: Final = 4096
"""A leaf with every London authority as a recipient is about 600 bytes;
anything near this limit is not one of ours."""

MAX_RECIPIENTS: Final = 40
"""All 33 authorities, the hub and both scopes fit; a longer ``To`` list is not a
message the hub would have accepted."""

Direction = Literal["in", "out"]

_SCOPES: Final = ("neighbours", "london")
_SCOPE_PREFIX: Final = "scope:"
_KEYS: Final = frozenset(
    {
        "v",
        "logged_at",
        "direction",
        "message_id",
        "message_class",
        "qualifier",
        "sender",
        "recipients",
        "message_sha256",
        "decision_digest",
    }
)
_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
_TIME: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")
_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}\Z")
_CLASS_NAME: Final = re.compile(r"[A-Z][A-Za-z]{0,63}\Z")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One leaf's content; construction checks every field (``LogEvidenceInvalid``)."""

    logged_at: datetime
    """When the hub logged the message; normalised to UTC."""
    direction: Direction
    message_id: MessageId
    message_class: str
    qualifier: Qualifier
    sender: AuthorityCode
    recipients: tuple[str, ...]
    """Authority codes, or ``scope:neighbours`` / ``scope:london``."""
    message_sha256: str
    """Lowercase hex SHA-256 of the exact message bytes."""
    decision_digest: str | None = None
    """Lowercase hex digest of the policy decision, when one applies."""

    def __post_init__(self) -> None:
        offset = self.logged_at.utcoffset()
        if offset is None or offset.total_seconds() != 0:
            raise LogEvidenceInvalid("logged_at must be a UTC time")
        object.__setattr__(self, "logged_at", self.logged_at.astimezone(UTC))
        if self.direction not in get_args(Direction):
            raise LogEvidenceInvalid(f"direction {self.direction!r} is not 'in' or 'out'")
        _check(parse_message_id, self.message_id, "message_id")
        if not _CLASS_NAME.match(self.message_class):
            raise LogEvidenceInvalid(f"message_class {self.message_class!r} is not a class name")
        if self.qualifier not in QUALIFIERS:
            raise LogEvidenceInvalid(f"qualifier {self.qualifier!r} is not one of {QUALIFIERS}")
        _check(parse_authority, self.sender, "sender")
        if not 1 <= len(self.recipients) <= MAX_RECIPIENTS:
            raise LogEvidenceInvalid(
                f"an entry names 1 to {MAX_RECIPIENTS} recipients, not {len(self.recipients)}"
            )
        for recipient in self.recipients:
            if recipient.removeprefix(_SCOPE_PREFIX) not in _SCOPES:
                _check(parse_recipient_code, recipient, "recipient")
        if not _SHA256_HEX.match(self.message_sha256):
            raise LogEvidenceInvalid("message_sha256 must be 64 lowercase hex digits")
        if self.decision_digest is not None and not _SHA256_HEX.match(self.decision_digest):
            raise LogEvidenceInvalid("decision_digest must be 64 lowercase hex digits or null")

    def leaf_bytes(self) -> bytes:
        """The canonical version-1 serialisation; see the module docstring."""
        return _canonical(
            {
                "v": LEAF_VERSION,
                "logged_at": self.logged_at.strftime(_TIME_FORMAT),
                "direction": self.direction,
                "message_id": self.message_id,
                "message_class": self.message_class,
                "qualifier": self.qualifier,
                "sender": self.sender,
                "recipients": list(self.recipients),
                "message_sha256": self.message_sha256,
                "decision_digest": self.decision_digest,
            }
        )

    @classmethod
    def from_leaf_bytes(cls, data: bytes) -> LogEntry:
        """Parse leaf bytes written by ``leaf_bytes``, refusing any other spelling.

        Raises ``LogEvidenceInvalid`` naming the first defect.
        """
        if len(data) > MAX_LEAF_BYTES:
            raise LogEvidenceInvalid(f"leaf has {len(data)} bytes, the limit is {MAX_LEAF_BYTES}")
        try:
            fields = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise LogEvidenceInvalid(f"leaf is not JSON: {exc}") from exc
        if not isinstance(fields, dict) or set(fields) != _KEYS:
            found = sorted(fields) if isinstance(fields, dict) else type(fields).__name__
            raise LogEvidenceInvalid(f"leaf must hold exactly the keys {sorted(_KEYS)}; {found}")
        if type(fields["v"]) is not int or fields["v"] != LEAF_VERSION:
            raise LogEvidenceInvalid(f"leaf format version {fields['v']!r} is not {LEAF_VERSION}")
        strings = ("logged_at", "direction", "message_id", "message_class", "qualifier", "sender")
        for name in (*strings, "message_sha256"):
            if not isinstance(fields[name], str):
                raise LogEvidenceInvalid(f"leaf field {name} is not a string")
        recipients = fields["recipients"]
        if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
            raise LogEvidenceInvalid("leaf field recipients is not a list of strings")
        if fields["decision_digest"] is not None and not isinstance(fields["decision_digest"], str):
            raise LogEvidenceInvalid("leaf field decision_digest is neither a string nor null")
        if not _TIME.match(fields["logged_at"]):
            raise LogEvidenceInvalid(f"leaf logged_at {fields['logged_at']!r} is not UTC with µs")
        try:
            # The pattern fixed the form; fromisoformat is many times faster than strptime.
            logged_at = datetime.fromisoformat(fields["logged_at"][:-1]).replace(tzinfo=UTC)
        except ValueError as exc:
            raise LogEvidenceInvalid(f"leaf logged_at is not a real time: {exc}") from exc
        entry = cls(
            logged_at=logged_at,
            direction=fields["direction"],
            message_id=MessageId(fields["message_id"]),
            message_class=fields["message_class"],
            qualifier=fields["qualifier"],
            sender=AuthorityCode(fields["sender"]),
            recipients=tuple(recipients),
            message_sha256=fields["message_sha256"],
            decision_digest=fields["decision_digest"],
        )
        # Field checks passed; the spelling must be the one canonical form too.
        if entry.leaf_bytes() != data:
            raise LogEvidenceInvalid("leaf is not in canonical form (key order, spacing, escapes)")
        return entry

    @classmethod
    def for_message(
        cls,
        raw: bytes,
        header: Header,
        *,
        direction: Direction,
        decision_digest: str | None = None,
        at: datetime,
    ) -> LogEntry:
        """The entry for the exact message bytes ``raw`` whose signed header is ``header``.

        For a received message pass the ``VerifiedMessage``'s ``raw`` and
        ``header`` (or use ``for_received``); for a sent one the bytes the hub
        signed and the header it built. Raises ``LogEvidenceInvalid`` if a
        field cannot be logged.
        """
        return cls(
            logged_at=at,
            direction=direction,
            message_id=header.message_id,
            message_class=header.message_class,
            qualifier=header.qualifier,
            sender=header.sender.authority,
            recipients=recipient_tokens(header.recipients),
            message_sha256=hashlib.sha256(raw).hexdigest(),
            decision_digest=decision_digest,
        )

    @classmethod
    def for_received(
        cls, message: VerifiedMessage, *, decision_digest: str | None = None, at: datetime
    ) -> LogEntry:
        """The ``in`` entry for a message that passed ``EnvelopeVerifier``."""
        return cls.for_message(
            message.raw,
            message.header,
            direction="in",
            decision_digest=decision_digest,
            at=at,
        )


def recipient_tokens(recipients: tuple[Recipient, ...]) -> tuple[str, ...]:
    """Each ``To`` as the leaf writes it: an authority code or ``scope:<scope>``."""
    return tuple(
        r.authority if r.authority is not None else f"{_SCOPE_PREFIX}{r.scope}" for r in recipients
    )


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _check(parse: Callable[[str], object], value: str, name: str) -> None:
    try:
        parse(value)
    except SchemaInvalid as exc:
        raise LogEvidenceInvalid(f"{name}: {exc.reason}") from exc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in pairs:
        if key in fields:
            raise ValueError(f"duplicate key {key!r}")
        fields[key] = value
    return fields


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
