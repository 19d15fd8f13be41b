"""Every reason a party of the interchange signs for another, scanned for its internals.

A pytest plugin (named in ``pytest_plugins`` of ``tests/conftest.py``). For
the whole session it wraps the two ways a ``Messenger`` — the hub's and
every node's in this process — signs a message: ``sign`` (forwards, receipts,
relays, delivery-failure notices) and ``sign_answer`` (answers and every
``env:Error``). It records the text of each ``env:Error`` and of every
``Reason`` element in the bodies signed. After each test, what that test
provoked is checked by ``leaks``; a reason that carries a file path, a host
name or URL, a stack frame or a library's own message fails the test.

A reason may still quote the sender's own bytes as the parser or the XSD
validator saw them ("line 1: Element 'To', attribute 'authority': … not
accepted by the pattern …"): that names the sender's problem, in its own
document, and is what it needs to fix it (hub/schemas.py).
"""

from __future__ import annotations

import re
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest
from lxml import etree

from hub.envelope import ENV_NS, Header
from hub.messenger import Messenger
from tests.support.paths import REPO

_PATTERNS: Final = {
    "a file path": re.compile(
        r"(?<![\w:/.{])/(?:[\w.@~+-]+/)+[\w.@~+-]*|[A-Za-z]:\\|"
        r"\b[\w-]+\.(?:py|pyc|toml|sqlite|db|pem|key|log)\b"
    ),
    "an IP address": re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"),
    "a host name": re.compile(r"\blocalhost\b|\.invalid\b|\.internal\b|\.local\b"),
    "a stack frame": re.compile(r"Traceback \(most recent|File \"|line \d+, in \w"),
    "a library message": re.compile(
        r"\b(?:lxml|signxml|cryptography|aiohttp|asyncio|asyncpg|psycopg|sqlite3|OpenSSL)\b"
        r"|_ssl\.c|\[Errno \d+\]|\[SSL[:\]]|<class '|object at 0x|"
        r"\b[A-Z]\w*(?:Error|Exception|Warning)\("
    ),
}
_URL: Final = re.compile(r"\b[a-z][a-z0-9+.-]*://([^/\s'\"}]+)", re.IGNORECASE)
_PARTY_HOST: Final = re.compile(
    r":\d+\Z|\A(?:localhost|[\d.]+)\Z|\.(?:example|invalid|local|internal)\Z"
)
"""A URL's host that names a party's machine (a port, an address, a local
name), not a namespace or an algorithm the sender's own document names."""
_ERROR: Final = f"{{{ENV_NS}}}Error"


_QUOTED_INPUT: Final = re.compile(
    r"\b(?:[Tt]he value|pattern|Element|attribute|method|canonicalization is|URI=) '[^']*'"
)
"""What the validators quote: the sender's own values, names and algorithm
URIs, and the rule they broke."""


def leaks(reason: str) -> list[str]:
    """What in ``reason`` a party must not be told, named; empty when it is clean."""
    reason = _QUOTED_INPUT.sub("…", reason)
    found = [
        f"{what}: {match.group(0)!r}"
        for what, p in _PATTERNS.items()
        if (match := p.search(reason))
    ]
    for match in _URL.finditer(reason):
        if _PARTY_HOST.search(match.group(1).lower()):
            found.append(f"a URL: {match.group(0)!r}")
    for secret in _local_strings():
        if secret in reason:
            found.append(f"this machine's {secret!r}")
    return found


def _local_strings() -> list[str]:
    host = socket.gethostname()
    strings = [str(REPO), sys.prefix, str(Path.home())]
    if len(host) > 3:
        strings.append(host)
    return [s for s in strings if len(s) > 1]


def reasons_in(body: etree._Element) -> list[str]:
    """The ``env:Error`` text and every ``Reason`` element's text in ``body``."""
    found = [body.text or ""] if body.tag == _ERROR else []
    found.extend(
        element.text or ""
        for element in body.iter()
        if isinstance(element.tag, str) and etree.QName(element).localname == "Reason"
    )
    return found


_SENT: list[tuple[str, str]] = []
"""(class, reason) signed since the current test began."""


@pytest.fixture(scope="session", autouse=True)
def _record_signed_reasons() -> Iterator[None]:
    sign = Messenger.sign
    sign_answer = Messenger.sign_answer

    async def recording_sign(self: Messenger, header: Header, body: etree._Element) -> bytes:
        _SENT.extend((header.message_class, r) for r in reasons_in(body))
        return await sign(self, header, body)

    async def recording_answer(self: Messenger, header: Header, body: etree._Element) -> bytes:
        _SENT.extend((header.message_class, r) for r in reasons_in(body))
        return await sign_answer(self, header, body)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Messenger, "sign", recording_sign)
        patch.setattr(Messenger, "sign_answer", recording_answer)
        yield


@pytest.fixture
def sent_reasons() -> list[tuple[str, str]]:
    """The (class, reason) pairs signed for other parties so far in this test."""
    return _SENT


@pytest.fixture(autouse=True)
def _no_internals_in_sent_reasons(_record_signed_reasons: None) -> Iterator[None]:
    yield
    sent = list(_SENT)
    _SENT.clear()
    leaked = [
        f"{cls}: {reason!r}: {', '.join(found)}" for cls, reason in sent if (found := leaks(reason))
    ]
    if leaked:
        pytest.fail("reasons sent to other parties carry internals:\n" + "\n".join(leaked))
