"""The hub's aiohttp application, composed in named steps.

Each step is a function of a ``hub.app`` module with one concept: open the
storage (``storage``), build the verifier and the hub's messenger
(``messenger``), load the London directory (``directory``) and the signed
ISPs (``policies``), open the message log, build every handler
(``handlers``: known-to, catalogues, referrals and their courier) and then
the message endpoint over the finished, read-only handler registry; then
hold everything in the application in the order its ``cleanup_ctx`` must
release it, and add the routes (``routes``).

Everything the hub holds for its lifetime lives in ``web.AppKey`` slots and
is opened and closed in ``cleanup_ctx``; handlers keep no per-call state on
shared objects.
"""

from __future__ import annotations

from aiohttp import web

from hub.app.catalogues import refresh_catalogues
from hub.app.delivery import close_delivery, https_delivery
from hub.app.directory import load_london_directory, publish_directory
from hub.app.handlers import build_endpoint, build_handlers
from hub.app.log import attach_log
from hub.app.messenger import build_messenger, build_verifier, shut_down_pool
from hub.app.policies import load_signed_policy
from hub.app.referrals import ReferralParts, attach_referrals
from hub.app.revocation import watch_revocation
from hub.app.routes import add_routes
from hub.app.storage import hold_storage, open_storage
from hub.clock import Clock, SystemClock
from hub.config import HubConfig
from hub.endpoint import error_middleware
from hub.log.message_log import MessageLog
from hub.transport.delivery import Delivery

__all__ = ["build_hub_app"]


def build_hub_app(
    config: HubConfig,
    *,
    clock: Clock | None = None,
    delivery: Delivery | None = None,
) -> web.Application:
    """The hub application for ``config``.

    ``delivery`` replaces the HTTPS client, for failure injection in tests.
    Raises ``InternalError`` (or ``ConfigError``) when storage, keys,
    certificates or policy documents cannot be opened or loaded.
    """
    clock = clock or SystemClock()
    storage = open_storage(config)
    verifier = build_verifier(config, seen=storage.seen, clock=clock)
    directory = load_london_directory(config)
    policy = load_signed_policy(
        config, directory=directory, verifier=verifier, clock=clock, kept=storage.isps
    )
    log = MessageLog(storage.log, clock=clock)
    messenger = build_messenger(config, verifier=verifier, log=log, clock=clock)
    outbound = delivery or https_delivery(config)
    handlers = build_handlers(
        config,
        messenger=messenger,
        storage=storage,
        directory=directory,
        policy=policy,
        delivery=outbound,
    )
    endpoint = build_endpoint(config, messenger=messenger, handlers=handlers.registry())

    app = web.Application(
        middlewares=[error_middleware], client_max_size=config.limits.max_message_bytes * 2
    )
    # cleanup_ctx unwinds in reverse: the courier and the catalogue refresh
    # stop first, then outbound connections, the thread pool, the
    # checkpointer (a last checkpoint) and the log; the storage closes last.
    hold_storage(app, storage)
    attach_log(app, log, config=config)
    shut_down_pool(app, messenger)
    close_delivery(app, outbound)
    attach_referrals(
        app,
        ReferralParts(
            store=storage.referrals,
            catalogues=handlers.catalogues,
            referrals=handlers.referrals,
            courier=handlers.courier,
        ),
        messenger=messenger,
    )
    watch_revocation(app, verifier.trust, config=config, metrics=messenger.metrics)
    refresh_catalogues(app, handlers.catalogues, storage=storage, config=config)
    publish_directory(app, directory, config=config, messenger=messenger, isps=policy.documents)
    add_routes(app, endpoint, config=config)
    return app
