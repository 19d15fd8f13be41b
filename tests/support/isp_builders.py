"""Builders for small ISP documents, shared by the policy tests (imported by name)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

TODAY = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class RuleXml(Protocol):
    """``build_rule``, as the ``rule_xml`` fixture hands it out."""

    def __call__(
        self,
        rule_id: str,
        effect: str,
        side: str,
        *,
        purposes: Sequence[str] = (),
        consents: Sequence[str] = (),
        agencies: Sequence[str] = (),
        partners: Sequence[str] | None = None,
        level: str | None = None,
        categories: Sequence[str] = (),
    ) -> str: ...


class IspXml(Protocol):
    """``build_isp``, as the ``isp_xml`` fixture hands it out."""

    def __call__(
        self,
        authority: str,
        rules: Sequence[str],
        *,
        version: int = 1,
        partners: Sequence[str] = ("london",),
        effective_from: str = "2026-01-01",
        effective_to: str | None = None,
        retention: int = 365,
        notify: bool = False,
    ) -> bytes: ...


def _partners(items: Sequence[str]) -> str:
    out = []
    for item in items:
        if item == "london":
            out.append("<London/>")
        elif item == "neighbours":
            out.append("<Neighbours/>")
        elif item.startswith("group:"):
            out.append(f"<Group>{item[6:]}</Group>")
        else:
            out.append(f"<Authority>{item}</Authority>")
    return "".join(out)


def build_rule(
    rule_id: str,
    effect: str,
    side: str,
    *,
    purposes: Sequence[str] = (),
    consents: Sequence[str] = (),
    agencies: Sequence[str] = (),
    partners: Sequence[str] | None = None,
    level: str | None = None,
    categories: Sequence[str] = (),
) -> str:
    """One <Rule> element as text."""
    body = "".join(f"<Purpose>{p}</Purpose>" for p in purposes)
    body += "".join(f"<Consent>{c}</Consent>" for c in consents)
    body += "".join(f"<RequesterAgency>{a}</RequesterAgency>" for a in agencies)
    if partners is not None:
        body += f"<Partners>{_partners(partners)}</Partners>"
    if level is not None:
        body += f"<MaxLevel>{level}</MaxLevel>"
    body += "".join(f"<Category>{c}</Category>" for c in categories)
    return f'\n    <Rule id="{rule_id}" effect="{effect}" side="{side}">{body}</Rule>'


def build_isp(
    authority: str,
    rules: Sequence[str],
    *,
    version: int = 1,
    partners: Sequence[str] = ("london",),
    effective_from: str = "2026-01-01",
    effective_to: str | None = None,
    retention: int = 365,
    notify: bool = False,
) -> bytes:
    """A whole ISP document; each rule starts on its own line so reports can name lines."""
    to = f"<EffectiveTo>{effective_to}</EffectiveTo>" if effective_to else ""
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<InformationSharingProtocol xmlns="urn:lcpc:irt:isp:1">\n'
        f"  <Id>isp-{authority}</Id><Authority>{authority}</Authority>"
        f"<Version>{version}</Version>\n"
        f"  <EffectiveFrom>{effective_from}</EffectiveFrom>{to}\n"
        '  <Signatories><Agency type="social-care" name="Children\'s Social Care"/></Signatories>\n'
        f"  <Partners>{_partners(partners)}</Partners>\n"
        f"  <Rules>{''.join(rules)}\n  </Rules>\n"
        f"  <Obligations><RetentionDays>{retention}</RetentionDays>"
        f"<NoOnwardSharing>true</NoOnwardSharing>"
        f"<NotifyOwner>{'true' if notify else 'false'}</NotifyOwner></Obligations>\n"
        "</InformationSharingProtocol>\n"
    )
    return text.encode()


ALL_CONSENTS = ("given", "refused", "not-sought", "not-required")


def asker(authority: str, *, level: str = "details", categories: Sequence[str] = ()) -> bytes:
    """A document whose practitioners may ask anything of anyone, granting nothing."""
    return build_isp(
        authority,
        [
            build_rule(
                "r-all",
                "permit",
                "request",
                purposes=(
                    "child-protection-s47",
                    "child-in-need-s17",
                    "early-help",
                    "looked-after-child",
                    "missing-child",
                    "education-welfare",
                ),
                consents=ALL_CONSENTS,
                level=level,
                categories=categories,
            )
        ],
    )
