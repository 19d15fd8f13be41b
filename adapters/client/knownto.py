"""The borough-side client: ask the hub "is this child known?" and check the answer alone.

``KnownToClient.ask`` signs a ``KnownToQuery`` with the borough's key, posts
it over mutual TLS, verifies the hub's signed ``KnownToResult``, and then
verifies every node's own signed ``KnownToResponse`` carried inside it: the
requester need not trust the hub for what each authority said.

A ``ChildQuery`` is checked when it is made, and its birth date against
today before it is signed: a query every node would refuse, or answer
``not-known`` for a child that cannot exist, never leaves the borough.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final

from lxml import etree

from adapters.client.exchange import HubExchange
from adapters.config import NodeConfig
from adapters.index.fields import parse_sex, today_in_london
from adapters.index.model import Subject
from hub.disclosure import COMMON_NS, KNOWNTO_NS
from hub.envelope import Practitioner, Recipient
from hub.errors import SchemaInvalid, SenderMismatch
from hub.identifiers import DISCLOSURE_LEVELS, AuthorityCode, MessageId

__all__ = ["ChildQuery", "InvolvementRow", "KnownToAnswer", "KnownToClient", "TargetRow"]

_K: Final = f"{{{KNOWNTO_NS}}}"
_C: Final = f"{{{COMMON_NS}}}"
_REQUESTABLE: Final = tuple(level for level in DISCLOSURE_LEVELS if level != "none")
"""``kt:RequestedLevel``: any disclosure level above none."""


@dataclass(frozen=True, slots=True)
class ChildQuery:
    """What a practitioner knows about the child, checked and normalised when made.

    Raises ``SchemaInvalid`` with a plain reason when it names no child at
    all; has neither an NHS number or UPN nor a given name, family name and
    birth date; has a given name without a family name or the reverse; an
    NHS number or UPN fails its check character; a name, postcode or sex is
    malformed; the address has more than four lines, a line or town over 200
    characters, or a town without a line (``c:Address``); or the level is not
    one of SPEC §7. A birth date in the
    future is refused by ``check_birth_date``, which needs
    today's date (``KnownToClient.ask`` runs it before signing).
    """

    given_names: tuple[str, ...] = ()
    family_name: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    postcode: str | None = None
    nhs_number: str | None = None
    upn: str | None = None
    level: str = "agencies"
    address_lines: tuple[str, ...] = ()
    """House, street, locality: sent as ``c:Address`` lines, matched as one address."""
    town: str | None = None

    def __post_init__(self) -> None:
        given = tuple(name for name in self.given_names if name.strip())
        values = (self.family_name, self.birth_date, self.postcode, self.nhs_number, self.upn)
        if not given and all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            raise SchemaInvalid(
                "the query names no child: give an NHS number or UPN, or a given name, "
                "family name and birth date"
            )
        if bool(given) != bool(_present(self.family_name)):
            # c:Name is whole or absent: an identified child may leave it out.
            raise SchemaInvalid("give both a given name and a family name, or neither")
        lines, town = _address(self.address_lines, self.town)
        subject = Subject.create(
            given_names=given,
            family_name=_present(self.family_name),
            birth_date=self.birth_date,
            postcode=_present(self.postcode),
            address=", ".join((*lines, *([town] if town else []))) or None,
            nhs_number=_present(self.nhs_number),
            upn=_present(self.upn),
        )
        if self.level not in _REQUESTABLE:
            raise SchemaInvalid(f"level {self.level!r} is not one of {', '.join(_REQUESTABLE)}")
        sex = None if self.sex is None else parse_sex(self.sex, "sex")
        # Sent as checked: NHS number without spaces, postcode and UPN in capitals.
        for name, value in (
            ("given_names", subject.given_names),
            ("family_name", subject.family_name),
            ("postcode", subject.postcode),
            ("nhs_number", subject.nhs_number),
            ("upn", subject.upn),
            ("sex", sex),
            ("address_lines", lines),
            ("town", town),
        ):
            object.__setattr__(self, name, value)

    def check_birth_date(self, *, now: datetime) -> None:
        """Raise ``SchemaInvalid`` if the birth date is after today in London at ``now``."""
        today = today_in_london(now)
        if self.birth_date is not None and self.birth_date > today:
            raise SchemaInvalid(
                f"birth date {self.birth_date} is in the future (today is {today}); "
                "check the date of birth"
            )

    def body(self) -> etree._Element:
        """The ``kt:KnownToQuery`` element, identifiers first as the schema requires."""
        query = etree.Element(_K + "KnownToQuery", nsmap={"kt": KNOWNTO_NS, "c": COMMON_NS})
        subject = etree.SubElement(query, _K + "Subject")
        for name, value in (("NHSNumber", self.nhs_number), ("UPN", self.upn)):
            if value:
                etree.SubElement(subject, _C + name).text = value
        for given in self.given_names:
            etree.SubElement(subject, _C + "GivenName").text = given
        if self.family_name:
            etree.SubElement(subject, _C + "FamilyName").text = self.family_name
        if self.birth_date:
            etree.SubElement(subject, _C + "BirthDate").text = self.birth_date.isoformat()
        for name, value in (("Sex", self.sex), ("Postcode", self.postcode)):
            if value:
                etree.SubElement(subject, _C + name).text = value
        if self.address_lines:
            address = etree.SubElement(subject, _C + "Address")
            for line in self.address_lines:
                etree.SubElement(address, _C + "Line").text = line
            if self.town:
                etree.SubElement(address, _C + "Town").text = self.town
            if self.postcode:
                etree.SubElement(address, _C + "Postcode").text = self.postcode
        etree.SubElement(query, _K + "RequestedLevel").text = self.level
        return query


_MAX_ADDRESS_LINES: Final = 4
_MAX_SHORT_TEXT: Final = 200


def _address(lines: Sequence[str], town: str | None) -> tuple[tuple[str, ...], str | None]:
    """Address lines and town as ``c:Address`` takes them (``xs:token``: spaces collapsed,
    blank lines dropped). Raises ``SchemaInvalid`` for what the schema would refuse."""
    kept = tuple(" ".join(line.split()) for line in lines if line.strip())
    town = " ".join(town.split()) if town and town.strip() else None
    if len(kept) > _MAX_ADDRESS_LINES:
        raise SchemaInvalid(f"an address has at most {_MAX_ADDRESS_LINES} lines, not {len(kept)}")
    for text in (*kept, *([town] if town else [])):
        if len(text) > _MAX_SHORT_TEXT:
            raise SchemaInvalid(f"address line or town {text[:20]!r}… is over 200 characters")
    if town and not kept:
        raise SchemaInvalid("give an address line with the town")
    return kept, town


def _present(value: str | None) -> str | None:
    """``None`` for an absent or blank value, which a query leaves out."""
    return value if value is not None and value.strip() else None


@dataclass(frozen=True, slots=True)
class InvolvementRow:
    """One involvement as disclosed; absent fields were not granted."""

    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class TargetRow:
    """One authority's outcome, with its own signed answer checked."""

    authority: AuthorityCode
    status: str
    reason: str | None
    rules: tuple[str, ...]
    involvements: tuple[InvolvementRow, ...] = ()
    deciding_traits: tuple[str, ...] = ()
    local_reference: str | None = None
    verified_by_node_signature: bool = False


