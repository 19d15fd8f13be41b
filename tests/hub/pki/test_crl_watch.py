"""New CRLs put in force while running (file, distribution point), and bad ones refused."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hub.errors import RecipientUnavailable, UntrustedCertificate
from hub.metrics import Metrics
from hub.pki.certificates import build_crl, issue_root, new_key
from hub.pki.crl_watch import MAX_CRL_BYTES, CrlWatcher, Fetch
from hub.pki.issuing import revoke, write_crl
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore, crl_number
from tests.support.parties import LAMBETH


def _serial(pki: PkiLayout) -> int:
    return x509.load_pem_x509_certificate(pki.signing_cert(LAMBETH).read_bytes()).serial_number


def _touch_later(pki: PkiLayout) -> None:
    # The watcher compares modification times; make sure a quick rewrite is seen.
    stat = pki.crl.stat()
    os.utime(pki.crl, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def _alarm(watcher: CrlWatcher) -> str | None:
    return watcher.alarm


class _TlsSpy:
    def __init__(self) -> None:
        self.loaded: list[bytes] = []

    def reload(self, crl_pem: bytes) -> None:
        self.loaded.append(crl_pem)


def _watcher(
    pki: PkiLayout, *, fetch: Fetch | None = None
) -> tuple[TrustStore, CrlWatcher, Metrics, list[str | None]]:
    trust = TrustStore.from_files(pki.root_cert, pki.crl)
    metrics = Metrics()
    reports: list[str | None] = []
    watcher = CrlWatcher(
        trust, path=pki.crl, interval=1.0, metrics=metrics, report=reports.append, fetch=fetch
    )
    return trust, watcher, metrics, reports


def test_a_revocation_written_to_the_file_is_put_in_force(fresh_pki: PkiLayout) -> None:
    trust, watcher, metrics, _ = _watcher(fresh_pki)
    tls = _TlsSpy()
    watcher.attach_tls(tls)
    assert watcher.check_file() is False  # unchanged since loaded
    revoke(fresh_pki, _serial(fresh_pki), now=datetime.now(UTC))
    _touch_later(fresh_pki)
    assert watcher.check_file() is True
    crl = trust.crl
    assert crl is not None
    assert crl.get_revoked_certificate_by_serial_number(_serial(fresh_pki))
    assert tls.loaded[-1] == crl.public_bytes(serialization.Encoding.PEM)
    assert metrics.crl_number._value.get() == crl_number(crl)
    assert watcher.check_file() is False  # seen once


def test_the_same_bytes_rewritten_change_nothing(fresh_pki: PkiLayout) -> None:
    _, watcher, metrics, _ = _watcher(fresh_pki)
    revoke(fresh_pki, _serial(fresh_pki), now=datetime.now(UTC))
    _touch_later(fresh_pki)
    assert watcher.check_file() is True
    fresh_pki.crl.write_bytes(fresh_pki.crl.read_bytes())
    _touch_later(fresh_pki)
    assert watcher.check_file() is False
    assert metrics.crl_reloads.labels("installed")._value.get() == 1


def test_an_unreadable_crl_keeps_the_previous_one_and_alarms(fresh_pki: PkiLayout) -> None:
    trust, watcher, metrics, reports = _watcher(fresh_pki)
    before = trust.crl
    fresh_pki.crl.write_bytes(b"not a CRL")
    _touch_later(fresh_pki)
    assert watcher.check_file() is False
    assert trust.crl is before
    assert watcher.alarm is not None
    assert "cannot be read" in watcher.alarm
    assert reports[-1] == watcher.alarm
    assert metrics.alarms.labels("crl-refused")._value.get() == 1
    write_crl(fresh_pki, now=datetime.now(UTC))
    _touch_later(fresh_pki)
    assert watcher.check_file() is True
    assert _alarm(watcher) is None  # the alarm ends with a good CRL
    assert reports[-1] is None


def test_a_crl_from_another_root_is_refused(fresh_pki: PkiLayout) -> None:
    trust, watcher, _, _ = _watcher(fresh_pki)
    key = new_key()
    start = datetime.now(UTC) - timedelta(days=1)
    other = issue_root(key, not_before=start, not_after=start + timedelta(days=365))
    forged = build_crl(
        other, key, (), number=999, this_update=datetime.now(UTC),
        next_update=datetime.now(UTC) + timedelta(days=7),
    )  # fmt: skip
    assert watcher.offer(forged.public_bytes(serialization.Encoding.DER), source="test") is False
    assert "not signed by the London root CA" in (watcher.alarm or "")
    assert crl_number(trust.crl) != 999  # type: ignore[arg-type]


def test_an_older_crl_never_replaces_a_newer_one(fresh_pki: PkiLayout) -> None:
    trust, watcher, _, _ = _watcher(fresh_pki)
    older = fresh_pki.crl.read_bytes()
    write_crl(fresh_pki, now=datetime.now(UTC))
    assert watcher.offer(fresh_pki.crl.read_bytes(), source="test") is True
    assert watcher.offer(older, source="test") is False
    assert "is lower than the number" in (watcher.alarm or "")
    with pytest.raises(UntrustedCertificate, match=r"number 1 is lower than the number 2"):
        trust.install_crl(x509.load_pem_x509_crl(older))


def test_a_huge_crl_is_refused_unread(fresh_pki: PkiLayout) -> None:
    _, watcher, _, _ = _watcher(fresh_pki)
    assert watcher.offer(b"0" * (MAX_CRL_BYTES + 1), source="test") is False
    assert f"larger than {MAX_CRL_BYTES} bytes" in (watcher.alarm or "")


async def test_a_crl_fetched_from_the_distribution_point_is_put_in_force(
    fresh_pki: PkiLayout,
) -> None:
    served: list[bytes] = [fresh_pki.crl.read_bytes()]

    async def fetch() -> bytes:
        return served[-1]

    trust, watcher, _, _ = _watcher(fresh_pki, fetch=fetch)
    assert await watcher.check_distribution_point() is False  # the CRL in force
    crl = revoke(fresh_pki, _serial(fresh_pki), now=datetime.now(UTC))
    served.append(crl.public_bytes(serialization.Encoding.DER))
    assert await watcher.check_distribution_point() is True
    assert crl_number(trust.crl) == crl_number(crl)  # type: ignore[arg-type]


async def test_an_older_crl_from_the_distribution_point_is_no_news(fresh_pki: PkiLayout) -> None:
    older = fresh_pki.crl.read_bytes()

    async def fetch() -> bytes:
        return older

    trust, watcher, _, _ = _watcher(fresh_pki, fetch=fetch)
    write_crl(fresh_pki, now=datetime.now(UTC))
    _touch_later(fresh_pki)
    assert watcher.check_file() is True  # number 2 from the file
    assert await watcher.check_distribution_point() is False  # the hub still serves 1
    assert _alarm(watcher) is None
    assert crl_number(trust.crl) == 2  # type: ignore[arg-type]


async def test_a_newer_but_forged_crl_from_the_distribution_point_alarms(
    fresh_pki: PkiLayout,
) -> None:
    async def fetch() -> bytes:
        return b"garbage, not a CRL"

    _, watcher, _, _ = _watcher(fresh_pki, fetch=fetch)
    assert await watcher.check_distribution_point() is False
    assert "the CRL from the hub's CRL distribution point cannot be read" in (_alarm(watcher) or "")


async def test_an_unreachable_distribution_point_is_not_an_alarm(fresh_pki: PkiLayout) -> None:
    async def fetch() -> bytes:
        raise RecipientUnavailable("hub down")

    _, watcher, _, _ = _watcher(fresh_pki, fetch=fetch)
    assert await watcher.check_distribution_point() is False
    assert watcher.alarm is None


async def test_wake_looks_at_once_rather_than_at_the_next_interval(fresh_pki: PkiLayout) -> None:
    # What SIGHUP does in ``irthub hub run`` and ``node run`` (hub.serve).
    trust = TrustStore.from_files(fresh_pki.root_cert, fresh_pki.crl)
    watcher = CrlWatcher(trust, path=fresh_pki.crl, interval=3600.0)
    running = watcher.cleanup_ctx(web.Application())
    await anext(running)
    revoke(fresh_pki, _serial(fresh_pki), now=datetime.now(UTC))
    _touch_later(fresh_pki)
    watcher.wake()
    for _ in range(100):
        if crl_number(trust.crl) == 2:  # type: ignore[arg-type]
            break
        await asyncio.sleep(0.02)
    assert crl_number(trust.crl) == 2  # type: ignore[arg-type]
    with pytest.raises(StopAsyncIteration):
        await anext(running)
