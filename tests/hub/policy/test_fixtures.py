"""Every shipped ISP validates and passes its fixtures; the runner catches wrong ones."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hub.directory import Directory
from hub.errors import SchemaInvalid
from hub.identifiers import ALL_AUTHORITIES
from hub.policy.engine import PolicyEngine
from hub.policy.fixtures import load_fixtures, run_fixtures
from hub.policy.model import load_isp
from tests.support.paths import PROTOCOLS

DOCUMENTS = sorted(PROTOCOLS.glob("*.xml"))


def test_one_document_and_one_fixture_file_per_authority() -> None:
    assert [p.stem for p in DOCUMENTS] == [*ALL_AUTHORITIES, "template"]
    assert [p.stem for p in sorted((PROTOCOLS / "fixtures").glob("*.toml"))] == list(
        ALL_AUTHORITIES
    )


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_shipped_document_validates(path: Path, directory: Directory) -> None:
    doc = load_isp(path, directory=directory)
    assert doc.authority == ("E09000001" if path.stem == "template" else path.stem)
    assert doc.rules_for("disclose")
    assert doc.rules_for("request")


@pytest.mark.parametrize("code", ALL_AUTHORITIES)
def test_shipped_document_passes_its_fixtures(code: str, shipped_engine: PolicyEngine) -> None:
    fixture = load_fixtures(PROTOCOLS / "fixtures" / f"{code}.toml")
    assert fixture.document == f"{code}.xml"
    assert len(fixture.cases) >= 6
    for case in fixture.cases:
        assert code in {case.request.requester, case.request.responder}
    results = run_fixtures(fixture.cases, shipped_engine.decide)
    assert [(r.case.name, r.failures) for r in results if not r.ok] == []


def test_protocols_differ_the_way_boroughs_do(shipped_engine: PolicyEngine) -> None:
    digests = {d.digest for d in shipped_engine.documents.values()}
    assert len(digests) == 33
    rule_sets = {tuple(r.id for r in d.rules) for d in shipped_engine.documents.values()}
    assert len(rule_sets) >= 10


def test_runner_reports_every_disagreement(shipped_engine: PolicyEngine) -> None:
    fixture = load_fixtures(PROTOCOLS / "fixtures" / "E09000022.toml")
    case = fixture.cases[0]
    wrong = replace(
        case,
        expect="deny",
        expect_level="none",
        expect_categories=frozenset(),
        expect_rules=frozenset({"E09000022:nothing"}),
    )
    (result,) = run_fixtures((wrong,), shipped_engine.decide)
    assert not result.ok
    assert [f.split(" ")[0] for f in result.failures] == ["outcome", "level", "categories", "rules"]


def test_malformed_fixture_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "E09000022.toml"
    bad.write_text('document = "E09000022.xml"\n[[case]]\nname = "x"\nrequester = "E09000001"\n')
    with pytest.raises(SchemaInvalid, match=r"E09000022\.toml: case 1 \(x\): missing responder"):
        load_fixtures(bad)
    bad.write_text(
        'document = "E09000022.xml"\n[[case]]\nname = "y"\nrequester = "E09000001"\n'
        'responder = "E09000022"\npurpose = "gossip"\nconsent = "given"\nagency = "health"\n'
        'expect = "permit"\n'
    )
    with pytest.raises(SchemaInvalid, match=r"case 1 \(y\): purpose 'gossip' is not one of"):
        load_fixtures(bad)
    bad.write_text('document = "E09000022.xml"\n')
    with pytest.raises(SchemaInvalid, match="at least one"):
        load_fixtures(bad)
