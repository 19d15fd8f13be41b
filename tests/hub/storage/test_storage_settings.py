"""``[storage]`` in a hub file, and opening the chosen backend's stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import ConfigError, HubConfig, load_hub_config
from hub.storage.postgresql.log import PgLogStorage
from hub.storage.postgresql.referrals import PgReferralStore
from hub.storage.postgresql.seen import PgSeenStore
from hub.storage.settings import StorageSettings, open_hub_storage
from hub.storage.sqlite.log import SqliteLogStorage

HUB_FILE = """
[hub]
listen_port = 8443

[tls]
cert = "tls.pem"
key = "tls.key"
root = "root.pem"

[signing]
cert = "signing.pem"
key = "signing.key"
"""


def _load(tmp_path: Path, extra: str) -> HubConfig:
    path = tmp_path / "hub.toml"
    path.write_text(HUB_FILE + extra)
    return load_hub_config(path)


def test_sqlite_is_the_default(tmp_path: Path) -> None:
    config = _load(tmp_path, "")
    assert config.storage == StorageSettings()


def test_a_postgresql_hub_reads_its_dsn_from_the_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_key = '[log]\nkey = "log.key"\n'
    config = _load(
        tmp_path,
        '[storage]\nbackend = "postgresql"\ndsn = "postgresql://irt@db:5432/irt"\n'
        "pool_size = 4\n" + log_key,
    )
    assert config.storage.dsn == "postgresql://irt@db:5432/irt"
    assert config.storage.pool_size == 4
    monkeypatch.setenv("IRT_HUB_DSN", "postgresql://irt:pw@db/irt")
    config = _load(
        tmp_path, '[storage]\nbackend = "postgresql"\ndsn_env = "IRT_HUB_DSN"\n' + log_key
    )
    assert config.storage.dsn == "postgresql://irt:pw@db/irt"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('backend = "mysql"', "backend must be one of sqlite, postgresql"),
        ('backend = "postgresql"', "needs dsn"),
        ('backend = "postgresql"\ndsn_env = "IRT_UNSET_VARIABLE"',
         "'IRT_UNSET_VARIABLE', which is not set"),
        ('dsn = "mysql://x"', "dsn must be a postgresql:// URI"),
        ('dsn = "postgresql://x"\ndsn_env = "HOME"', "dsn or dsn_env, not both"),
        ("pool_size = 0", r"pool_size must be within 1\.\.100"),
        ("poolsize = 3", "unexpected keyword argument 'poolsize'"),
    ],
)  # fmt: skip
def test_bad_storage_settings_name_the_option(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"\[storage\]: .*{message}"):
        _load(tmp_path, f"[storage]\n{table}\n")


def test_instances_sharing_postgresql_must_share_a_log_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs \\[log\\] key"):
        _load(tmp_path, '[storage]\nbackend = "postgresql"\ndsn = "postgresql://irt@db/irt"\n')


def test_sqlite_stores_live_under_the_data_folder(tmp_path: Path) -> None:
    storage = open_hub_storage(StorageSettings(), tmp_path)
    assert isinstance(storage.log, SqliteLogStorage)
    assert storage.database is None
    storage.close()
    assert {p.name for p in tmp_path.iterdir()} >= {"seen.sqlite", "referrals.sqlite", "log"}


@pytest.mark.postgres
def test_postgresql_stores_share_one_pool(pg_dsn: str, tmp_path: Path) -> None:
    storage = open_hub_storage(StorageSettings(backend="postgresql", dsn=pg_dsn), tmp_path)
    assert isinstance(storage.seen, PgSeenStore)
    assert isinstance(storage.log, PgLogStorage)
    assert isinstance(storage.referrals, PgReferralStore)
    storage.seen.check()
    storage.referrals.check()
    storage.close()
    assert list(tmp_path.iterdir()) == []
