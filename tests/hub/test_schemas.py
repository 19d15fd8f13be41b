"""The schema registry, the sample bodies and `irthub schema`.

tests/assets/bodies holds one valid document per global body element, named
``<ElementName>.xml``. tests/assets/invalid-bodies holds documents named
``<rule>--<what is wrong>.xml``, where ``<rule>`` names the libxml2 check that
must refuse it (see ``RULE_MESSAGES``); adding a file adds a case.
"""

from __future__ import annotations

import base64
import re
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from hub.errors import InternalError, SchemaInvalid
from hub.identifiers import is_valid_nhs_number, is_valid_upn
from hub.schemas import (
    ENVELOPE_NAMESPACE,
    MAX_REPORTED_ERRORS,
    SchemaRegistry,
    default_registry,
)
from hub.xmlparse import parse_untrusted
from irthub.cli import main
from tests.support.paths import ASSETS

BODIES = sorted((ASSETS / "bodies").glob("*.xml"))
INVALIDBODIES = sorted((ASSETS / "invalid-bodies").glob("*.xml"))

COMMON = "urn:lcpc:irt:common:1"
KNOWNTO = "urn:lcpc:irt:knownto:1"
REFERRAL = "urn:lcpc:irt:referral:1"
DIRECTORY = "urn:lcpc:irt:directory:1"
MESSAGE_NAMESPACES = (KNOWNTO, REFERRAL, DIRECTORY)

RULE_MESSAGES = {
    "facet-pattern": "[facet 'pattern']",
    "facet-enumeration": "[facet 'enumeration']",
    "facet-maxInclusive": "[facet 'maxInclusive']",
    "not-expected": "This element is not expected. Expected is",
    "missing-child": "Missing child element(s). Expected is",
    "union": "is not a valid value of the union type",
}
"""The file-name prefix of an invalid body, and the libxml2 words for that rule."""

ENVELOPE_ELEMENTS = ("OriginalMessage", "SignedResponse")
"""Body elements that carry a whole envelope, base64-encoded."""


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return default_registry()


def _root(path: Path) -> etree._Element:
    return parse_untrusted(path.read_bytes())


def _embedded_envelopes(root: etree._Element) -> list[bytes]:
    return [
        base64.b64decode(element.text or "")
        for name in ENVELOPE_ELEMENTS
        for element in root.iter(f"{{*}}{name}")
    ]


def _line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


# ---------------------------------------------------------------- registry


def test_registry_finds_every_schema_folder(registry: SchemaRegistry) -> None:
    by_namespace = {info.namespace: info for info in registry.namespaces()}
    for namespace in (COMMON, ENVELOPE_NAMESPACE, *MESSAGE_NAMESPACES):
        info = by_namespace[namespace]
        assert info.path.is_file()
        assert info.relative_path == f"{info.name}/{info.version}/{info.path.name}"
        assert info.path.parts[-3:] == (info.name, info.version, info.path.name)
    assert by_namespace[COMMON].elements == ()
    assert by_namespace[ENVELOPE_NAMESPACE].elements == ("Envelope",)
    assert [info.namespace for info in registry.namespaces()] == sorted(by_namespace)


def test_default_registry_is_loaded_once() -> None:
    assert default_registry() is default_registry()


def test_every_global_body_element_has_a_valid_sample(registry: SchemaRegistry) -> None:
    declared = {
        (info.namespace, element)
        for info in registry.namespaces()
        if info.namespace in MESSAGE_NAMESPACES
        for element in info.elements
    }
    samples = {(etree.QName(_root(path)).namespace, path.stem) for path in BODIES}
    assert declared == samples


@pytest.mark.parametrize("path", BODIES, ids=lambda p: p.stem)
def test_sample_body_validates(registry: SchemaRegistry, path: Path) -> None:
    root = _root(path)
    assert etree.QName(root).localname == path.stem
    registry.validate(root)


@pytest.mark.parametrize("path", BODIES, ids=lambda p: p.stem)
def test_sample_identifiers_are_valid_test_numbers(path: Path) -> None:
    documents = [_root(path)] + [parse_untrusted(data) for data in _embedded_envelopes(_root(path))]
    for document in documents:
        for nhs in document.iter(f"{{{COMMON}}}NHSNumber"):
            assert nhs.text is not None
            assert nhs.text.startswith("9")
            assert is_valid_nhs_number(nhs.text)
        for upn in document.iter(f"{{{COMMON}}}UPN"):
            assert upn.text is not None
            assert is_valid_upn(upn.text)


