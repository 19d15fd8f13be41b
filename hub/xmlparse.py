"""The one parser for untrusted XML bytes.

Every byte that arrives from outside — a message, an ISP document, a
catalogue — is parsed here and nowhere else. The steps, in order:

(1) size cap on the raw bytes, before the parser sees them (``too-large``);
(2) byte-level refusal of NUL bytes (UTF-16 or UTF-32, ``malformed-xml``)
    and of a ``<!DOCTYPE`` in the prolog, the only place a DTD, internal
    subset or entity declaration can stand, so none is ever parsed
    (``forbidden-xml``);
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

import re
import threading
from dataclasses import dataclass
from typing import Final, cast

from lxml import etree

from hub.errors import ForbiddenXml, MalformedXml, TooLarge

__all__ = ["DEFAULT_MAX_BYTES", "XmlLimits", "parse_untrusted"]

DEFAULT_MAX_BYTES: Final = 1024 * 1024
"""SPEC §4: a message body is 1 MiB at most unless configured otherwise."""

_XINCLUDE_NS: Final = "http://www.w3.org/2001/XInclude"
_WHITE_SPACE: Final = re.compile(rb"[ \t\r\n]*")


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
_XINCLUDE_ELEMENTS: Final = f"{{{_XINCLUDE_NS}}}*"
_INSTRUCTIONS: Final = "//processing-instruction()"
_COUNT_ELEMENTS: Final = "count(//*)"
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
    # A DTD (and with it any entity declaration) can stand only in the
    # prolog, before the root element: it is refused there, before parsing.
    _refuse_prolog_declarations(data)
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
    _refuse_processing_instructions(root)
    if next(root.iter(_XINCLUDE_ELEMENTS), None) is not None:
        raise ForbiddenXml("document contains an XInclude element; none is allowed")
    # (6) depth and element count, counted in C by compiled XPath
    if _xpath("boolean(/" + "*/" * limits.max_depth + "*)")(root):
        raise TooLarge(f"elements are nested deeper than the limit of {limits.max_depth}")
    element_count = int(cast(float, _xpath(_COUNT_ELEMENTS)(root)))
    if element_count > limits.max_elements:
        raise TooLarge(f"document has {element_count} elements; the limit is {limits.max_elements}")
    return root


def _refuse_prolog_declarations(data: bytes) -> None:
    """Refuse ``<!DOCTYPE`` (or any ``<!`` declaration) in the prolog.

    The prolog holds only the XML declaration, comments, processing
    instructions, white space and the DTD; the walk jumps over the first four
    (in C, by ``find`` and a regular expression) and stops at the first other
    markup. Scanning only the prolog keeps the cost independent of the size
    of the document, and no DTD is ever handed to the parser.
    """
    position = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        position = _WHITE_SPACE.match(data, position).end()  # type: ignore[union-attr]
        for opener, closer in ((b"<?", b"?>"), (b"<!--", b"-->")):
            if data.startswith(opener, position):
                end = data.find(closer, position + len(opener))
                if end == -1:
                    return  # unterminated: the parser reports it as malformed
                position = end + len(closer)
                break
        else:
            if data.startswith(b"<!", position):
                declaration = data[position : position + 9].decode("ascii", "replace")
                raise ForbiddenXml(f"document contains a DTD ({declaration}); none is allowed")
            return


def _refuse_processing_instructions(root: etree._Element) -> None:
    siblings = [*root.itersiblings(preceding=True), *root.itersiblings()]
    instructions = [node for node in siblings if isinstance(node, etree._ProcessingInstruction)]
    if not instructions:
        instructions = cast(list[etree._ProcessingInstruction], _xpath(_INSTRUCTIONS)(root))
    if instructions:
        target = str(instructions[0].target)
        raise ForbiddenXml(
            f"document contains a processing instruction <?{target}?>; none is allowed"
        )


def _xpath(expression: str) -> etree.XPath:
    # Compiled once per thread: compiling costs more than evaluating on a
    # message, and one compiled XPath shared by threads serialises them.
    compiled: dict[str, etree.XPath] = _LOCAL.__dict__.setdefault("xpaths", {})
    xpath = compiled.get(expression)
    if xpath is None:
        xpath = compiled[expression] = etree.XPath(expression)
    return xpath


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
