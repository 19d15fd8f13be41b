"""``serials.json``: what a development CA has issued and revoked, so CRLs can be rebuilt.

    {
      "format": 1,
      "crl_number": 3,
      "issued": {
        "<serial hex>": {"kind": "signing", "authority": "E09000022",
                         "subject": "CN=…", "fingerprint": "<sha-256 hex>",
                         "not_before": "2026-…+00:00", "not_after": "2028-…+00:00"},
        …
      },
      "revoked": [{"serial": "<hex>", "revoked_at": "2026-…+00:00", "reason": "keyCompromise"}]
    }

The root is listed too (kind ``root``, authority ``null``). ``crl_number`` is
the number of the last CRL written; each new CRL takes the next one (RFC 5280
§5.2.3 wants them increasing). The file is parsed once here into a frozen
``Registry``; every change makes a new one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from hub.identifiers import AuthorityCode
from hub.pki.certificates import REVOCATION_REASONS, Revocation
from hub.pki.errors import PkiError

__all__ = ["REGISTRY_FORMAT", "CertificateRole", "IssuedRecord", "Registry", "parse_serial"]

REGISTRY_FORMAT: Final = 1
"""Version of the ``serials.json`` layout; another version is refused, not guessed at."""

CertificateRole = Literal["root", "signing", "tls"]
_ROLES: Final = ("root", "signing", "tls")


@dataclass(frozen=True, slots=True)
class IssuedRecord:
    """One certificate the CA issued."""

    serial: int
    kind: CertificateRole
    authority: AuthorityCode | None
    """The party it names; ``None`` for the root."""
    subject: str
    """RFC 4514 subject, for people reading ``irthub pki show``."""
    fingerprint: str
    """SHA-256 of the DER certificate, lowercase hex."""
    not_before: datetime
    not_after: datetime

    @classmethod
    def of(
        cls, cert: x509.Certificate, kind: CertificateRole, authority: AuthorityCode | None
    ) -> IssuedRecord:
        """The record of ``cert``."""
        return cls(
            serial=cert.serial_number,
            kind=kind,
            authority=authority,
            subject=cert.subject.rfc4514_string(),
            fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
        )

    @property
    def serial_hex(self) -> str:
        """The serial as ``irthub pki show`` prints it and ``revoke`` accepts it."""
        return f"{self.serial:x}"


@dataclass(frozen=True, slots=True)
class Registry:
    """Everything ``serials.json`` holds, in issue order."""

    issued: tuple[IssuedRecord, ...] = ()
    revoked: tuple[Revocation, ...] = ()
    crl_number: int = 0
    """Number of the last CRL written (0: none yet)."""

    def find(self, serial: int) -> IssuedRecord | None:
        """The record of ``serial``, if this CA issued it."""
        return next((r for r in self.issued if r.serial == serial), None)

    def revocation(self, serial: int) -> Revocation | None:
        """The revocation of ``serial``, if it is revoked."""
        return next((r for r in self.revoked if r.serial == serial), None)

    def with_issued(self, *records: IssuedRecord) -> Registry:
        """This registry plus ``records``."""
        return replace(self, issued=(*self.issued, *records))

    def with_revocation(self, revocation: Revocation) -> Registry:
        """This registry plus ``revocation``."""
        return replace(self, revoked=(*self.revoked, revocation))

    def with_next_crl_number(self) -> Registry:
        """This registry with the CRL number advanced by one."""
        return replace(self, crl_number=self.crl_number + 1)

    def to_json(self) -> bytes:
        """The ``serials.json`` text of this registry."""
        document = {
            "format": REGISTRY_FORMAT,
            "crl_number": self.crl_number,
            "issued": {
                r.serial_hex: {
                    "kind": r.kind,
                    "authority": r.authority,
                    "subject": r.subject,
                    "fingerprint": r.fingerprint,
                    "not_before": r.not_before.isoformat(),
                    "not_after": r.not_after.isoformat(),
                }
                for r in self.issued
            },
            "revoked": [
                {
                    "serial": f"{r.serial:x}",
                    "revoked_at": r.revoked_at.isoformat(),
                    "reason": r.reason.value,
                }
                for r in self.revoked
            ],
        }
        return (json.dumps(document, indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes, *, source: str) -> Registry:
        """Parse ``serials.json`` text; raise ``PkiError`` naming ``source`` if it is not one."""
        try:
            document = json.loads(data)
            if document.get("format") != REGISTRY_FORMAT:
                raise ValueError(f"format {document.get('format')!r}, expected {REGISTRY_FORMAT}")
            issued = tuple(_record(serial, item) for serial, item in document["issued"].items())
            revoked = tuple(_revocation(item) for item in document["revoked"])
            number = document["crl_number"]
            if not isinstance(number, int) or number < 0:
                raise ValueError(f"crl_number {number!r} is not a count")
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise PkiError(f"{source} is not a PKI registry: {exc}") from exc
        return cls(issued=issued, revoked=revoked, crl_number=number)


def parse_serial(text: str) -> int:
    """A serial number from hex text (``0x`` prefix and ``:`` separators allowed).

    Raises ``PkiError`` when ``text`` is not hexadecimal.
    """
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "")
    try:
        return int(cleaned, 16)
    except ValueError as exc:
        raise PkiError(f"{text!r} is not a hexadecimal serial number") from exc


def _record(serial: str, item: dict[str, Any]) -> IssuedRecord:
    kind = item["kind"]
    if kind not in _ROLES:
        raise ValueError(f"certificate {serial} has unknown kind {kind!r}")
    authority = item["authority"]
    return IssuedRecord(
        serial=int(serial, 16),
        kind=kind,
        authority=None if authority is None else AuthorityCode(str(authority)),
        subject=str(item["subject"]),
        fingerprint=str(item["fingerprint"]),
        not_before=datetime.fromisoformat(item["not_before"]),
        not_after=datetime.fromisoformat(item["not_after"]),
    )


def _revocation(item: dict[str, Any]) -> Revocation:
    reason = item["reason"]
    if reason not in REVOCATION_REASONS:
        raise ValueError(f"revocation of {item['serial']} has unknown reason {reason!r}")
    return Revocation(
        serial=int(item["serial"], 16),
        revoked_at=datetime.fromisoformat(item["revoked_at"]),
        reason=REVOCATION_REASONS[reason],
    )
