"""Shadow mode at the hub: staged candidate ISPs decided beside the ones in force.

When ``[hub] shadow_protocols`` stages signed candidates, every decision the
broker makes is also made with the candidates in place of the documents in
force (``PolicyEngine.evaluate_with_shadow``). Only the enforced decision is
ever used. When the effect differs (outcome, level, categories,
obligations), the hub

- counts it in ``irt_policy_shadow_differences_total`` by requester,
  responder and kind of change (``widened``, ``narrowed``, ``mixed``, or
  ``obligations`` when only those differ), and
- writes one structured log line: the two authorities, the purpose, the
  consent value, the practitioner's agency type, the level asked for, both
  effects and both decision digests (so the line can be matched with the
  message log). Never a child, a practitioner or any message content.
"""

from __future__ import annotations

import json
import logging
from typing import Final, Literal

from hub.metrics import Metrics
from hub.policy.decision import Decision
from hub.policy.engine import PolicyEngine
from hub.policy.model import LEVEL_RANK
from hub.policy.request import PolicyRequest

__all__ = ["Change", "change_kind", "decide_with_shadow"]

_LOG: Final = logging.getLogger(__name__)

Change = Literal["widened", "narrowed", "mixed", "obligations"]


def decide_with_shadow(
    engine: PolicyEngine, request: PolicyRequest, *, metrics: Metrics
) -> Decision:
    """The enforced decision for ``request``; a shadow difference is counted and logged.

    Without staged candidates this is ``engine.decide``. Never raises.
    """
    if not engine.shadow_documents:
        return engine.decide(request)
    enforced, shadow, differs = engine.evaluate_with_shadow(request)
    if differs:
        kind = change_kind(enforced, shadow)
        metrics.policy_shadow_differences.labels(request.requester, request.responder, kind).inc()
        _LOG.info(
            "policy shadow difference %s", json.dumps(_record(request, enforced, shadow, kind))
        )
    return enforced


def change_kind(enforced: Decision, shadow: Decision) -> Change:
    """How ``shadow`` differs from ``enforced`` for the requester: more, less, both, or duties."""
    more = LEVEL_RANK[shadow.level] > LEVEL_RANK[enforced.level] or bool(
        shadow.categories - enforced.categories
    )
    less = LEVEL_RANK[shadow.level] < LEVEL_RANK[enforced.level] or bool(
        enforced.categories - shadow.categories
    )
    if more and less:
        return "mixed"
    if more:
        return "widened"
    return "narrowed" if less else "obligations"


def _record(
    request: PolicyRequest, enforced: Decision, shadow: Decision, kind: Change
) -> dict[str, object]:
    return {
        "event": "policy-shadow-difference",
        "change": kind,
        "requester": request.requester,
        "responder": request.responder,
        "purpose": request.purpose,
        "consent": request.consent,
        "agency": request.agency,
        "requested_level": request.level,
        "message_class": request.message_class,
        "enforced": {"outcome": enforced.outcome, "level": enforced.level},
        "shadow": {"outcome": shadow.outcome, "level": shadow.level},
        "enforced_decision": enforced.digest(),
        "shadow_decision": shadow.digest(),
    }
