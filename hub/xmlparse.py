"""The one parser for untrusted XML bytes.

Every byte that arrives from outside — a message, an ISP document, a
catalogue — is parsed here and nowhere else. The steps, in order:

(1) size cap on the raw bytes, before the parser sees them (``too-large``);
(2) byte-level refusal of NUL bytes (UTF-16 or UTF-32, ``malformed-xml``)
    and of ``<!DOCTYPE`` and ``<!ENTITY``, so no DTD, internal subset or
    entity declaration is ever parsed (``forbidden-xml``);
(3) libxml2 with entity resolution, DTD loading, network access, huge trees
    and XInclude all off, comments dropped (``malformed-xml`` on syntax
    errors; libxml2's own depth and size guards map to ``too-large``);
(4) the document must be UTF-8 (``malformed-xml``);
(5) no processing instruction anywhere, prolog and epilog included, and no
    element of the XInclude namespace (``forbidden-xml``);
(6) nesting depth and element count caps (``too-large``).

Comments are dropped at parse time because exclusive canonicalisation drops
them too: a reader of ``.text`` then sees exactly the signed characters, which
defeats the comment-truncation attack on signed text (CVE-2017-11428).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Final, cast

from lxml import etree

from hub.errors import ForbiddenXml, MalformedXml, TooLarge

__all__ = ["DEFAULT_MAX_BYTES", "XmlLimits", "parse_untrusted"]

DEFAULT_MAX_BYTES: Final = 1024 * 1024
"""SPEC §4: a message body is 1 MiB at most unless configured otherwise."""

_XINCLUDE_NS: Final = "http://www.w3.org/2001/XInclude"
_FORBIDDEN_MARKUP: Final = ((b"<!DOCTYPE", "a DTD"), (b"<!ENTITY", "an entity declaration"))


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """Resource limits for parsing one untrusted document."""

    max_bytes: int = DEFAULT_MAX_BYTES
    """Largest accepted document in bytes (SPEC §4 default 1 MiB)."""

    max_depth: int = 48
    """Deepest element nesting accepted. The deepest schema of the SPEC nests
    about a dozen levels; 48 leaves room for growth and stops stack-depth
    attacks on every later tree walk."""

    max_elements: int = 20_000
    """Most elements in one document. A full KnownToResult for 33 authorities
    holds a few thousand; more is an attempt to exhaust memory or CPU."""


_LOCAL: Final = threading.local()
# Compiled once: compiling an XPath costs more than evaluating it on a message.
_HAS_XINCLUDE: Final = etree.XPath(f"boolean(//*[namespace-uri()='{_XINCLUDE_NS}'])")
_INSTRUCTIONS: Final = etree.XPath("//processing-instruction()")
_COUNT_ELEMENTS: Final = etree.XPath("count(//*)")
_PARSER: Final = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=False,  # kept so that step (5) can refuse them by name
    collect_ids=False,
    strip_cdata=True,
)


def parse_untrusted(data: bytes, *, limits: XmlLimits = XmlLimits()) -> etree._Element:
    """Parse untrusted ``data`` into an element tree, or refuse it.

    Raises ``TooLarge``, ``ForbiddenXml`` or ``MalformedXml`` with a reason
    that names the limit or construct at fault.
    """
    # (1) size before anything else reads the bytes
    if len(data) > limits.max_bytes:
        raise TooLarge(f"document is {len(data)} bytes; the limit is {limits.max_bytes}")
    # (2) UTF-16 and UTF-32 always contain NUL bytes, which UTF-8 XML never
    # may: refusing them here keeps step (2)'s byte checks meaningful.
    if b"\x00" in data:
        raise MalformedXml("document is not UTF-8 (it contains NUL bytes); only UTF-8 is accepted")
    # DTDs and entity declarations are refused before parsing
    for marker, what in _FORBIDDEN_MARKUP:
        if marker in data:
            raise ForbiddenXml(f"document contains {what} ({marker.decode()}); none is allowed")
    # (3) the parser itself, hardened
    try:
        root = etree.fromstring(data, parser=_thread_parser())
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from exc
    if root is None:
        raise MalformedXml("document is empty")
    tree = root.getroottree()
    # (2, again) a DTD in an encoding the byte check cannot see
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise ForbiddenXml("document contains a DTD; none is allowed")
    # (4) UTF-8 only
    encoding = (tree.docinfo.encoding or "UTF-8").upper()
    if encoding not in {"UTF-8", "UTF8"}:
        raise MalformedXml(f"document is encoded as {encoding}; only UTF-8 is accepted")
    # (5) no processing instructions, no XInclude
    if _may_hold_instructions(data):
        _refuse_processing_instructions(root)
    # The namespace must be spelt out in the bytes unless character
    # references hide it, so the tree walk runs only when either may be there.
    maybe_xinclude = b"XInclude" in data or b"&#" in data
    if maybe_xinclude and _HAS_XINCLUDE(root):
        raise ForbiddenXml("document contains an XInclude element; none is allowed")
    # (6) depth and element count, counted in C by compiled XPath
    if _deeper_than(limits.max_depth)(root):
        raise TooLarge(f"elements are nested deeper than the limit of {limits.max_depth}")
    element_count = int(cast(float, _COUNT_ELEMENTS(root)))
    if element_count > limits.max_elements:
        raise TooLarge(f"document has {element_count} elements; the limit is {limits.max_elements}")
    return root


def _may_hold_instructions(data: bytes) -> bool:
    """False when no ``<?`` follows the XML declaration: then no PI can exist.

    A PI is markup, so its ``<?`` stands in the bytes as written (inside text
    it would have to be escaped); the tree walk runs only when one might.
    """
    body = data.removeprefix(b"\xef\xbb\xbf")
    start = body.find(b"?>") + 2 if body.startswith(b"<?xml") else 0
    return body.find(b"<?", start) != -1


def _refuse_processing_instructions(root: etree._Element) -> None:
    siblings = [*root.itersiblings(preceding=True), *root.itersiblings()]
    instructions = [node for node in siblings if isinstance(node, etree._ProcessingInstruction)]
    if not instructions:
        instructions = cast(list[etree._ProcessingInstruction], _INSTRUCTIONS(root))
    if instructions:
        target = str(instructions[0].target)
        raise ForbiddenXml(
            f"document contains a processing instruction <?{target}?>; none is allowed"
        )


@functools.lru_cache(maxsize=8)
def _deeper_than(depth: int) -> etree.XPath:
    return etree.XPath("boolean(/" + "*/" * depth + "*)")


def _syntax_error(exc: etree.XMLSyntaxError) -> MalformedXml | TooLarge:
    message = str(exc.msg or exc)
    lowered = message.lower()
    if "excessive depth" in lowered or "huge" in lowered or "amplification" in lowered:
        return TooLarge(f"document exceeds the parser's safety limits: {message}")
    return MalformedXml(message)


def _thread_parser() -> etree.XMLParser:
    # Verification runs in a thread pool; lxml serialises use of one parser
    # object, so each thread keeps its own copy of the hardened settings.
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _PARSER.copy()
        _LOCAL.parser = parser
    return cast(etree.XMLParser, parser)
