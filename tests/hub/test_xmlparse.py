"""The hardened parser refuses every XML attack in tests/assets/attacks/xml.

Each file is named ``<expected SPEC code>--<attack>.xml``; adding a file adds a case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import ForbiddenXml, InputRejected, MalformedXml, TooLarge
from hub.xmlparse import XmlLimits, parse_untrusted
from tests.support.paths import ASSETS

ATTACKS = ASSETS / "attacks" / "xml"
ATTACK_FILES = sorted(ATTACKS.glob("*.xml"))


def test_attack_folder_is_complete() -> None:
    names = {path.name.split("--", 1)[1].removesuffix(".xml") for path in ATTACK_FILES}
    for attack in (
        "xxe-general-entity",
        "xxe-parameter-entity",
        "billion-laughs",
        "quadratic-blowup",
        "external-dtd",
        "xinclude",
        "deep-nesting",
        "processing-instruction-prolog",
        "processing-instruction-inside",
    ):
        assert attack in names


@pytest.mark.parametrize("path", ATTACK_FILES, ids=lambda p: p.stem)
def test_attack_is_refused_with_its_code(path: Path) -> None:
    expected_code = path.name.split("--", 1)[0]
    with pytest.raises(InputRejected) as caught:
        parse_untrusted(path.read_bytes())
    assert caught.value.code == expected_code
    assert caught.value.reason  # a human-readable reason, never empty


def test_dtd_reason_names_the_construct() -> None:
    with pytest.raises(ForbiddenXml, match=r"contains a DTD \(<!DOCTYPE\); none is allowed"):
        parse_untrusted(b"<!DOCTYPE r><r/>")


def test_dtd_after_a_long_prolog_is_still_refused_before_parsing() -> None:
    prolog = b'<?xml version="1.0"?>' + b"<!-- padding -->" * 5000 + b"\n<?pi x?>\n"
    with pytest.raises(ForbiddenXml, match=r"contains a DTD \(<!DOCTYPE\)"):
        parse_untrusted(prolog + b'<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>')


def test_declaration_text_inside_cdata_is_only_text() -> None:
    root = parse_untrusted(b'<r><![CDATA[ <!ENTITY x "y"> ]]></r>')
    assert root.text == ' <!ENTITY x "y"> '


def test_oversized_text_is_refused_before_parsing() -> None:
    data = b"<r>" + b"A" * (1024 * 1024) + b"</r>"
    with pytest.raises(TooLarge, match=r"document is 1048583 bytes; the limit is 1048576"):
        parse_untrusted(data)


def test_size_limit_is_configurable() -> None:
    with pytest.raises(TooLarge, match="the limit is 10"):
        parse_untrusted(b"<r>0123456789</r>", limits=XmlLimits(max_bytes=10))


def test_depth_limit_is_exact() -> None:
    limits = XmlLimits(max_depth=3)
    assert parse_untrusted(b"<a><b><c/></b></a>", limits=limits).tag == "a"
    with pytest.raises(TooLarge, match="nested deeper than the limit of 3"):
        parse_untrusted(b"<a><b><c><d/></c></b></a>", limits=limits)


def test_element_count_limit_is_exact() -> None:
    limits = XmlLimits(max_elements=3)
    assert len(parse_untrusted(b"<a><b/><c/></a>", limits=limits)) == 2
    with pytest.raises(TooLarge, match="4 elements; the limit is 3"):
        parse_untrusted(b"<a><b/><c/><d/></a>", limits=limits)


def test_comments_are_dropped_so_text_reads_as_signed() -> None:
    # Exclusive c14n drops comments; a reader must see the same characters.
    root = parse_untrusted(b"<r><name>Jo<!-- hidden -->hn</name></r>")
    assert root.findtext("name") == "John"


def test_malformed_reason_carries_the_parser_position() -> None:
    with pytest.raises(MalformedXml, match=r"Opening and ending tag mismatch.*line 1"):
        parse_untrusted(b"<r><a></r>")


def test_valid_utf8_document_parses() -> None:
    root = parse_untrusted('<?xml version="1.0" encoding="UTF-8"?><r>Zoë Ōkafor</r>'.encode())
    assert root.text == "Zoë Ōkafor"
