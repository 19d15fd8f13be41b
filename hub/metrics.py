"""Prometheus metrics of one party (hub or node), on its own registry.

Each party has its own ``CollectorRegistry`` so that several parties can run
in one process (the demo, the tests) without sharing counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The counters and histograms a party exports on ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "irt_messages_total",
            "Messages received, by class and outcome (ok or a SPEC error code).",
            ["message_class", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "irt_message_seconds",
            "Time from receiving a message to sending its answer, by class.",
            ["message_class"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.target_outcomes = Counter(
            "irt_fanout_target_total",
            "Known-to fan-out results per target authority and status.",
            ["authority", "status"],
            registry=self.registry,
        )
        self.authority_up = Gauge(
            "irt_authority_available",
            "1 when the authority's node answered its last request, else 0.",
            ["authority"],
            registry=self.registry,
        )
        self.policy_shadow_differences = Counter(
            "irt_policy_shadow_differences_total",
            "Decisions a staged shadow ISP would change, by requester, responder and change.",
            ["requester", "responder", "change"],
            registry=self.registry,
        )
        self.fanout_in_flight = Gauge(
            "irt_fanout_in_flight",
            "Known-to fan-outs holding an admission slot now.",
            registry=self.registry,
        )
        self.fanout_waiting = Gauge(
            "irt_fanout_waiting",
            "Known-to queries waiting for an admission slot now (the queue depth).",
            registry=self.registry,
        )
        self.fanout_rejections = Counter(
            "irt_fanout_rejections_total",
            "Known-to queries refused at admission, by reason: hub-busy (503), "
            "requester-busy (429) or too-late (stale-message: the deadline left too little).",
            ["reason"],
            registry=self.registry,
        )
        self.fanout_reserve = Gauge(
            "irt_fanout_result_reserve_seconds",
            "How long before its deadline a known-to fan-out now stops, to sign, log "
            "and send its result in time (learnt from recent results).",
            registry=self.registry,
        )
        self.deadline_misses = Counter(
            "irt_deadline_misses_total",
            "Answers sent after the deadline they were promised by, by class.",
            ["message_class"],
            registry=self.registry,
        )
        self.alarms = Counter(
            "irt_alarms_total",
            "Security alarms raised, by kind (e.g. inconsistent checkpoint).",
            ["kind"],
            registry=self.registry,
        )

        self.crl_next_update = Gauge(
            "irt_crl_next_update_timestamp_seconds",
            "nextUpdate of the CRL in force, as a Unix time; every message is refused after it.",
            registry=self.registry,
        )
        self.crl_number = Gauge(
            "irt_crl_number", "cRLNumber of the CRL in force.", registry=self.registry
        )
        self.crl_reloads = Counter(
            "irt_crl_reloads_total",
            "New CRLs offered while running, by outcome (installed or refused).",
            ["outcome"],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)