def test_samples_carry_envelopes_that_validate(registry: SchemaRegistry) -> None:
    carried = [data for path in BODIES for data in _embedded_envelopes(_root(path))]
    assert len(carried) == 3  # KnownToForward, KnownToResult, ReferralForward
    for data in carried:
        registry.validate_envelope(parse_untrusted(data))


def test_invalid_folder_uses_only_known_rules() -> None:
    rules = {path.name.split("--", 1)[0] for path in INVALIDBODIES}
    assert rules == set(RULE_MESSAGES)


@pytest.mark.parametrize("path", INVALIDBODIES, ids=lambda p: p.stem)
def test_invalid_body_is_refused_naming_the_rule(registry: SchemaRegistry, path: Path) -> None:
    rule = path.name.split("--", 1)[0]
    with pytest.raises(
        SchemaInvalid, match=r"^schema-invalid: line [1-9][0-9]*: Element '\{urn:lcpc"
    ) as caught:
        registry.validate(_root(path))
    assert RULE_MESSAGES[rule] in caught.value.reason


def test_reason_names_line_element_and_pattern(registry: SchemaRegistry) -> None:
    path = ASSETS / "invalid-bodies" / "facet-pattern--KnownToQuery-nhs-number-nine-digits.xml"
    line = _line_of(path.read_text(), "<c:NHSNumber>")
    expected = (
        f"line {line}: Element '{{urn:lcpc:irt:common:1}}NHSNumber': [facet 'pattern'] "
        "The value '943476591' is not accepted by the pattern '[0-9]{10}'"
    )
    with pytest.raises(SchemaInvalid, match=f"^schema-invalid: {re.escape(expected)}$"):
        registry.validate(_root(path))


def test_subject_needs_name_and_birth_date_or_an_identifier(registry: SchemaRegistry) -> None:
    identified = _root(ASSETS / "bodies" / "Referral.xml")
    child = identified.find(f"{{{REFERRAL}}}Child")
    assert child is not None
    for name in ("GivenName", "FamilyName", "OtherName", "BirthDate", "Address"):
        for element in child.findall(f"{{{COMMON}}}{name}"):
            child.remove(element)
    registry.validate(identified)  # identifiers alone are enough
    for name in ("NHSNumber", "UPN"):
        identifier = child.find(f"{{{COMMON}}}{name}")
        assert identifier is not None
        child.remove(identifier)
    with pytest.raises(SchemaInvalid, match=r"Element '\{urn:lcpc:irt:common:1\}Sex': This"):
        registry.validate(identified)


def test_errors_are_capped_and_counted(registry: SchemaRegistry) -> None:
    types = "".join("<d:Type>counselling</d:Type>\n" for _ in range(MAX_REPORTED_ERRORS + 3))
    document = etree.fromstring(
        f'<d:ServiceSearch xmlns:d="{DIRECTORY}">\n{types}</d:ServiceSearch>'.encode()
    )
    with pytest.raises(SchemaInvalid, match="counselling") as caught:
        registry.validate(document)
    parts = caught.value.reason.split("; ")
    assert [part.split(":")[0] for part in parts[:-1]] == [
        f"line {n}" for n in range(2, 2 + MAX_REPORTED_ERRORS)
    ]
    assert parts[-1] == "and 3 more"


@pytest.mark.parametrize(
    ("document", "namespace"),
    [
        (b'<x:Thing xmlns:x="urn:example:other"/>', "urn:example:other"),
        (b"<Thing/>", ""),
    ],
)
def test_unknown_namespace_is_refused(
    registry: SchemaRegistry, document: bytes, namespace: str
) -> None:
    with pytest.raises(
        SchemaInvalid, match=f"^schema-invalid: no schema for namespace '{namespace}'$"
    ):
        registry.validate(etree.fromstring(document))


def test_common_namespace_has_no_body_element(registry: SchemaRegistry) -> None:
    document = etree.fromstring(
        f'<c:NHSNumber xmlns:c="{COMMON}">9434765919</c:NHSNumber>'.encode()
    )
    with pytest.raises(SchemaInvalid, match="No matching global declaration"):
        registry.validate(document)