@dataclass(frozen=True, slots=True)
class KnownToAnswer:
    """The hub's result for one query."""

    message_id: MessageId
    rows: tuple[TargetRow, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class KnownToClient:
    """A borough system's client for known-to queries, over its ``HubExchange``."""

    exchange: HubExchange

    @classmethod
    def from_node_config(cls, config: NodeConfig, *, hub_url: str | None = None) -> KnownToClient:
        """A client for the borough of ``config``, using that node's keys and hub URL.

        Raises ``InternalError`` when a key or certificate cannot be loaded.
        """
        return cls(HubExchange.from_node_config(config, hub_url=hub_url))

    async def close(self) -> None:
        """Release the client's connections."""
        await self.exchange.close()

    async def ask(
        self,
        child: ChildQuery,
        *,
        practitioner: Practitioner,
        purpose: str,
        consent: str,
        targets: Sequence[AuthorityCode] = (),
        scope: str | None = None,
        deadline: timedelta = timedelta(seconds=5),
    ) -> KnownToAnswer:
        """Send one query and return the verified per-authority outcomes.

        Raises ``SchemaInvalid`` before anything is signed when the child's
        birth date is in the future; the ``IrtError`` the hub answered with
        (its SPEC code and reason); or ``SignatureInvalid``/``SenderMismatch``
        when an answer cannot be trusted.
        """
        child.check_birth_date(now=self.exchange.clock.now())
        recipients = tuple(Recipient(authority=t) for t in targets)
        if scope is not None:
            recipients += (Recipient(scope=scope),)  # type: ignore[arg-type]
        signed = self.exchange.sign(
            child.body(),
            qualifier="request",
            recipients=recipients,
            expires=self.exchange.clock.now() + deadline,
            practitioner=practitioner,
            purpose=purpose,
            consent=consent,
        )
        # A query is never resent: the hub answers a repeat as duplicate-message.
        result = await self.exchange.send(signed, timeout=deadline.total_seconds() + 5, attempts=1)
        rows = tuple(self._row(entry) for entry in result.body.iterfind(_K + "Entry"))
        return KnownToAnswer(message_id=signed.message_id, rows=rows)

    def _row(self, entry: etree._Element) -> TargetRow:
        authority = AuthorityCode(entry.get("authority", ""))
        row = TargetRow(
            authority=authority,
            status=entry.get("status", "error"),
            reason=entry.findtext(_K + "Reason"),
            rules=tuple((entry.get("rules") or "").split()),
        )
        signed = entry.findtext(_K + "SignedResponse")
        if not signed:
            return row
        response = self.exchange.verifier.verify_envelope(base64.b64decode("".join(signed.split())))
        if response.header.sender.authority != authority:
            raise SenderMismatch(
                f"the response for {authority} is signed by {response.header.sender.authority}"
            )
        body = response.body
        return TargetRow(
            authority=authority,
            status=body.findtext(_K + "Status") or row.status,
            reason=row.reason,
            rules=row.rules,
            involvements=tuple(
                InvolvementRow({etree.QName(c).localname: c.text or "" for c in involvement})
                for involvement in body.iterfind(_K + "Involvement")
            ),
            deciding_traits=tuple((body.findtext(_K + "DecidingTraits") or "").split()),
            local_reference=body.findtext(_K + "LocalReference"),
            verified_by_node_signature=True,
        )
