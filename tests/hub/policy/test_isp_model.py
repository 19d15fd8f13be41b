"""Loading ISP documents: schema, model checks, digests and error reports."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from hub.directory import Directory
from hub.errors import ForbiddenXml, SchemaInvalid
from hub.identifiers import ORDINARY_CATEGORIES
from hub.policy.model import load_isp, parse_isp
from tests.support.isp_builders import IspXml, RuleXml
from tests.support.paths import PROTOCOLS

S47 = ("child-protection-s47",)


def test_template_loads_with_typed_fields_and_digest(directory: Directory) -> None:
    data = (PROTOCOLS / "template.xml").read_bytes()
    doc = parse_isp(data, source="template.xml", directory=directory)
    assert doc.id == "isp-pan-london-template"
    assert doc.version == 1
    assert doc.effective_from == date(2026, 4, 1)
    assert doc.effective_to is None
    assert doc.digest == hashlib.sha256(data).hexdigest()
    assert doc.partners.london
    s47 = doc.rule("d-s47")
    assert (s47.effect, s47.side, s47.max_level) == ("permit", "disclose", "details")
    assert s47.categories == frozenset(ORDINARY_CATEGORIES)  # none listed: ordinary only
    assert doc.rule("d-no-refused-early-help").max_level == "none"
    assert doc.obligations.retention_days == 365


def test_one_changed_byte_is_another_version(directory: Directory) -> None:
    data = (PROTOCOLS / "E09000022.xml").read_bytes()
    a = parse_isp(data, source="a", directory=directory)
    b = parse_isp(
        data.replace(b"</InformationSharingProtocol>", b"</InformationSharingProtocol> "),
        source="b",
        directory=directory,
    )
    assert a.digest != b.digest
    assert a.rules == b.rules


def test_schema_error_names_file_line_and_rule(
    directory: Directory, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    rules = [
        rule_xml("ok", "permit", "disclose", purposes=S47, consents=("given",), level="details"),
        rule_xml(
            "bad", "permit", "disclose", purposes=("gossip",), consents=("given",), level="details"
        ),
    ]
    with pytest.raises(
        SchemaInvalid, match=r"^schema-invalid: lbl\.xml, rule bad: line 9: .*gossip"
    ):
        parse_isp(isp_xml("E09000022", rules), source="lbl.xml", directory=directory)


def test_permit_must_name_purpose_consent_and_a_level(
    directory: Directory, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    cases = [
        (
            rule_xml("p1", "permit", "disclose", consents=("given",), level="details"),
            "line 8, rule p1: a permit rule must name at least one Purpose",
        ),
        (
            rule_xml("p2", "permit", "disclose", purposes=S47, level="details"),
            "line 8, rule p2: a permit rule must name the Consent values",
        ),
        (
            rule_xml("p3", "permit", "disclose", purposes=S47, consents=("given",)),
            "rule p3: a permit rule needs a MaxLevel above 'none'",
        ),
        (
            rule_xml("p4", "permit", "disclose", purposes=S47, consents=("given",), level="none"),
            "rule p4: a permit rule needs a MaxLevel above 'none'",
        ),
        (
            rule_xml("f1", "forbid", "disclose", level="details"),
            "rule f1: a forbid rule grants nothing",
        ),
    ]
    for rule, message in cases:
        with pytest.raises(SchemaInvalid, match=message):
            parse_isp(isp_xml("E09000022", [rule]), source="x.xml", directory=directory)


def test_duplicate_rule_ids_are_refused(
    directory: Directory, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    rule = rule_xml("same", "forbid", "disclose")
    with pytest.raises(SchemaInvalid, match=r"rule same: .*[Dd]uplicate key"):
        parse_isp(isp_xml("E09000022", [rule, rule]), source="x.xml", directory=directory)


def test_partners_must_exist_and_not_be_the_author(
    directory: Directory, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    rule = rule_xml("f", "forbid", "disclose")
    with pytest.raises(SchemaInvalid, match="group 'midlands' is not in the directory"):
        parse_isp(
            isp_xml("E09000022", [rule], partners=["group:midlands"]),
            source="x",
            directory=directory,
        )
    with pytest.raises(SchemaInvalid, match="E09000022 lists itself as a partner"):
        parse_isp(
            isp_xml("E09000022", [rule], partners=["E09000022"]), source="x", directory=directory
        )
    narrowed = rule_xml("g", "forbid", "disclose", partners=["group:nowhere"])
    with pytest.raises(SchemaInvalid, match="rule g: group 'nowhere'"):
        parse_isp(isp_xml("E09000022", [narrowed]), source="x", directory=directory)


def test_effective_to_before_from_is_refused(
    directory: Directory, isp_xml: IspXml, rule_xml: RuleXml
) -> None:
    data = isp_xml(
        "E09000022",
        [rule_xml("f", "forbid", "disclose")],
        effective_from="2026-05-01",
        effective_to="2026-04-30",
    )
    with pytest.raises(SchemaInvalid, match="EffectiveTo 2026-04-30 is before EffectiveFrom"):
        parse_isp(data, source="x", directory=directory)


def test_other_documents_and_hostile_xml_are_refused(directory: Directory) -> None:
    envelope = b'<Envelope xmlns="urn:lcpc:irt:envelope:1" Version="1.0"/>'
    with pytest.raises(SchemaInvalid, match="not InformationSharingProtocol"):
        parse_isp(envelope, source="env.xml", directory=directory)
    dtd = b'<!DOCTYPE x [<!ENTITY e "boom">]><InformationSharingProtocol/>'
    with pytest.raises(ForbiddenXml, match=r"^forbidden-xml: evil\.xml: document contains a DTD"):
        parse_isp(dtd, source="evil.xml", directory=directory)


def test_signature_element_is_allowed_last(directory: Directory) -> None:
    data = (
        (PROTOCOLS / "E09000001.xml")
        .read_bytes()
        .replace(
            b"</InformationSharingProtocol>",
            b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></InformationSharingProtocol>',
        )
    )
    assert parse_isp(data, source="signed.xml", directory=directory).authority == "E09000001"


def test_missing_file_is_reported(directory: Directory) -> None:
    with pytest.raises(SchemaInvalid, match=r"nowhere\.xml: cannot read"):
        load_isp(PROTOCOLS / "nowhere.xml", directory=directory)
