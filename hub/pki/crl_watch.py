"""Putting a new CRL in force while a party runs (SPEC §3.4): revocation within seconds, no restart.

A ``CrlWatcher`` offers each new CRL it finds to the party's ``TrustStore``
(which every message check uses) and its server TLS context
(``hub.transport.tls.ServerTls``, which checks every new TLS client). It finds them three ways:

- the CRL file (``[tls] crl``) is looked at every ``[tls] crl_reload_seconds``:
  its size and modification time first, then its SHA-256, so a file rewritten
  with the same bytes changes nothing;
- ``wake()`` looks at once; ``irthub hub run`` and ``node run`` call it on
  SIGHUP;
- ``fetch``, when given (a node), gets the CRL the hub serves at the CRL
  distribution point its certificates name (``distribution_path``, by
  default ``CRL_PATH``) at every interval; one numbered no higher than the
  CRL in force is no news (the hub may lag behind the party's own file).

A CRL is put in force only when it parses, is signed by a pinned root, has a
nextUpdate and a number not lower than the CRL in force
(``TrustStore.install_crl``). Anything else leaves the previous CRL in force
and raises an alarm: an ERROR log line, ``irt_alarms_total{kind="crl-refused"}``,
and the reason handed to ``report`` for ``/healthz``, until a good CRL
arrives. The nextUpdate and number of the CRL in force are metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Final, Protocol
from urllib.parse import urlsplit

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hub.errors import IrtError
from hub.metrics import Metrics
from hub.pki.profile_model import CRL_DISTRIBUTION_PATH
from hub.pki.trust import TrustStore, crl_number

__all__ = [
    "CRL_PATH",
    "CRL_WATCH_KEY",
    "MAX_CRL_BYTES",
    "CrlWatcher",
    "Fetch",
    "TlsReload",
    "distribution_path",
]

CRL_PATH: Final = CRL_DISTRIBUTION_PATH
"""Where the hub serves the CRL in force (DER, ``application/pkix-crl``); party
certificates name it as their CRL distribution point (``certs/profiles``)."""

MAX_CRL_BYTES: Final = 4 * 1024 * 1024
"""A CRL larger than this is refused unread: thousands of revocations of the
London PKI's ~70 certificates fit in a few kilobytes."""

_LOG = logging.getLogger(__name__)


def distribution_path(cert: x509.Certificate) -> str:
    """The path of the CRL distribution point ``cert`` names, or ``CRL_PATH`` if it names none.

    Only the path is taken: a node fetches from the hub it is configured with
    (and trusts over mutual TLS), never from a host a certificate names.
    """
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return CRL_PATH
    for point in points:
        for name in point.full_name or ():
            if isinstance(name, x509.UniformResourceIdentifier):
                parts = urlsplit(name.value)
                if parts.scheme == "https" and parts.path.startswith("/"):
                    return parts.path
    return CRL_PATH


class TlsReload(Protocol):
    """A server TLS context that takes a new CRL (``hub.transport.tls.ServerTls``)."""

    def reload(self, crl_pem: bytes) -> None:
        """Check new handshakes against ``crl_pem``; raise ``IrtError`` if it cannot."""
        ...


Fetch = Callable[[], Awaitable[bytes]]
"""Gets the CRL from its distribution point (PEM or DER); raises ``IrtError`` or ``OSError``."""


