"""Small ISP documents for the broker's policy tests, signed with the dev PKI (imported by name)."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from hub.signing import Signer

SignerFor = Callable[[str], Signer]
PURPOSES = "".join(
    f"<Purpose>{p}</Purpose>"
    for p in ("child-protection-s47", "child-in-need-s17", "early-help", "missing-child")
)
CONSENTS = "".join(f"<Consent>{c}</Consent>" for c in ("given", "not-required"))


def isp(
    authority: str,
    side: str,
    level: str,
    *,
    version: int = 1,
    categories: tuple[str, ...] = (),
    retention: int = 365,
) -> bytes:
    """One permit rule ``p`` on ``side`` up to ``level`` for every London partner."""
    granted = "".join(f"<Category>{c}</Category>" for c in categories)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<InformationSharingProtocol xmlns="urn:lcpc:irt:isp:1">'
        f"<Id>isp-{authority}</Id><Authority>{authority}</Authority><Version>{version}</Version>"
        "<EffectiveFrom>2020-01-01</EffectiveFrom>"
        '<Signatories><Agency type="social-care" name="Children\'s Social Care"/></Signatories>'
        "<Partners><London/></Partners>"
        f'<Rules><Rule id="p" effect="permit" side="{side}">{PURPOSES}{CONSENTS}'
        f"<MaxLevel>{level}</MaxLevel>{granted}</Rule></Rules>"
        f"<Obligations><RetentionDays>{retention}</RetentionDays>"
        "<NoOnwardSharing>true</NoOnwardSharing><NotifyOwner>false</NotifyOwner></Obligations>"
        "</InformationSharingProtocol>\n"
    ).encode()


def signed(data: bytes, signer: Signer) -> bytes:
    """``data`` signed with ``signer`` (SPEC §3 enveloped signature)."""
    return signer.sign(etree.fromstring(data))
