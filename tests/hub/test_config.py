"""Loading hub and node configuration files, and their error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.config import load_node_config
from hub.config import ConfigError, load_hub_config

HUB_FILE = """
[hub]
listen_port = 8443
data_dir = "state"

[tls]
cert = "pki/HUB/tls.pem"
key = "pki/HUB/tls.key"
root = "pki/root-ca.pem"

[signing]
cert = "pki/HUB/signing.pem"
key = "pki/HUB/signing.key"

[limits]
query_deadline_seconds = 2.5

[nodes]
E09000022 = "https://127.0.0.1:9022/v1/messages"
"""


def _write(tmp_path: Path, text: str, name: str = "hub.toml") -> Path:
    path = tmp_path / "conf" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_hub_file_with_relative_paths(tmp_path: Path) -> None:
    config = load_hub_config(_write(tmp_path, HUB_FILE))
    assert config.listen_host == "127.0.0.1"
    assert config.listen_port == 8443
    assert config.data_dir == tmp_path / "conf" / "state"
    assert config.tls.root == tmp_path / "conf" / "pki" / "root-ca.pem"
    assert config.tls.crl is None
    assert config.limits.query_deadline_seconds == 2.5
    assert config.limits.max_message_bytes == 1024 * 1024
    assert config.node_urls == {"E09000022": "https://127.0.0.1:9022/v1/messages"}


def test_node_file(tmp_path: Path) -> None:
    text = HUB_FILE.replace("[hub]\nlisten_port = 8443", "[node]\nlisten_port = 9022").replace(
        'data_dir = "state"',
        'authority = "E09000022"\nid = "lambeth-irt"\nindex = "index.sqlite"\n'
        'hub_url = "https://127.0.0.1:8443/v1/messages"\nanswer_delay_seconds = 1',
    )
    config = load_node_config(_write(tmp_path, text, "node.toml"))
    assert config.authority == "E09000022"
    assert config.index == tmp_path / "conf" / "index.sqlite"
    assert config.answer_delay_seconds == 1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("listen_port = 8443", ""), "missing option 'listen_port'"),
        (("listen_port = 8443", 'listen_port = "8443"'), "option 'listen_port' has the wrong type"),
        (("query_deadline_seconds = 2.5", "query_deadline_seconds = 60"),
         r"query_deadline_seconds must be in \(0, 30.0\]"),
        (("query_deadline_seconds = 2.5", "deadline = 2"),
         r"unknown option\(s\) in \[limits\]: deadline"),
        (("E09000022 =", "E09000099 ="), "'E09000099' is not a London authority code"),
        (("[tls]", "[tls\n"), "not valid TOML"),
    ],
    ids=["missing", "wrong-type", "deadline-cap", "unknown-limit", "unknown-authority", "bad-toml"],
)  # fmt: skip
def test_errors_name_file_and_option(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = _write(tmp_path, HUB_FILE.replace(*change))
    with pytest.raises(ConfigError, match=message) as caught:
        load_hub_config(path)
    assert str(path) in caught.value.reason


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_hub_config(tmp_path / "absent.toml")
