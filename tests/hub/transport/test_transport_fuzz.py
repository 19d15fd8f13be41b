"""Fuzzing a live hub over mutual TLS: random bytes and mutated signed envelopes never get a 5xx.

Every answer must be an envelope signed by the hub that verifies with its
certificate: a ``KnownToResult`` when a mutation left the signature valid
(exclusive c14n forgives some whitespace), or an ``env:Error`` whose SPEC
§5 code is the one its HTTP status stands for. Afterwards the hub still
answers a valid query and has counted no ``internal-error``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.errors import CODES
from tests.support.attack_world import LiveHub

pytestmark = pytest.mark.asyncio(loop_scope="module")

_TOKENS = (
    b"E09000022",
    b"E09000028",
    b"HUB",
    b"KnownToQuery",
    b"request",
    b"2012-03-09",
    b"Okafor",
    b"9434765919",
    b"ecdsa-sha256",
    b"xml-exc-c14n#",
    b"enveloped-signature",
    b'URI=""',
    b"<ds:Signature",
    b"</env:Header>",
    b"<env:Body>",
    b'Version="1.0"',
    b"urn:uuid:",
    b"Z</env:Created>",
    b"<!DOCTYPE x>",
    b"<?pi x?>",
    b"&amp;",
    b"]]>",
    b"\x00",
    b"\xff\xfe",
    b"",
)
"""Pieces of a signed query worth swapping: identities, algorithms, the
signature's pinned shape, dates, and markup the hardened parser refuses."""


@dataclass(frozen=True, slots=True)
class _Mutation:
    kind: str
    at: float
    """Where, as a fraction of the envelope's length."""
    size: int
    data: bytes
    old: bytes
    new: bytes

    def apply(self, envelope: bytes) -> bytes:
        start = int(self.at * len(envelope))
        end = start + self.size
        if self.kind == "flip":
            return envelope[:start] + self.data[:1] + envelope[start + 1 :]
        if self.kind == "delete":
            return envelope[:start] + envelope[end:]
        if self.kind == "insert":
            return envelope[:start] + self.data + envelope[start:]
        if self.kind == "duplicate":
            return envelope[:end] + envelope[start:end] + envelope[end:]
        if self.kind == "truncate":
            return envelope[:start]
        return envelope.replace(self.old, self.new, 1)


_MUTATIONS = st.builds(
    _Mutation,
    # Swaps and printable flips mostly keep the XML well formed, so that the
    # fuzz reaches the schema, the signature and the policy, not just the parser.
    kind=st.sampled_from(("flip", "delete", "insert", "duplicate", "truncate", "swap", "swap")),
    at=st.floats(min_value=0, max_value=1, exclude_max=True),
    size=st.integers(1, 400),
    data=st.one_of(
        st.text(alphabet="aZ09 -:.", min_size=1, max_size=8).map(str.encode),
        st.binary(min_size=1, max_size=64),
    ),
    old=st.sampled_from(_TOKENS[:-1]),
    new=st.sampled_from(_TOKENS),
)
Attack = Callable[[bytes], bytes]
_MUTATED: st.SearchStrategy[Attack] = st.lists(_MUTATIONS, min_size=1, max_size=3).map(
    lambda mutations: lambda envelope: _apply_all(mutations, envelope)
)
_ATTACKS: st.SearchStrategy[Attack] = st.one_of(
    st.binary(max_size=4096).map(lambda noise: lambda _envelope: noise),
    # mutations three times as often as noise: they get further in
    _MUTATED,
    _MUTATED,
    _MUTATED,
)


def _apply_all(mutations: list[_Mutation], envelope: bytes) -> bytes:
    for mutation in mutations:
        envelope = mutation.apply(envelope)
    return envelope


@pytest.fixture(scope="module")
def signed_query(hub: LiveHub) -> bytes:
    """One valid query for the whole fuzz: its retries are duplicates, which is fine."""
    return hub.query()


@settings(max_examples=100, deadline=None)
@given(attack=_ATTACKS)
async def test_fuzzed_bodies_get_a_signed_answer_never_a_5xx(
    hub: LiveHub, signed_query: bytes, attack: Attack
) -> None:
    status, body = await hub.post(attack(signed_query))
    assert status < 500
    message = hub.verify(body)
    if status == 200:
        assert message.header.message_class == "KnownToResult"
    else:
        code = message.body.get("code") or ""
        assert message.header.qualifier == "error"
        assert CODES[code].http_status == status, f"{code} answered with HTTP {status}"
        assert message.body.text


async def test_hub_still_answers_a_valid_query_after_the_fuzz(hub: LiveHub) -> None:
    status, body = await hub.post(hub.query())
    assert status == 200
    assert hub.southwark_status(body) == "known"
    assert hub.internal_errors() == 0
