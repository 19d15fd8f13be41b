"""Is a node fit to answer: its index, certificates and CRL at one instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography import x509

from adapters.index.fields import LocalId
from adapters.index.memory import MemoryChildIndex
from adapters.index.model import ChildRecord
from adapters.node.readiness import (
    CERTIFICATE_WARNING,
    certificate_check,
    check_index,
    crl_check,
    index_check,
)
from hub.errors import InternalError
from hub.identifiers import AuthorityCode
from hub.pki.layout import PkiLayout

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
ANN = ChildRecord(
    local_id=LocalId("C1"),
    given_names=("Ann",),
    family_name="Lee",
    other_names=(),
    birth_date=date(2015, 1, 1),
    sex="female",
    postcode=None,
    address=None,
    nhs_number=None,
    upn=None,
)


def test_a_fresh_index_is_fit() -> None:
    index = MemoryChildIndex([ANN], refreshed_at=NOW - DAY)
    assert check_index(index, max_age=2 * DAY, now=NOW).children == 1
    check = index_check(index, max_age=2 * DAY, now=NOW)
    assert (check.level, check.facts) == (
        "ok",
        {
            "max_age_hours": 48.0,
            "children": 1,
            "imported_at": (NOW - DAY).isoformat(),
            "age_hours": 24.0,
        },
    )


def test_a_live_index_never_goes_stale() -> None:
    check_index(MemoryChildIndex([ANN]), max_age=timedelta(minutes=1), now=NOW)


@pytest.mark.parametrize(
    ("index", "message"),
    [
        (
            MemoryChildIndex([], refreshed_at=NOW),
            "the children's index is empty: a node answering from it would say not-known",
        ),
        (
            MemoryChildIndex([ANN], refreshed_at=NOW - 3 * DAY),
            r"imported 3\.0 days ago, at 2026-11-28T09:00:00\+00:00, longer ago than the 2\.0 days "
            r"allowed \(\[node\] index_max_age_hours\): import the latest exports",
        ),
        (
            MemoryChildIndex([ANN], refreshed_at=NOW + timedelta(hours=2)),
            r"2\.0 hours ahead of this machine's clock: check the clocks, then import again",
        ),
    ],
    ids=["empty", "stale", "from-the-future"],
)
def test_an_index_unfit_to_answer_is_refused(index: MemoryChildIndex, message: str) -> None:
    with pytest.raises(InternalError, match=message):
        check_index(index, max_age=2 * DAY, now=NOW)
    check = index_check(index, max_age=2 * DAY, now=NOW)
    assert check.level == "failing"


def test_an_import_a_few_minutes_ahead_is_a_clock_difference() -> None:
    index = MemoryChildIndex([ANN], refreshed_at=NOW + timedelta(minutes=3))
    check_index(index, max_age=2 * DAY, now=NOW)


def _certificate(pki: PkiLayout) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pki.signing_cert(AuthorityCode("E09000022")).read_bytes())


def test_a_certificate_is_judged_by_its_validity(dev_pki: PkiLayout) -> None:
    certificate = _certificate(dev_pki)
    after, before = certificate.not_valid_after_utc, certificate.not_valid_before_utc
    assert certificate_check(certificate, now=before + DAY).level == "ok"
    soon = certificate_check(certificate, now=after - CERTIFICATE_WARNING + DAY)
    assert soon.level == "warning"
    assert soon.summary.startswith(f"expires at {after.isoformat()}, in 13.0 days")
    expired = certificate_check(certificate, now=after + DAY)
    assert (expired.level, expired.summary) == (
        "failing",
        f"expired at {after.isoformat()}: install a new certificate",
    )
    assert expired.facts["days_left"] == -1.0
    assert certificate_check(certificate, now=before - DAY).level == "failing"


def test_the_crl_is_judged_by_its_next_update(dev_pki: PkiLayout) -> None:
    crl = x509.load_pem_x509_crl(dev_pki.crl.read_bytes())
    next_update = crl.next_update_utc
    assert next_update is not None
    assert crl_check(crl, now=next_update - 2 * DAY).level == "ok"
    assert crl_check(crl, now=next_update - timedelta(hours=3)).level == "warning"
    passed = crl_check(crl, now=next_update + timedelta(seconds=1))
    assert passed.level == "failing"
    assert "has passed: every message is refused until a fresh CRL is installed" in passed.summary
    none = crl_check(None, now=NOW)
    assert (none.level, none.summary) == (
        "warning",
        "no CRL configured ([tls] crl): revoked certificates are accepted",
    )