class CrlWatcher:
    """Finds new CRLs and puts them in force; see the module docstring."""

    def __init__(
        self,
        trust: TrustStore,
        *,
        path: Path | None,
        interval: float,
        tls: TlsReload | None = None,
        metrics: Metrics | None = None,
        fetch: Fetch | None = None,
        report: Callable[[str | None], None] = lambda _alarm: None,
    ) -> None:
        """Watch ``path`` (and ``fetch``) every ``interval`` seconds for ``trust`` and ``tls``.

        The file is taken as already loaded: only a change is offered.
        """
        self._trust = trust
        self._path = path
        self._interval = interval
        self._tls = tls
        self._metrics = metrics
        self._fetch = fetch
        self._report = report
        self._stamp = _stamp(path)
        self._digest: bytes | None = None
        self._wake = asyncio.Event()
        self.alarm: str | None = None
        """Why the last CRL offered was refused, until a good one is put in force."""
        self._publish(trust.crl)

    @property
    def crl(self) -> x509.CertificateRevocationList | None:
        """The CRL in force."""
        return self._trust.crl

    @property
    def tls(self) -> TlsReload | None:
        """The server context this watcher reloads, if any."""
        return self._tls

    def attach_tls(self, tls: TlsReload) -> None:
        """Reload ``tls`` too from now on (the server context is built after the app)."""
        self._tls = tls
        crl = self._trust.crl
        if crl is not None:
            tls.reload(crl.public_bytes(serialization.Encoding.PEM))

    def wake(self) -> None:
        """Look for a new CRL now rather than at the next interval."""
        self._wake.set()

    def check_file(self) -> bool:
        """Offer the CRL file if it changed since last looked at; True when one was put in force."""
        if self._path is None:
            return False
        stamp = _stamp(self._path)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            data = self._path.read_bytes()
        except OSError as exc:
            return self._refuse(f"cannot read the CRL file {self._path}: {exc.strerror}")
        digest = hashlib.sha256(data).digest()
        if digest == self._digest:
            return False
        self._digest = digest
        return self.offer(data, source=str(self._path))

    async def check_distribution_point(self) -> bool:
        """Fetch the CRL and offer it; True when a new one was put in force."""
        if self._fetch is None:
            return False
        try:
            data = await self._fetch()
        except (IrtError, OSError, TimeoutError) as exc:
            # An unreachable hub is not a bad CRL: the file and the next
            # interval still work, and /healthz reports the hub on its own.
            _LOG.warning("cannot fetch the CRL from the hub: %s", exc)
            return False
        current = self._trust.crl
        if current is not None and not _newer(data, current):
            # The hub may lag behind a CRL this party already read from its
            # file: an older or the same CRL from there is no news, not an attack.
            return False
        return self.offer(data, source="the hub's CRL distribution point")

    def offer(self, data: bytes, *, source: str) -> bool:
        """Put the CRL in ``data`` (PEM or DER) in force, or refuse it and raise the alarm.

        Returns True when it was put in force; never raises for a bad CRL.
        """
        if len(data) > MAX_CRL_BYTES:
            return self._refuse(f"the CRL from {source} is larger than {MAX_CRL_BYTES} bytes")
        try:
            crl = _parse(data)
        except ValueError as exc:
            return self._refuse(f"the CRL from {source} cannot be read: {exc}")
        try:
            self._trust.install_crl(crl)
            if self._tls is not None:
                self._tls.reload(crl.public_bytes(serialization.Encoding.PEM))
        except IrtError as exc:
            return self._refuse(f"the CRL from {source} was refused: {exc.reason}")
        _LOG.info("CRL number %s from %s is in force", crl_number(crl), source)
        if self._metrics is not None:
            self._metrics.crl_reloads.labels("installed").inc()
        self._publish(crl)
        self.alarm = None
        self._report(None)
        return True

    async def run(self) -> None:
        """Look every interval (or when woken) until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()
            await asyncio.to_thread(self.check_file)
            await self.check_distribution_point()

    async def cleanup_ctx(self, _app: web.Application) -> AsyncIterator[None]:
        """``run`` as a background task while an application runs (its ``cleanup_ctx``)."""
        task = asyncio.create_task(self.run())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _refuse(self, reason: str) -> bool:
        _LOG.error("%s; the previous CRL stays in force", reason)
        self.alarm = reason
        if self._metrics is not None:
            self._metrics.crl_reloads.labels("refused").inc()
            self._metrics.alarms.labels("crl-refused").inc()
        self._report(reason)
        return False

    def _publish(self, crl: x509.CertificateRevocationList | None) -> None:
        if self._metrics is None or crl is None:
            return
        if crl.next_update_utc is not None:
            self._metrics.crl_next_update.set(crl.next_update_utc.timestamp())
        self._metrics.crl_number.set(crl_number(crl) or 0)


def _newer(data: bytes, current: x509.CertificateRevocationList) -> bool:
    """False when ``data`` is a readable CRL numbered no higher than ``current``."""
    if data in (
        current.public_bytes(serialization.Encoding.DER),
        current.public_bytes(serialization.Encoding.PEM),
    ):
        return False
    try:
        crl = _parse(data)
    except ValueError:
        return True  # offered, so that the unreadable CRL raises the alarm
    new, old = crl_number(crl), crl_number(current)
    return new is None or old is None or new > old


def _parse(data: bytes) -> x509.CertificateRevocationList:
    if data.lstrip().startswith(b"-----"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def _stamp(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


CRL_WATCH_KEY: Final = web.AppKey("irt.crl_watch", CrlWatcher)
"""An application's watcher, for ``hub.serve`` to attach the TLS context and SIGHUP to."""
