"""The hub's policy at start: signed ISPs only, a clear error when none loads, shadow candidates."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from signed_isps import SignerFor, isp, signed

from hub.broker.policy_loading import load_signed_policy
from hub.clock import SystemClock
from hub.config import ConfigError, HubConfig, SigningFiles
from hub.directory import default_directory
from hub.identifiers import AuthorityCode
from hub.pki.trust import TrustStore
from hub.policy.engine import PolicyEngine
from hub.transport.tls import TlsFiles
from hub.verify import DocumentVerifier

LAMBETH, SOUTHWARK = AuthorityCode("E09000022"), AuthorityCode("E09000028")
_UNUSED = Path("unused.pem")
CONFIG = HubConfig(
    listen_host="127.0.0.1",
    listen_port=0,
    data_dir=Path("unused"),
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


@pytest.fixture
def protocols(tmp_path: Path, signer_for: SignerFor) -> Path:
    folder = tmp_path / "protocols"
    folder.mkdir()
    (folder / "E09000028.xml").write_bytes(
        signed(isp(SOUTHWARK, "request", "details"), signer_for(SOUTHWARK))
    )
    (folder / "E09000022.xml").write_bytes(isp(LAMBETH, "disclose", "details"))  # unsigned
    return folder


def test_the_protocols_folder_must_be_configured(trust: TrustStore) -> None:
    with pytest.raises(ConfigError, match=r"\[hub\] protocols is not set: .*irthub policy sign"):
        load(CONFIG, trust)


def test_a_missing_folder_names_the_option(trust: TrustStore, tmp_path: Path) -> None:
    config = replace(CONFIG, protocols_dir=tmp_path / "nowhere")
    with pytest.raises(ConfigError, match=r"\[hub\] protocols: .*nowhere: not a folder"):
        load(config, trust)


def test_start_fails_listing_every_file_when_none_is_signed(
    trust: TrustStore, tmp_path: Path
) -> None:
    (tmp_path / "E09000022.xml").write_bytes(isp(LAMBETH, "disclose", "details"))
    (tmp_path / "E09000028.xml").write_bytes(isp(SOUTHWARK, "request", "details"))
    with pytest.raises(ConfigError, match="could be loaded") as caught:
        load(replace(CONFIG, protocols_dir=tmp_path), trust)
    assert "E09000022.xml: document is not signed" in caught.value.reason
    assert "E09000028.xml: document is not signed" in caught.value.reason


def test_refused_files_are_logged_and_their_authority_has_nothing_in_force(
    trust: TrustStore, protocols: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="hub.broker.policy_loading"):
        engine = load(replace(CONFIG, protocols_dir=protocols), trust)
    assert set(engine.documents) == {SOUTHWARK}
    (warning,) = caplog.messages
    assert warning.startswith("ISP refused; its authority has no ISP in force: ")
    assert "E09000022.xml: document is not signed" in warning


def test_signed_shadow_candidates_are_staged_and_unsigned_ones_logged(
    trust: TrustStore, protocols: Path, signer_for: SignerFor, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "E09000022.xml").write_bytes(
        signed(isp(LAMBETH, "disclose", "existence"), signer_for(LAMBETH))
    )
    (shadow / "E09000028.xml").write_bytes(isp(SOUTHWARK, "request", "existence"))
    config = replace(CONFIG, protocols_dir=protocols, shadow_protocols_dir=shadow)
    with caplog.at_level(logging.WARNING, logger="hub.broker.policy_loading"):
        engine = load(config, trust)
    assert set(engine.shadow_documents) == {LAMBETH}
    assert set(engine.documents) == {SOUTHWARK}
    assert any(
        m.startswith("shadow ISP candidate refused: ") and "E09000028.xml" in m
        for m in caplog.messages
    )
