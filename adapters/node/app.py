"""The borough node's aiohttp application (same TLS and signature rules as the hub).

A node accepts ``KnownToForward`` from the hub only. For each it:

(1) checks the forward is the hub's (signature, TLS identity, ``From HUB``);
(2) reads the grant (level, categories, deadline) from the hub's decision;
(3) verifies the requester's original signed query on its own, and that the
    forward correlates with it: the node trusts the hub's routing, never its
    word about who asked;
(4) checks that the local children's index is fit to answer from
    (``adapters.node.readiness``: not empty, not stale), else answers
    ``internal-error``, never ``not-known``; then matches the subject in it;
(5) answers a signed ``KnownToResponse`` redacted to the grant.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Final

from aiohttp import web

from adapters.config import DEFAULT_INDEX_MAX_AGE_HOURS, NodeConfig
from adapters.index.base import ChildIndex
from adapters.index.model import Subject
from adapters.matching.decision import MatchResult
from adapters.matching.matcher import find
from adapters.node.health import attach_health
from adapters.node.readiness import check_index
from adapters.node.response import response_body
from adapters.node.revocation import watch_revocation
from adapters.node.subject_xml import subject_from_element
from adapters.referral.wiring import NODE_RETRYABLE, attach_node_referrals
from adapters.witness.wiring import attach_witness
from hub.clock import Clock, SystemClock
from hub.disclosure import KNOWNTO_NS, Grant
from hub.endpoint import (
    ENDPOINT_KEY,
    MessageEndpoint,
    Reply,
    error_middleware,
    metrics_endpoint,
)
from hub.errors import SchemaInvalid, SenderMismatch
from hub.identifiers import HUB
from hub.messenger import Messenger
from hub.metrics import Metrics
from hub.pki.trust import TrustStore
from hub.replay.guard import FreshnessPolicy, ReplayGuard
from hub.schemas import default_registry
from hub.signing import Signer
from hub.storage.sqlite.seen import SqliteSeenStore
from hub.verify import EnvelopeVerifier, VerifiedMessage
from hub.xmlparse import XmlLimits

__all__ = ["KnownToResponder", "build_node_app"]

_K: Final = f"{{{KNOWNTO_NS}}}"


@dataclass(frozen=True)
class KnownToResponder:
    """Answers ``KnownToForward`` from the local index; see the module docstring."""

    messenger: Messenger
    originals: EnvelopeVerifier
    """Verifies the requester's embedded query; no replay store, since the
    hub forwards one query to each node once and the forward itself is
    replay-checked."""
    index: ChildIndex
    clock: Clock = field(default_factory=SystemClock)
    index_max_age: timedelta = timedelta(hours=DEFAULT_INDEX_MAX_AGE_HOURS)
    """An index imported longer ago than this is not answered from."""
    answer_delay: float = 0.0
    """Failure injection: seconds to wait before answering."""

    async def handle(self, forward: VerifiedMessage) -> Reply:
        """Match the forwarded query and answer within the grant."""
        if forward.header.sender.authority != HUB:  # (1)
            raise SenderMismatch("only the hub may forward queries to a node")
        decision = forward.body.find(_K + "Decision")
        if decision is None:  # pragma: no cover - the schema requires it
            raise SchemaInvalid("KnownToForward has no Decision")
        grant = Grant.from_element(decision)  # (2)
        query = await self.messenger.run(  # (3)
            self.originals.verify_envelope, _decode(forward.body.findtext(_K + "OriginalMessage"))
        )
        if query.header.message_class != "KnownToQuery":
            raise SchemaInvalid(f"the forwarded message is a {query.header.message_class}")
        if query.header.message_id != forward.header.correlation_id:
            raise SchemaInvalid("the forward's CorrelationID does not name the query it carries")
        subject_element = query.body.find(_K + "Subject")
        if subject_element is None:  # pragma: no cover - the schema requires it
            raise SchemaInvalid("KnownToQuery has no Subject")
        subject = subject_from_element(subject_element)
        result = await self.messenger.run(self._match, subject)  # (4)
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        return Reply(body=response_body(result, grant))  # (5)

    def _match(self, subject: Subject) -> MatchResult:
        check_index(self.index, max_age=self.index_max_age, now=self.clock.now())
        return find(subject, index=self.index)


def build_node_app(
    config: NodeConfig, *, index: ChildIndex, clock: Clock | None = None
) -> web.Application:
    """The node application for ``config``, answering from ``index``.

    The index is not checked here: ``irthub node run`` refuses to start on one
    unfit to answer from, and the responder and ``/healthz`` check it again
    at every use. Raises ``InternalError`` when keys or certificates cannot be
    loaded.
    """
    clock = clock or SystemClock()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    limits = config.limits
    trust = TrustStore.from_files(config.tls.root, config.tls.crl)
    seen = SqliteSeenStore(config.data_dir / "seen.sqlite")
    freshness = FreshnessPolicy(max_clock_skew=timedelta(seconds=limits.clock_skew_seconds))
    verifier = EnvelopeVerifier(
        trust=trust,
        registry=default_registry(),
        clock=clock,
        limits=XmlLimits(max_bytes=limits.max_message_bytes),
        replay=ReplayGuard(store=seen, clock=clock, policy=freshness),
    )
    signer = Signer.from_files(config.signing.key, config.signing.cert)
    executor = ThreadPoolExecutor(max_workers=limits.verify_threads, thread_name_prefix="irt-node")
    messenger = Messenger(
        authority=config.authority,
        node_id=config.node_id,
        signer=signer,
        verifier=verifier,
        clock=clock,
        executor=executor,
        metrics=Metrics(),
    )
    responder = KnownToResponder(
        messenger=messenger,
        originals=replace(verifier, replay=None),
        index=index,
        clock=clock,
        index_max_age=config.index_max_age,
        answer_delay=config.answer_delay_seconds,
    )

    app = web.Application(
        middlewares=[error_middleware], client_max_size=limits.max_message_bytes * 2
    )

    async def resources(app: web.Application) -> AsyncIterator[None]:
        yield
        executor.shutdown(wait=True)
        seen.close()

    app.cleanup_ctx.append(resources)
    attach_witness(app, config=config, metrics=messenger.metrics, clock=clock)
    referral_handlers = attach_node_referrals(app, config=config, messenger=messenger)
    endpoint = MessageEndpoint(
        messenger=messenger,
        handlers={"KnownToForward": responder.handle, **referral_handlers},
        max_message_bytes=limits.max_message_bytes,
        retryable=NODE_RETRYABLE,
    )
    app[ENDPOINT_KEY] = endpoint
    watch_revocation(
        app, trust, config=config, metrics=messenger.metrics, certificate=signer.certificate
    )
    attach_health(
        app,
        config=config,
        index=index,
        verifier=verifier,
        signing_certificate=signer.certificate,
        clock=clock,
    )
    app.router.add_post("/v1/messages", endpoint.handle)
    app.router.add_get("/metrics", metrics_endpoint)
    return app


def _decode(text: str | None) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except binascii.Error as exc:
        raise SchemaInvalid("OriginalMessage is not valid base64") from exc
