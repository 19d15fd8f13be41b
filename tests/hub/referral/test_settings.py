"""``[referrals]``: safe defaults, impossible values refused, backoff doubling with jitter."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from hub.config import ConfigError, load_hub_config
from hub.referral.settings import MAX_DELIVERY_WINDOW, ReferralSettings


def test_defaults_are_the_spec_window_and_within_what_receivers_accept() -> None:
    settings = ReferralSettings()
    assert settings.delivery_window == timedelta(days=5)
    assert settings.delivery_window <= MAX_DELIVERY_WINDOW


@pytest.mark.parametrize(
    ("table", "reason"),
    [
        (
            {"delivery_window_hours": 24 * 7},
            "delivery_window_hours must be above 0 and at most 144",
        ),
        ({"retry_base_seconds": 10, "retry_max_seconds": 5}, "at most retry_max_seconds"),
        ({"retry_jitter": 1.0}, "retry_jitter must be at least 0 and below 1"),
        ({"lease_seconds": 10, "attempt_timeout_seconds": 30}, "lease_seconds must exceed"),
        ({"delivery_window": 5}, "unknown option"),
        ({"batch_size": "many"}, "option 'batch_size' must be a int"),
        ({"worker_name": ""}, "worker_name must not be empty"),
    ],
)
def test_impossible_settings_are_refused(table: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        ReferralSettings.from_table(table)


def test_backoff_doubles_up_to_the_cap_and_jitter_only_shortens() -> None:
    settings = ReferralSettings(retry_base_seconds=2, retry_max_seconds=60, retry_jitter=0.5)
    rng = random.Random(1)
    for attempts, ceiling in ((1, 2), (2, 4), (3, 8), (6, 60), (40, 60)):
        delays = [settings.retry_delay(attempts, rng).total_seconds() for _ in range(50)]
        assert all(ceiling * 0.5 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_hub_file_reports_a_bad_referrals_table(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(
        '[hub]\nlisten_port = 1\nprotocols = "p"\n'
        '[tls]\ncert = "c"\nkey = "k"\nroot = "r"\n'
        '[signing]\ncert = "c"\nkey = "k"\n'
        "[referrals]\nretry_jitter = 2\n"
    )
    with pytest.raises(ConfigError, match=r"hub\.toml: \[referrals\]: retry_jitter must be"):
        load_hub_config(path)
    path.write_text(path.read_text().replace("retry_jitter = 2", "delivery_window_hours = 48"))
    assert load_hub_config(path).referrals.delivery_window == timedelta(days=2)