def test_validation_is_safe_across_threads(registry: SchemaRegistry) -> None:
    valid = _root(ASSETS / "bodies" / "KnownToQuery.xml")
    invalid = {path.stem: _root(path) for path in INVALIDBODIES if "KnownToQuery" in path.name}
    expected = {}
    for stem, root in invalid.items():
        with pytest.raises(SchemaInvalid, match=r"^schema-invalid: line ") as caught:
            registry.validate(root)
        expected[stem] = caught.value.reason
    mismatches: list[str] = []

    def work() -> None:
        for _ in range(50):
            registry.validate(valid)
            for stem, root in invalid.items():
                try:
                    registry.validate(root)
                except SchemaInvalid as exc:
                    if exc.reason != expected[stem]:
                        mismatches.append(exc.reason)
                else:
                    mismatches.append(f"{stem} validated")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []


# ---------------------------------------------------------------- envelopes


def _query_envelope() -> str:
    forward = _root(ASSETS / "bodies" / "KnownToForward.xml")
    (data,) = _embedded_envelopes(forward)
    return data.decode()


def test_envelope_and_its_body_validate(registry: SchemaRegistry) -> None:
    root = parse_untrusted(_query_envelope().encode())
    registry.validate_envelope(root)
    registry.validate(root)  # the same checks, reached by namespace


def test_invalid_body_inside_envelope_reports_envelope_line(registry: SchemaRegistry) -> None:
    text = _query_envelope().replace(
        "<kt:RequestedLevel>contacts<", "<kt:RequestedLevel>everything<"
    )
    line = _line_of(text, "<kt:RequestedLevel>")
    root = parse_untrusted(text.encode())
    pattern = (
        rf"^schema-invalid: line {line}: "
        r"Element '\{urn:lcpc:irt:knownto:1\}RequestedLevel': \[facet"
    )
    with pytest.raises(SchemaInvalid, match=pattern):
        registry.validate_envelope(root)
    with pytest.raises(SchemaInvalid, match=pattern):
        registry.validate(root)


def test_invalid_header_is_refused_before_the_body(registry: SchemaRegistry) -> None:
    text = _query_envelope().replace("child-protection-s47", "curiosity")
    with pytest.raises(SchemaInvalid, match=r"Purpose': \[facet 'enumeration'\] The value 'curio"):
        registry.validate_envelope(parse_untrusted(text.encode()))


def test_envelope_body_without_schema_is_refused(registry: SchemaRegistry) -> None:
    text = re.sub(
        r"<kt:KnownToQuery.*</kt:KnownToQuery>",
        '<x:Thing xmlns:x="urn:example:other"/>',
        _query_envelope(),
        flags=re.DOTALL,
    )
    with pytest.raises(
        SchemaInvalid, match=r"^schema-invalid: no schema for namespace 'urn:example:other'$"
    ):
        registry.validate_envelope(parse_untrusted(text.encode()))


def test_error_body_is_validated_by_the_envelope_schema(registry: SchemaRegistry) -> None:
    template = re.sub(
        r"<kt:KnownToQuery.*</kt:KnownToQuery>",
        '<env:Error code="CODE">Created lies 7 minutes in the future.</env:Error>',
        _query_envelope(),
        flags=re.DOTALL,
    )
    registry.validate_envelope(parse_untrusted(template.replace("CODE", "stale-message").encode()))
    with pytest.raises(SchemaInvalid, match=r"attribute 'code': \[facet 'enumeration'\]"):
        registry.validate_envelope(parse_untrusted(template.replace("CODE", "late").encode()))


def test_validate_envelope_refuses_another_root(registry: SchemaRegistry) -> None:
    with pytest.raises(SchemaInvalid, match=r"root element is '\{urn:lcpc:irt:knownto:1\}Known"):
        registry.validate_envelope(_root(ASSETS / "bodies" / "KnownToQuery.xml"))


# ---------------------------------------------------------------- loading


_TINY_XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
  targetNamespace="{ns}" elementFormDefault="qualified">
  <xs:element name="Ping" type="xs:{type}"/>
