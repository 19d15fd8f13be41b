"""Is this node fit to answer? Its index, certificates and CRL, judged at one instant.

A node answering from an empty or stale index tells a practitioner, under
its signature, that a child known to its services is not: the worst answer
the interchange can give. So a node fails closed:

- ``irthub node run`` refuses to start unless ``check_index`` passes;
- the responder runs ``check_index`` before every match and answers
  ``internal-error`` instead (the hub shows that authority as ``error``);
- ``/healthz`` (``adapters.node.health``) reports every ``Check`` below and
  answers 503 while one is ``failing``.

Each check is ``ok``, ``warning`` (answers are still right, but an operator
must act soon) or ``failing`` (answers would be wrong, or refused by every
party):

- ``index``: readable, holding children, imported within the configured age;
- ``signing_certificate``, ``tls_certificate``: valid now; a warning within
  ``CERTIFICATE_WARNING`` of expiry;
- ``crl``: its nextUpdate not passed (after it the node can check no
  signature); a warning within ``CRL_WARNING`` of it, or when the node has
  no CRL and so checks no revocation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal

from cryptography import x509

from adapters.index.base import ChildIndex, IndexStatus
from hub.errors import InternalError, NotReady

__all__ = [
    "CERTIFICATE_WARNING",
    "CLOCK_TOLERANCE",
    "CRL_WARNING",
    "Check",
    "Level",
    "certificate_check",
    "check_index",
    "crl_check",
    "index_check",
]

CERTIFICATE_WARNING: Final = timedelta(days=14)
"""Two weeks: time for a borough to have a new certificate issued and installed."""
CRL_WARNING: Final = timedelta(hours=24)
"""A day: the CRL is republished weekly (``irthub pki crl``), so a day before
its nextUpdate means a publication was missed."""
CLOCK_TOLERANCE: Final = timedelta(minutes=5)
"""An import dated this far ahead of our clock is a clock difference between
machines (SPEC §2 allows the same); further ahead, the age cannot be trusted."""

Level = Literal["ok", "warning", "failing"]


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one check: its level, a plain sentence, and facts for ``/healthz``."""

    level: Level
    summary: str
    """``ok``, or what is wrong and what to do."""
    facts: dict[str, object] = field(default_factory=dict)
    """JSON-ready values: sizes, instants (ISO 8601), remaining time."""


def check_index(index: ChildIndex, *, max_age: timedelta, now: datetime) -> IndexStatus:
    """The index's status if it is fit to answer from at ``now``.

    Raises ``NotReady`` with a plain reason, which the asking party is told,
    when it holds no children, or was imported more than ``max_age`` before
    ``now`` (or claims an import time ahead of ``now``); ``InternalError``
    when it cannot be read.
    """
    status = index.status()
    if status.children < 1:
        raise NotReady(
            "the children's index is empty: a node answering from it would say not-known "
            "for every child; import the borough's exports (irthub node import)"
        )
    imported = status.refreshed_at
    if imported is None:  # a live index cannot go stale
        return status
    age = now - imported
    if age > max_age:
        raise NotReady(
            f"the children's index was imported {_duration(age)} ago, at {imported.isoformat()}, "
            f"longer ago than the {_duration(max_age)} allowed ([node] index_max_age_hours): "
            "import the latest exports"
        )
    if age < -CLOCK_TOLERANCE:
        raise NotReady(
            f"the children's index says it was imported at {imported.isoformat()}, "
            f"{_duration(-age)} ahead of this machine's clock: check the clocks, then import again"
        )
    return status


def index_check(index: ChildIndex, *, max_age: timedelta, now: datetime) -> Check:
    """``check_index`` as a ``Check``, with the index's size and age."""
    facts: dict[str, object] = {"max_age_hours": max_age / timedelta(hours=1)}
    try:
        status = index.status()
        facts["children"] = status.children
        if status.refreshed_at is not None:
            facts["imported_at"] = status.refreshed_at.isoformat()
            facts["age_hours"] = round((now - status.refreshed_at) / timedelta(hours=1), 2)
        check_index(index, max_age=max_age, now=now)
    except InternalError as exc:
        return Check("failing", exc.reason, facts)
    return Check("ok", "ok", facts)


def certificate_check(certificate: x509.Certificate, *, now: datetime) -> Check:
    """Whether ``certificate`` is valid at ``now``, and how long it has left."""
    not_before, not_after = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    left = not_after - now
    facts: dict[str, object] = {
        "not_after": not_after.isoformat(),
        "days_left": round(left / timedelta(days=1), 2),
    }
    if now < not_before:
        return Check("failing", f"not valid until {not_before.isoformat()}", facts)
    if left <= timedelta(0):
        return Check(
            "failing",
            f"expired at {not_after.isoformat()}: install a new certificate",
            facts,
        )
    if left <= CERTIFICATE_WARNING:
        return Check(
            "warning",
            f"expires at {not_after.isoformat()}, in {_duration(left)}: have a new one issued",
            facts,
        )
    return Check("ok", "ok", facts)


def crl_check(crl: x509.CertificateRevocationList | None, *, now: datetime) -> Check:
    """Whether the CRL in force is current at ``now``, and how long it has left."""
    if crl is None:
        return Check("warning", "no CRL configured ([tls] crl): revoked certificates are accepted")
    next_update = crl.next_update_utc
    if next_update is None:  # pragma: no cover - the trust store refuses such a CRL
        return Check("failing", "the CRL has no nextUpdate")
    left = next_update - now
    facts: dict[str, object] = {
        "next_update": next_update.isoformat(),
        "hours_left": round(left / timedelta(hours=1), 2),
    }
    if left <= timedelta(0):
        return Check(
            "failing",
            f"the CRL's nextUpdate {next_update.isoformat()} has passed: every message is "
            "refused until a fresh CRL is installed (irthub pki crl)",
            facts,
        )
    if left <= CRL_WARNING:
        return Check(
            "warning",
            f"the CRL's nextUpdate is {next_update.isoformat()}, in {_duration(left)}: "
            "publish a fresh one",
            facts,
        )
    return Check("ok", "ok", facts)


def _duration(span: timedelta) -> str:
    hours = span / timedelta(hours=1)
    if hours >= 48:
        return f"{hours / 24:.1f} days"
    if hours >= 1:
        return f"{hours:.1f} hours"
    return f"{span / timedelta(minutes=1):.0f} minutes"
