"""No internals in answers: what the hub tells another party names the problem, and only that.

The session-wide scan (``tests.support.leak_scan``) checks every reason any
party signs during the suite. Here its detector is tested on known leaks and
on honest reasons, and the attack corpus, the invalid bodies and the bad
addresses are thrown at a running hub: each gets its SPEC code, no 5xx, and a
reason the scan has seen and found clean.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lxml import etree

from hub.clock import SystemClock
from hub.envelope import Recipient
from hub.errors import INTERNAL_REASON, Busy, InternalError, NotReady, for_peer
from hub.identifiers import HUB, AuthorityCode
from hub.pki.layout import PkiLayout
from tests.support.knownto_world import KnownToHub, PlayedNodes, knownto_hub
from tests.support.leak_scan import leaks
from tests.support.parties import LAMBETH
from tests.support.paths import ASSETS, REPO
from tests.support.signed_messages import SignerFor, sign

ON_THE_HUB = pytest.mark.asyncio(loop_scope="module")

ATTACKS = sorted((ASSETS / "attacks" / "xml").glob("*.xml"))
INVALID_BODIES = sorted((ASSETS / "invalid-bodies").glob("*.xml"))


@pytest.mark.parametrize(
    "reason",
    [
        f"{REPO}/hub/directory/london.toml: no authority 'HUB'",
        "/srv/irt/hub-data/log/log.sqlite: database is locked",
        "cannot connect to https://irt.lambeth.example:9443/v1/messages: connection refused",
        "cannot connect to 127.0.0.1:4431",
        "posting to https://e09000028.nodes.invalid/v1/messages failed",
        "TLS handshake failed: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
        'Traceback (most recent call last):\n  File "hub/endpoint.py", line 12, in handle',
        "LogStoreError(OperationalError('disk I/O error'))",
        "[Errno 111] Connect call failed",
        "cannot read hub.toml",
    ],
)
def test_the_scan_finds_internals(reason: str) -> None:
    assert leaks(reason), reason


@pytest.mark.parametrize(
    "reason",
    [
        "the directory holds no authority 'E09000034'",
        "message expired at 2026-12-03T20:27:12Z",
        "line 1: Element '{http://www.w3.org/2000/09/xmldsig#}Signature': This element is not "
        "expected",
        "line 1: Element '{urn:lcpc:irt:envelope:1}To', attribute 'authority': [facet 'pattern'] "
        "The value 'E0900003X' is not accepted by the pattern '[EWSN][0-9]{8}|HUB'",
        "Content-Type must be application/xml, not 'text/plain'",
        "the receiver failed; nothing was acknowledged; try again",
        "unusable answer (HTTP 500, schema-invalid)",
        "signature method 'http://www.w0.org/2001/04/xmldsig-more#ecdsa-sha256' is not allowed; "
        "use ecdsa-sha256 or rsa-sha256",
    ],
)
def test_the_scan_passes_honest_reasons(reason: str) -> None:
    assert leaks(reason) == []


def test_an_internal_error_is_told_without_its_reason_unless_written_for_the_asker() -> None:
    told = for_peer(InternalError("cannot append to /srv/irt/log.sqlite: disk I/O error"))
    assert (told.code, told.reason) == ("internal-error", INTERNAL_REASON)
    not_ready = NotReady("the children's index is empty")
    assert for_peer(not_ready) is not_ready
    busy = Busy("the hub is running all it admits", retry_after=2.3)
    assert for_peer(busy) is busy
    assert busy.retry_after == 3  # whole seconds, never early


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hub(
    dev_pki: PkiLayout,
    signed_protocols: Path,
    signer_for: SignerFor,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[KnownToHub]:
    workdir = tmp_path_factory.mktemp("leak-hub")
    nodes = PlayedNodes(signer_for)
    async with knownto_hub(dev_pki, signed_protocols, workdir, signer_for, nodes) as running:
        yield running


async def _refused(hub: KnownToHub, raw: bytes, sent: list[tuple[str, str]]) -> tuple[str, str]:
    posted = await hub.post(raw)
    assert 400 <= posted.status < 500, posted.body[:300]
    message = hub.answer(posted.body)
    code, reason = message.body.get("code", ""), message.body.text or ""
    assert ("Error", reason) in sent  # the session-wide scan saw it
    assert leaks(reason) == []
    return code, reason


@ON_THE_HUB
@pytest.mark.parametrize("attack", ATTACKS, ids=[a.stem for a in ATTACKS])
async def test_each_attack_gets_its_code_and_a_clean_reason(
    hub: KnownToHub, attack: Path, sent_reasons: list[tuple[str, str]]
) -> None:
    code, _ = await _refused(hub, attack.read_bytes(), sent_reasons)
    assert code == attack.stem.split("--")[0]


@ON_THE_HUB
@pytest.mark.parametrize("invalid", INVALID_BODIES, ids=[b.stem for b in INVALID_BODIES])
async def test_each_invalid_body_gets_schema_invalid_and_a_clean_reason(
    hub: KnownToHub, invalid: Path, signer_for: SignerFor, sent_reasons: list[tuple[str, str]]
) -> None:
    body = etree.parse(str(invalid)).getroot()
    raw, _ = sign(signer_for, body, sender=LAMBETH, to=(HUB,), created=SystemClock().now())
    code, _ = await _refused(hub, raw, sent_reasons)
    assert code == "schema-invalid"


@ON_THE_HUB
@pytest.mark.parametrize("to", ["HUB", "E09000034", "E08000025", "W06000015", LAMBETH])
async def test_each_bad_address_gets_unknown_recipient_and_a_clean_reason(
    hub: KnownToHub, to: str, sent_reasons: list[tuple[str, str]]
) -> None:
    raw = hub.query(to=(Recipient(authority=AuthorityCode(to)),))
    code, reason = await _refused(hub, raw, sent_reasons)
    assert code == "unknown-recipient"
    assert "london.toml" not in reason