</xs:schema>"""


def _write_schema(root: Path, relative: str, namespace: str, type_: str = "string") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_TINY_XSD.format(ns=namespace, type=type_))


def test_load_reads_a_schema_tree(tmp_path: Path) -> None:
    _write_schema(tmp_path, "ping/2/ping.xsd", "urn:example:ping:2", "int")
    (tmp_path / "ping" / "README.txt").write_text("not a schema")
    registry = SchemaRegistry.load(tmp_path)
    (info,) = registry.namespaces()
    assert (info.namespace, info.name, info.version, info.elements) == (
        "urn:example:ping:2",
        "ping",
        "2",
        ("Ping",),
    )
    registry.validate(etree.fromstring(b'<Ping xmlns="urn:example:ping:2">42</Ping>'))
    with pytest.raises(SchemaInvalid, match="'forty-two' is not a valid value"):
        registry.validate(etree.fromstring(b'<Ping xmlns="urn:example:ping:2">forty-two</Ping>'))


def test_load_refuses_two_schemas_for_one_namespace(tmp_path: Path) -> None:
    _write_schema(tmp_path, "ping/1/a.xsd", "urn:example:ping:1")
    _write_schema(tmp_path, "ping/1/b.xsd", "urn:example:ping:1")
    with pytest.raises(InternalError, match=r"ping/1/a.xsd and ping/1/b.xsd both declare"):
        SchemaRegistry.load(tmp_path)


def test_load_refuses_a_schema_that_does_not_compile(tmp_path: Path) -> None:
    _write_schema(tmp_path, "ping/1/ping.xsd", "urn:example:ping:1", "no-such-type")
    with pytest.raises(InternalError, match=r"ping\.xsd does not compile"):
        SchemaRegistry.load(tmp_path)


def test_load_refuses_a_schema_without_namespace(tmp_path: Path) -> None:
    _write_schema(tmp_path, "ping/1/ping.xsd", "")
    with pytest.raises(InternalError, match="declares no targetNamespace"):
        SchemaRegistry.load(tmp_path)


def test_envelope_validation_needs_the_envelope_schema(tmp_path: Path) -> None:
    _write_schema(tmp_path, "ping/1/ping.xsd", "urn:example:ping:1")
    registry = SchemaRegistry.load(tmp_path)
    with pytest.raises(InternalError, match="no schema for the envelope namespace"):
        registry.validate_envelope(parse_untrusted(_query_envelope().encode()))


# ---------------------------------------------------------------- CLI


def test_cli_list_shows_every_schema() -> None:
    result = CliRunner().invoke(main, ["schema", "list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAMESPACE", "VERSION", "FILE", "GLOBAL", "ELEMENTS"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows[KNOWNTO] == [
        "1",
        "knownto/1/knownto.xsd",
        "KnownToQuery",
        "KnownToForward",
        "KnownToResponse",
        "KnownToResult",
    ]
    assert rows[COMMON] == ["1", "common/1/common.xsd", "-"]
    assert set(rows) >= {ENVELOPE_NAMESPACE, REFERRAL, DIRECTORY}


def test_cli_validate_accepts_a_body() -> None:
    result = CliRunner().invoke(
        main, ["schema", "validate", str(ASSETS / "bodies" / "ReferralStatus.xml")]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"OK {REFERRAL} ReferralStatus\n"


def test_cli_validate_accepts_an_envelope(tmp_path: Path) -> None:
    path = tmp_path / "query.xml"
    path.write_text(_query_envelope())
    result = CliRunner().invoke(main, ["schema", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"OK {ENVELOPE_NAMESPACE} Envelope (body {KNOWNTO} KnownToQuery)\n"


def test_cli_validate_reports_the_first_error() -> None:
    path = ASSETS / "invalid-bodies" / "facet-maxInclusive--Referral-concern-level-4.xml"
    line = _line_of(path.read_text(), "<r:ConcernLevel>")
    result = CliRunner().invoke(main, ["schema", "validate", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"error: schema-invalid: line {line}: Element '{{{REFERRAL}}}ConcernLevel': "
        "[facet 'maxInclusive'] The value '4' is greater than the maximum value allowed ('3')"
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'<x:Thing xmlns:x="urn:example:other"/>', "error: schema-invalid: no schema for"),
        (b"<!DOCTYPE r [<!ENTITY e 'x'>]><r>&e;</r>", "error: forbidden-xml: "),
        (b"<r>", "error: malformed-xml: "),
    ],
)
def test_cli_validate_refuses_bad_input(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "input.xml"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["schema", "validate", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(expected)


def test_cli_validate_needs_an_existing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["schema", "validate", str(tmp_path / "absent.xml")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_cli_help_explains_the_commands() -> None:
    runner = CliRunner()
    group_help = runner.invoke(main, ["schema", "--help"])
    assert group_help.exit_code == 0
    assert "list" in group_help.stdout
    assert "validate" in group_help.stdout
    validate_help = " ".join(runner.invoke(main, ["schema", "validate", "--help"]).stdout.split())
    assert "OK <namespace> <root element>" in validate_help
    assert "error: schema-invalid: line N" in validate_help
