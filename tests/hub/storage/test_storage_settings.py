"""``[storage]`` in a hub file, and opening the chosen backend's stores."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub.config import ConfigError, load_hub_config
from hub.storage.backends import open_hub_storage
from hub.storage.postgresql.database import PgDatabase
from hub.storage.postgresql.log import PgLogStorage
from hub.storage.postgresql.referrals import PgReferralStore
from hub.storage.postgresql.seen import PgSeenStore
from hub.storage.settings import StorageSettings
from hub.storage.sqlite.log import SqliteLogStorage
from tests.support.paths import REPO

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


def _load(tmp_path: Path, extra: str) -> object:
    path = tmp_path / "hub.toml"
    path.write_text(HUB_FILE + extra)
    return load_hub_config(path)


def test_sqlite_is_the_default(tmp_path: Path) -> None:
    config = _load(tmp_path, "")
    assert config.storage == StorageSettings()  # type: ignore[attr-defined]


def test_a_postgresql_hub_reads_its_dsn_from_the_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_key = '[log]\nkey = "log.key"\n'
    config = _load(
        tmp_path,
        '[storage]\nbackend = "postgresql"\ndsn = "postgresql://irt@db:5432/irt"\n'
        "pool_size = 4\n" + log_key,
    )
    assert config.storage.dsn == "postgresql://irt@db:5432/irt"  # type: ignore[attr-defined]
    assert config.storage.pool_size == 4  # type: ignore[attr-defined]
    monkeypatch.setenv("IRT_HUB_DSN", "postgresql://irt:pw@db/irt")
    config = _load(
        tmp_path, '[storage]\nbackend = "postgresql"\ndsn_env = "IRT_HUB_DSN"\n' + log_key
    )
    assert config.storage.dsn == "postgresql://irt:pw@db/irt"  # type: ignore[attr-defined]


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
    assert storage.shared is None
    assert not storage.shared_by_processes
    storage.close()
    storage.close()  # closing again does nothing
    assert {p.name for p in tmp_path.iterdir()} >= {"seen.sqlite", "referrals.sqlite", "log"}


def test_the_sqlite_hub_never_loads_the_postgresql_driver(tmp_path: Path) -> None:
    script = (
        "import sys, pathlib\n"
        "import hub.app.build\n"
        "from hub.storage.backends import open_hub_storage\n"
        "from hub.storage.settings import StorageSettings\n"
        "open_hub_storage(StorageSettings(), pathlib.Path(sys.argv[1])).close()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('asyncpg', 'hub.storage.pos'))))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    assert run.stdout.strip() == "[]"


@pytest.mark.postgres
def test_postgresql_stores_share_one_pool(pg_dsn: str, tmp_path: Path) -> None:
    storage = open_hub_storage(StorageSettings(backend="postgresql", dsn=pg_dsn), tmp_path)
    assert isinstance(storage.seen, PgSeenStore)
    assert isinstance(storage.log, PgLogStorage)
    assert isinstance(storage.referrals, PgReferralStore)
    assert isinstance(storage.shared, PgDatabase)
    assert storage.shared_by_processes
    storage.seen.check()
    storage.referrals.check()
    storage.close()
    assert list(tmp_path.iterdir()) == []
