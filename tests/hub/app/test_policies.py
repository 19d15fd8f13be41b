"""The hub's policy at start: signed ISPs only, kept versions, a clear error, shadow candidates."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from hub.app.policies import KEPT_VERSIONS, load_signed_policy
from hub.clock import SystemClock
from hub.config import ConfigError, HubConfig, SigningFiles
from hub.directory import default_directory
from hub.identifiers import AuthorityCode
from hub.pki.trust import TrustStore
from hub.policy.engine import PolicyEngine
from hub.policy.model import IspDocument
from hub.policy.store import KeptIsps
from hub.storage.postgresql.database import PgDatabase
from hub.storage.postgresql.isps import PgKeptIsps
from hub.storage.sqlite.isps import FolderKeptIsps
from hub.transport.tls import TlsFiles
from hub.verify import DocumentVerifier
from tests.support.signed_isps import SignerFor, isp, signed

LAMBETH, SOUTHWARK = AuthorityCode("E09000022"), AuthorityCode("E09000028")
_UNUSED = Path("unused.pem")


@pytest.fixture
def config(tmp_path: Path) -> HubConfig:
    return HubConfig(
        listen_host="127.0.0.1",
        listen_port=0,
        data_dir=tmp_path / "data",
        tls=TlsFiles(cert=_UNUSED, key=_UNUSED, root=_UNUSED),
        signing=SigningFiles(cert=_UNUSED, key=_UNUSED),
    )


def load(config: HubConfig, trust: TrustStore) -> PolicyEngine:
    return load_signed_policy(
        config,
        directory=default_directory(),
        verifier=DocumentVerifier(trust=trust),
        clock=SystemClock(),
    )


def _lambeth_in_force(engine: PolicyEngine) -> IspDocument:
    """Lambeth's ISP in force in ``engine``; fails the test if there is none."""
    document = engine.in_force(LAMBETH)
    assert document is not None
    return document


@pytest.fixture
def protocols(tmp_path: Path, signer_for: SignerFor) -> Path:
    folder = tmp_path / "protocols"
    folder.mkdir()
    (folder / "E09000028.xml").write_bytes(
        signed(isp(SOUTHWARK, "request", "details"), signer_for(SOUTHWARK))
    )
    (folder / "E09000022.xml").write_bytes(isp(LAMBETH, "disclose", "details"))  # unsigned
    return folder


def test_the_protocols_folder_must_be_configured(config: HubConfig, trust: TrustStore) -> None:
    with pytest.raises(ConfigError, match=r"\[hub\] protocols is not set: .*irthub policy sign"):
        load(config, trust)


def test_a_missing_folder_names_the_option(
    config: HubConfig, trust: TrustStore, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"\[hub\] protocols: .*nowhere: not a folder"):
        load(replace(config, protocols_dir=tmp_path / "nowhere"), trust)


def test_start_fails_listing_every_file_when_none_is_signed(
    config: HubConfig, trust: TrustStore, tmp_path: Path
) -> None:
    (tmp_path / "E09000022.xml").write_bytes(isp(LAMBETH, "disclose", "details"))
    (tmp_path / "E09000028.xml").write_bytes(isp(SOUTHWARK, "request", "details"))
    with pytest.raises(ConfigError, match="could be loaded") as caught:
        load(replace(config, protocols_dir=tmp_path), trust)
    assert "E09000022.xml: document is not signed" in caught.value.reason
    assert "E09000028.xml: document is not signed" in caught.value.reason


def test_refused_files_are_logged_and_their_authority_has_nothing_in_force(
    config: HubConfig, trust: TrustStore, protocols: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="hub.app.policies"):
        engine = load(replace(config, protocols_dir=protocols), trust)
    assert set(engine.documents) == {SOUTHWARK}
    (warning,) = caplog.messages
    assert warning.startswith("ISP refused: ")
    assert "E09000022.xml: document is not signed" in warning


