"""The borough-side client: ask the hub "is this child known?" and check the answer alone.

``KnownToClient.ask`` signs a ``KnownToQuery`` with the borough's key, posts
it over mutual TLS, verifies the hub's signed ``KnownToResult``, and then
verifies every node's own signed ``KnownToResponse`` carried inside it: the
requester need not trust the hub for what each authority said.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

from lxml import etree

from hub.clock import Clock, SystemClock
from hub.config import NodeConfig
from hub.disclosure import COMMON_NS, KNOWNTO_NS
from hub.envelope import Header, Party, Practitioner, Recipient, build_envelope
from hub.errors import SenderMismatch, error_for_code
from hub.identifiers import HUB, AuthorityCode, MessageId
from hub.pki.trust import TrustStore
from hub.replay import MemorySeenStore, ReplayGuard
from hub.signing import Signer
from hub.transport.client import Delivery, HttpsDelivery
from hub.transport.tls import client_context
from hub.verify import EnvelopeVerifier

__all__ = ["ChildQuery", "InvolvementRow", "KnownToAnswer", "KnownToClient", "TargetRow"]

_K: Final = f"{{{KNOWNTO_NS}}}"
_C: Final = f"{{{COMMON_NS}}}"


@dataclass(frozen=True, slots=True)
class ChildQuery:
    """What a practitioner knows about the child."""

    given_names: tuple[str, ...] = ()
    family_name: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    postcode: str | None = None
    nhs_number: str | None = None
    upn: str | None = None
    level: str = "agencies"

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
        etree.SubElement(query, _K + "RequestedLevel").text = self.level
        return query


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
    """A borough system's client for known-to queries."""

    authority: AuthorityCode
    node_id: str
    signer: Signer
    verifier: EnvelopeVerifier
    """Verifies the hub's result and the nodes' responses (trust root, CRL)."""
    delivery: Delivery
    hub_url: str
    clock: Clock

    @classmethod
    def from_node_config(cls, config: NodeConfig, *, hub_url: str | None = None) -> KnownToClient:
        """A client for the borough of ``config``, using that node's keys and hub URL.

        Raises ``InternalError`` when a key or certificate cannot be loaded.
        """
        clock = SystemClock()
        return cls(
            authority=config.authority,
            node_id=config.node_id,
            signer=Signer.from_files(config.signing.key, config.signing.cert),
            verifier=EnvelopeVerifier(
                trust=TrustStore.from_files(config.tls.root, config.tls.crl),
                clock=clock,
                replay=ReplayGuard(store=MemorySeenStore(), clock=clock),
            ),
            delivery=HttpsDelivery(client_context(config.tls)),
            hub_url=hub_url or config.hub_url,
            clock=clock,
        )

    async def close(self) -> None:
        """Release the client's connections."""
        await self.delivery.close()

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

        Raises the ``IrtError`` the hub answered with (its SPEC code and
        reason), or ``SignatureInvalid``/``SenderMismatch`` when an answer
        cannot be trusted.
        """
        recipients = tuple(Recipient(authority=t) for t in targets)
        if scope is not None:
            recipients += (Recipient(scope=scope),)  # type: ignore[arg-type]
        now = self.clock.now()
        header = Header(
            message_class="KnownToQuery",
            qualifier="request",
            sender=Party(self.authority, self.node_id),
            recipients=recipients,
            created=now,
            expires=now + deadline,
            on_behalf_of=practitioner,
            purpose=purpose,
            consent=consent,
        )
        raw = self.signer.sign(build_envelope(header, child.body()))
        answer = await self.delivery.post(self.hub_url, raw, timeout=deadline.total_seconds() + 5)
        result = self.verifier.verify_envelope(answer.body)
        if result.header.sender.authority != HUB:
            raise SenderMismatch(f"the answer is signed by {result.header.sender.authority}")
        if result.header.message_class == "Error":
            raise error_for_code(result.body.get("code", ""), result.body.text or "")
        rows = tuple(self._row(entry) for entry in result.body.iterfind(_K + "Entry"))
        return KnownToAnswer(message_id=header.message_id, rows=rows)

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
        response = self.verifier.verify_envelope(base64.b64decode("".join(signed.split())))
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
