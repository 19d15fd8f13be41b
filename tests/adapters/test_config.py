"""A node's index safety options: how old its index may be, how much an import may drop."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from adapters.config import NodeConfig, load_node_config
from hub.config import ConfigError

NODE_FILE = """
[node]
authority = "E09000022"
id = "lambeth-irt"
listen_port = 9022
index = "index.sqlite"
hub_url = "https://127.0.0.1:8443/v1/messages"
{extra}
[tls]
cert = "pki/tls.pem"
key = "pki/tls.key"
root = "pki/root-ca.pem"

[signing]
cert = "pki/signing.pem"
key = "pki/signing.key"
"""


def test_the_defaults_are_safe(tmp_path: Path) -> None:
    config = load_node_config_from(tmp_path, "")
    assert (config.index_max_age_hours, config.index_max_shrink) == (48.0, 0.1)
    assert config.index_max_age == timedelta(days=2)


def test_a_borough_importing_weekly_says_so(tmp_path: Path) -> None:
    config = load_node_config_from(tmp_path, "index_max_age_hours = 180\nindex_max_shrink = 0.25")
    assert (config.index_max_age, config.index_max_shrink) == (timedelta(hours=180), 0.25)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("index_max_age_hours = 0", r"\[node\] index_max_age_hours = 0 must be above 0 and at "
         r"most 744 \(hours since the last import, e\.g\. 48 for a nightly import\)"),
        ("index_max_age_hours = 1000", "index_max_age_hours = 1000 must be above 0 and at most"),
        ("index_max_age_hours = nan", "index_max_age_hours = nan must be above 0"),
        ('index_max_age_hours = "48"', "option 'index_max_age_hours' has the wrong type"),
        ("index_max_shrink = 1", r"\[node\] index_max_shrink = 1 must be at least 0 and below 1 "
         r"\(a share, e\.g\. 0\.1 to refuse an import dropping more than a tenth\)"),
        ("index_max_shrink = -0.5", "index_max_shrink = -0.5 must be at least 0 and below 1"),
    ],
    ids=["age-zero", "age-too-long", "age-nan", "age-text", "shrink-all", "shrink-negative"],
)  # fmt: skip
def test_out_of_range_options_are_named_with_the_fix(
    tmp_path: Path, extra: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_node_config_from(tmp_path, extra)
    assert str(tmp_path / "node.toml") in caught.value.reason


def load_node_config_from(tmp_path: Path, extra: str) -> NodeConfig:
    path = tmp_path / "node.toml"
    path.write_text(NODE_FILE.format(extra=extra), encoding="utf-8")
    return load_node_config(path)
