"""The engine: installing versions, keeping the old one on failure, folders, shadow mode."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hub.errors import SchemaInvalid
from hub.identifiers import AuthorityCode
from hub.policy.engine import PolicyEngine
from hub.policy.request import PolicyRequest
from tests.support.isp_builders import IspXml, RuleXml, asker
from tests.support.paths import PROTOCOLS

LAMBETH, SOUTHWARK = AuthorityCode("E09000022"), AuthorityCode("E09000028")
S47 = ("child-protection-s47",)


def _lambeth(isp_xml: IspXml, rule_xml: RuleXml, level: str, version: int = 1) -> bytes:
    rule = rule_xml("p", "permit", "disclose", purposes=S47, consents=("given",), level=level)
    return isp_xml(LAMBETH, [rule], version=version)


def _request(level: str = "details") -> PolicyRequest:
    return PolicyRequest(SOUTHWARK, LAMBETH, "child-protection-s47", "given", "health", level)


def test_invalid_new_version_keeps_the_old_in_force(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    engine.install(asker(SOUTHWARK), source="s")
    old = engine.install(_lambeth(isp_xml, rule_xml, "contacts"), source="E09000022.xml")
    broken = _lambeth(isp_xml, rule_xml, "everything", version=2)
    with pytest.raises(SchemaInvalid, match=r"E09000022\.xml, rule p: line 8: .*everything"):
        engine.install(broken, source="E09000022.xml")
    assert engine.in_force(LAMBETH) is old
    assert engine.decide(_request()).level == "contacts"


def test_version_must_increase(engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml) -> None:
    engine.install(_lambeth(isp_xml, rule_xml, "contacts", version=3), source="v3")
    with pytest.raises(SchemaInvalid, match="version 3 is not greater than version 3 in force"):
        engine.install(_lambeth(isp_xml, rule_xml, "details", version=3), source="v3b")
    with pytest.raises(SchemaInvalid, match="version 2 is not greater"):
        engine.install(_lambeth(isp_xml, rule_xml, "details", version=2), source="v2")
    assert (
        engine.install(_lambeth(isp_xml, rule_xml, "details", version=4), source="v4").version == 4
    )


def test_file_name_must_match_the_authority(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    with pytest.raises(SchemaInvalid, match="file is named for E09000028 but the ISP is E09000022"):
        engine.install(_lambeth(isp_xml, rule_xml, "details"), source="protocols/E09000028.xml")


def test_folder_load_reports_each_file_and_keeps_old_versions(
    engine: PolicyEngine, tmp_path: Path
) -> None:
    folder = tmp_path / "protocols"
    shutil.copytree(PROTOCOLS, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    first = engine.load_folder(folder)
    assert first.ok
    assert [o.status for o in first.outcomes] == ["installed"] * 33
    assert all(o.status == "unchanged" for o in engine.load_folder(folder).outcomes)
    before = engine.in_force(LAMBETH)
    text = (folder / "E09000022.xml").read_text()
    line = text.splitlines().index("      <MaxLevel>existence</MaxLevel>") + 1
    (folder / "E09000022.xml").write_text(
        text.replace("<Version>1</Version>", "<Version>2</Version>").replace(
            "<MaxLevel>existence</MaxLevel>", "<MaxLevel>some</MaxLevel>"
        )
    )
    report = engine.load_folder(folder)
    assert not report.ok
    (refused,) = report.refused()
    assert refused.source.endswith("E09000022.xml")
    assert f"rule d-cin-unconsented: line {line}: " in refused.reason
    assert refused.reason.endswith("version 1 stays in force")
    assert engine.in_force(LAMBETH) is before
    assert "refused: " in report.text()


def test_shadow_mode_evaluates_a_candidate_beside_the_version_in_force(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    engine.install(asker(SOUTHWARK), source="s")
    engine.install(_lambeth(isp_xml, rule_xml, "contacts"), source="l")
    enforced, shadow, differs = engine.evaluate_with_shadow(_request())
    assert (enforced.level, shadow.level, differs) == ("contacts", "contacts", False)
    candidate = engine.stage_shadow(_lambeth(isp_xml, rule_xml, "details", 2), source="cand")
    enforced, shadow, differs = engine.evaluate_with_shadow(_request())
    assert (enforced.level, shadow.level, differs) == ("contacts", "details", True)
    assert shadow.basis[1].digest == candidate.digest
    assert engine.decide(_request()).level == "contacts"  # shadow is never enforced
    _, _, differs = engine.evaluate_with_shadow(_request("existence"))
    assert not differs  # same effect; only the basis (document digest) differs
    engine.clear_shadow()
    assert engine.evaluate_with_shadow(_request())[2] is False


def test_shadow_follows_installs_of_other_authorities(
    engine: PolicyEngine, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    engine.stage_shadow(_lambeth(isp_xml, rule_xml, "details"), source="cand")
    enforced, shadow, differs = engine.evaluate_with_shadow(_request())
    assert not shadow.permitted  # Southwark has no ISP yet
    engine.install(asker(SOUTHWARK), source="s")
    enforced, shadow, differs = engine.evaluate_with_shadow(_request())
    assert (enforced.permitted, shadow.level, differs) == (False, "details", True)