def test_a_restart_keeps_the_version_in_force_when_the_new_one_is_refused(
    config: HubConfig, trust: TrustStore, protocols: Path, signer_for: SignerFor,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    config = replace(config, protocols_dir=protocols)
    v2 = signed(isp(LAMBETH, "disclose", "contacts", version=2), signer_for(LAMBETH))
    (protocols / "E09000022.xml").write_bytes(v2)
    first = load(config, trust).in_force(LAMBETH)
    assert first is not None
    assert (config.data_dir / KEPT_VERSIONS / "E09000022.xml").read_bytes() == v2
    # a tampered version 3, then a validly signed older version 1: neither weakens version 2
    tampered = signed(isp(LAMBETH, "disclose", "contacts", version=3), signer_for(LAMBETH))
    (protocols / "E09000022.xml").write_bytes(tampered.replace(b"contacts", b"details"))
    assert _lambeth_in_force(load(config, trust)).digest == first.digest
    v1 = signed(isp(LAMBETH, "disclose", "details", version=1), signer_for(LAMBETH))
    (protocols / "E09000022.xml").write_bytes(v1)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hub.app.policies"):
        assert _lambeth_in_force(load(config, trust)).digest == first.digest
    assert "version 1 is not greater than version 2 in force" in caplog.text
    # a greater, correctly signed version replaces it, and is kept in turn
    v3 = signed(isp(LAMBETH, "disclose", "existence", version=3), signer_for(LAMBETH))
    (protocols / "E09000022.xml").write_bytes(v3)
    assert _lambeth_in_force(load(config, trust)).version == 3
    assert (config.data_dir / KEPT_VERSIONS / "E09000022.xml").read_bytes() == v3


def test_signed_shadow_candidates_are_staged_and_unsigned_ones_logged(
    config: HubConfig, trust: TrustStore, protocols: Path, signer_for: SignerFor,
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "E09000022.xml").write_bytes(
        signed(isp(LAMBETH, "disclose", "existence"), signer_for(LAMBETH))
    )
    (shadow / "E09000028.xml").write_bytes(isp(SOUTHWARK, "request", "existence"))
    config = replace(config, protocols_dir=protocols, shadow_protocols_dir=shadow)
    with caplog.at_level(logging.WARNING, logger="hub.app.policies"):
        engine = load(config, trust)
    assert set(engine.shadow_documents) == {LAMBETH}
    assert set(engine.documents) == {SOUTHWARK}
    assert any(
        m.startswith("shadow ISP candidate refused: ") and "E09000028.xml" in m
        for m in caplog.messages
    )


@pytest.fixture(params=["folder", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_kept(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeptIsps]:
    """Kept versions two instances share: one folder, or one PostgreSQL table."""
    if request.param == "folder":
        yield FolderKeptIsps(tmp_path / "kept")
        return
    database = PgDatabase(request.getfixturevalue("pg_dsn"), pool_size=2)
    yield PgKeptIsps(database)
    database.close()


def test_instances_sharing_kept_versions_enforce_the_same_one(
    config: HubConfig, trust: TrustStore, signer_for: SignerFor, tmp_path: Path,
    shared_kept: KeptIsps,
) -> None:  # fmt: skip
    v1 = signed(isp(LAMBETH, "disclose", "details", version=1), signer_for(LAMBETH))
    v2 = signed(isp(LAMBETH, "disclose", "contacts", version=2), signer_for(LAMBETH))
    newer, older = tmp_path / "newer", tmp_path / "older"
    for folder, document in ((newer, v2), (older, v1)):
        folder.mkdir()
        (folder / "E09000022.xml").write_bytes(document)
    assert shared_kept.documents() == []
    # Instance A was deployed with version 2 and keeps it for everyone.
    a = load_signed_policy(
        replace(config, protocols_dir=newer), directory=default_directory(),
        verifier=DocumentVerifier(trust=trust), clock=SystemClock(), kept=shared_kept,
    )  # fmt: skip
    assert _lambeth_in_force(a).version == 2
    assert [data for _, data in shared_kept.documents()] == [v2]
    # Instance B still has version 1 on disk: it enforces version 2 all the same.
    b = load_signed_policy(
        replace(config, protocols_dir=older, data_dir=tmp_path / "b"),
        directory=default_directory(), verifier=DocumentVerifier(trust=trust),
        clock=SystemClock(), kept=shared_kept,
    )  # fmt: skip
    assert _lambeth_in_force(b).digest == _lambeth_in_force(a).digest
