"""An unknown purpose, consent value or agency type is ``schema-invalid`` at the hub.

The envelope XSD takes its closed lists from common.xsd, so a correctly
signed message carrying a value outside them is refused by the verifier,
naming the value, before policy ever sees it: never a silent deny.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import pytest
from lxml import etree

from hub.clock import FixedClock
from hub.envelope import Header, Party, Practitioner, Recipient, build_envelope
from hub.errors import SchemaInvalid
from hub.identifiers import AGENCY_TYPES, CONSENT_VALUES, PURPOSES, AuthorityCode
from hub.pki.trust import TrustStore
from hub.replay.guard import ReplayGuard
from hub.signing import Signer
from hub.storage.memory.seen import MemorySeenStore
from hub.verify import EnvelopeVerifier, VerifiedMessage
from tests.support.paths import BODIES

QUERY = BODIES / "KnownToQuery.xml"
LAMBETH, SOUTHWARK = AuthorityCode("E09000022"), AuthorityCode("E09000028")
NOW = datetime.now(UTC).replace(microsecond=0)


def query(*, purpose: str, consent: str, agency: str) -> etree._Element:
    header = Header(
        message_class="KnownToQuery",
        qualifier="request",
        sender=Party(LAMBETH, "lambeth-irt"),
        recipients=(Recipient(authority=SOUTHWARK),),
        created=NOW,
        on_behalf_of=Practitioner("sw-4471", "Social worker", agency),
        purpose=purpose,
        consent=consent,
    )
    return build_envelope(header, etree.parse(str(QUERY)).getroot())


class _Verify(Protocol):
    """Verify a signed query whose purpose, consent or agency is the one given."""

    def __call__(self, **values: str) -> VerifiedMessage: ...


@pytest.fixture
def verify(trust: TrustStore, signer_for: Callable[[str], Signer]) -> _Verify:
    clock = FixedClock(NOW)
    verifier = EnvelopeVerifier(
        trust=trust, clock=clock, replay=ReplayGuard(store=MemorySeenStore(), clock=clock)
    )

    def run(**values: str) -> VerifiedMessage:
        fields = {"purpose": PURPOSES[0], "consent": CONSENT_VALUES[0], "agency": AGENCY_TYPES[0]}
        fields.update(values)
        return verifier.verify_envelope(signer_for(LAMBETH).sign(query(**fields)))

    return run


def test_known_values_pass(verify: _Verify) -> None:
    assert verify() is not None


@pytest.mark.parametrize(
    ("field", "value", "element"),
    [
        ("purpose", "child-protection-s99", "Purpose"),
        ("consent", "implied", "Consent"),
        ("agency", "astrology", "OnBehalfOf"),
    ],
)
def test_unknown_value_is_schema_invalid_naming_it(
    verify: _Verify, field: str, value: str, element: str
) -> None:
    with pytest.raises(SchemaInvalid, match=rf"{element}.*'{value}' is not an element of the set"):
        verify(**{field: value})
