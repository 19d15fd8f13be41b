"""The schema registry: every XSD of the interchange, compiled once, found by namespace.

SPEC §2: "The envelope is validated against its XSD before anything else
reads it." The registry finds every ``schemas/<name>/<version>/*.xsd`` in the
``schemas`` package, compiles each once, and validates an element by the
namespace of its tag. Each file declares one target namespace; no two files
may declare the same one.

``validate_envelope`` follows the two-layer design of the envelope schema,
whose ``env:Body`` holds an ``env:Error`` or one element of another namespace
with ``processContents="skip"``:

(1) the root is ``env:Envelope`` and validates against the envelope schema,
    which also pins ``env:Body`` to exactly one element;
(2) a body element of a message-class namespace validates against that
    namespace's own schema; a namespace without a schema is refused, so no
    body reaches a reader unchecked.

Why ``lxml.etree.XMLSchema`` rather than the ``xmlschema`` package: speed.
Validation runs on every message on the hot path, and libxml2 validates a
message in C in tens to hundreds of microseconds, where a pure-Python
validator takes milliseconds. The XSDs keep to XSD 1.0, which libxml2
implements.

lxml keeps the errors of the last validation on the ``XMLSchema`` object
itself, so two threads validating with one object would read each other's
errors. Each thread therefore compiles its own copy of each schema the first
time it validates with it (a few milliseconds, once), and validations run in
parallel without a lock.

Errors raise ``hub.errors.SchemaInvalid`` whose reason gives, for the first
few errors as libxml2 reports them, the line, the element and the rule
broken. The reason echoes offending values, which may be personal data:
callers send it back to the sender, who wrote them, but never log it.
"""

from __future__ import annotations

import functools
import importlib.resources
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol, cast

from lxml import etree

from hub.errors import InternalError, SchemaInvalid

__all__ = [
    "ENVELOPE_NAMESPACE",
    "MAX_REPORTED_ERRORS",
    "SchemaInfo",
    "SchemaRegistry",
    "default_registry",
]

ENVELOPE_NAMESPACE: Final = "urn:lcpc:irt:envelope:1"
"""SPEC §2: the namespace of ``env:Envelope``."""

MAX_REPORTED_ERRORS: Final = 5
"""Errors named in one ``SchemaInvalid`` reason; the first is the one to fix,
and a handful more helps a developer without letting a bad document grow the
reason (and the signed error envelope carrying it) without bound."""

_MAX_ERROR_CHARS: Final = 400
"""libxml2 quotes the offending value; a 4000-character text must not make a
4000-character reason."""

_ERROR_LEVELS: Final = frozenset({"ERROR", "FATAL"})
_PACKAGE: Final = "schemas"
_XSD_NS: Final = "http://www.w3.org/2001/XMLSchema"
_ENVELOPE: Final = f"{{{ENVELOPE_NAMESPACE}}}Envelope"
_BODY: Final = f"{{{ENVELOPE_NAMESPACE}}}Body"
_ERROR: Final = f"{{{ENVELOPE_NAMESPACE}}}Error"

# The XSDs are our own package data, yet they are parsed as carefully as
# anything else: no entities, no DTD, no network. Imports between schemas use
# relative schemaLocation paths, which libxml2 resolves on disk.
_XSD_PARSER: Final = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
)


@dataclass(frozen=True, slots=True)
class SchemaInfo:
    """What one XSD file declares, as ``irthub schema list`` shows it."""

    namespace: str
    """The schema's ``targetNamespace``, e.g. ``urn:lcpc:irt:knownto:1``."""

    name: str
    """The folder name under ``schemas/``, e.g. ``knownto``."""

    version: str
    """The version folder name, e.g. ``1``."""

    path: Path
    """The XSD file on disk."""

    elements: tuple[str, ...]
    """Local names of the global elements, in file order: the documents and
    message bodies this schema can validate on their own."""

    @property
    def relative_path(self) -> str:
        """The file as ``<name>/<version>/<file>.xsd``."""
        return f"{self.name}/{self.version}/{self.path.name}"


class _LogEntry(Protocol):
    line: int
    message: str
    level_name: str


@dataclass(frozen=True, slots=True)
class _Compiled:
    info: SchemaInfo
    document: etree._ElementTree
    """The parsed XSD, compiled again in each thread that validates with it."""
    _per_thread: threading.local = field(default_factory=threading.local)
    _compiling: threading.Lock = field(default_factory=threading.Lock)

    @property
    def schema(self) -> etree.XMLSchema:
        """This thread's compiled copy of the schema."""
        schema: etree.XMLSchema | None = getattr(self._per_thread, "schema", None)
        if schema is None:
            with self._compiling:  # compiling reads the shared XSD tree
                schema = etree.XMLSchema(self.document)
            self._per_thread.schema = schema
        return schema


class SchemaRegistry:
    """Compiled XSDs by target namespace; validates documents, bodies and envelopes."""

    def __init__(self, compiled: Iterable[_Compiled]) -> None:
        """Use ``load()``; this takes already compiled schemas.

        Raises ``InternalError`` if two schemas declare the same namespace.
        """
        self._by_namespace: dict[str, _Compiled] = {}
        for item in compiled:
            namespace = item.info.namespace
            earlier = self._by_namespace.get(namespace)
            if earlier is not None:
                raise InternalError(
                    f"schemas {earlier.info.relative_path} and {item.info.relative_path} "
                    f"both declare namespace {namespace!r}"
                )
            self._by_namespace[namespace] = item

    @classmethod
    def load(cls, root: Path | None = None) -> SchemaRegistry:
        """Find and compile every ``<name>/<version>/*.xsd`` under ``root``.

        ``root`` defaults to the installed ``schemas`` package. Raises
        ``InternalError`` naming the file when an XSD is not well-formed, has
        no target namespace or does not compile, or when two files declare the
        same namespace: a broken schema set is our fault, never the sender's.
        """
        base = _package_root() if root is None else root
        return cls(_compile(path, base) for path in sorted(base.glob("*/*/*.xsd")))

    def namespaces(self) -> list[SchemaInfo]:
        """Every loaded schema, sorted by namespace."""
        return [self._by_namespace[ns].info for ns in sorted(self._by_namespace)]

    def validate(self, element: etree._Element) -> None:
        """Validate ``element`` (a document root or a detached body) by its namespace.

        An ``env:Envelope`` is validated with its body, as by
        ``validate_envelope``. Raises ``SchemaInvalid`` when no schema has the
        element's namespace or when the element does not validate.
        """
        namespace = _namespace_of(element)
        if element.tag == _ENVELOPE:
            self.validate_envelope(element)
            return
        compiled = self._by_namespace.get(namespace)
        if compiled is None:
            raise SchemaInvalid(f"no schema for namespace {namespace!r}")
        _check(compiled, element)

    def validate_envelope(self, root: etree._Element) -> None:
        """Validate an envelope, then its body element against the body's own schema.

        Raises ``SchemaInvalid`` when the root is not ``env:Envelope``, when
        the envelope does not validate, when the body's namespace has no
        schema, or when the body does not validate. Raises ``InternalError``
        when no envelope schema was loaded.
        """
        # (1) the envelope itself
        if root.tag != _ENVELOPE:
            raise SchemaInvalid(
                f"line {_line(root)}: root element is {root.tag!r}, not {_ENVELOPE!r}"
            )
        envelope = self._by_namespace.get(ENVELOPE_NAMESPACE)
        if envelope is None:
            raise InternalError(f"no schema for the envelope namespace {ENVELOPE_NAMESPACE!r}")
        _check(envelope, root)
        # (2) the body; the envelope schema has pinned it to exactly one element
        body = root.find(_BODY)
        if body is None:
            raise InternalError("envelope schema accepted an envelope without env:Body")
        children = [child for child in body if isinstance(child.tag, str)]
        if len(children) != 1:
            raise SchemaInvalid(
                f"line {_line(body)}: env:Body holds {len(children)} elements, not one"
            )
        if children[0].tag != _ERROR:
            self.validate(children[0])


@functools.cache
def default_registry() -> SchemaRegistry:
    """The registry of the installed ``schemas`` package, loaded on first use.

    Raises ``InternalError`` as ``SchemaRegistry.load`` does.
    """
    return SchemaRegistry.load()


def _package_root() -> Path:
    root = importlib.resources.files(_PACKAGE)
    # Imports between XSDs are relative file paths that libxml2 resolves on
    # disk, so the package must be a real folder (it always is: editable or
    # wheel install), never a zip.
    if not isinstance(root, Path):
        raise InternalError(f"the {_PACKAGE!r} package is not a folder on disk: {root}")
    return root


def _compile(path: Path, base: Path) -> _Compiled:
    name, version = path.relative_to(base).parts[:2]
    try:
        document = etree.parse(str(path), parser=_XSD_PARSER)
    except (OSError, etree.XMLSyntaxError) as exc:
        raise InternalError(f"cannot read schema {path}: {exc}") from exc
    top = document.getroot()
    namespace = top.get("targetNamespace")
    if not namespace:
        raise InternalError(f"schema {path} declares no targetNamespace")
    elements = tuple(str(el.get("name")) for el in top.iterchildren(f"{{{_XSD_NS}}}element"))
    try:
        schema = etree.XMLSchema(document)
    except etree.XMLSchemaParseError as exc:
        raise InternalError(f"schema {path} does not compile: {exc}") from exc
    info = SchemaInfo(namespace=namespace, name=name, version=version, path=path, elements=elements)
    compiled = _Compiled(info=info, document=document)
    compiled._per_thread.schema = schema  # the loading thread's copy
    return compiled


def _line(element: etree._Element) -> int:
    # lxml-stubs type sourceline loosely; it is None for elements built in code.
    line = cast("int | None", element.sourceline)
    return line or 0


def _namespace_of(element: etree._Element) -> str:
    if not isinstance(element.tag, str):
        raise SchemaInvalid("only an element can be validated")
    return etree.QName(element).namespace or ""


def _check(compiled: _Compiled, element: etree._Element) -> None:
    schema = compiled.schema
    if schema.validate(element):
        return
    # lxml-stubs leave the error log untyped; it yields _LogEntry objects.
    log = cast("Iterable[_LogEntry]", schema.error_log)
    errors = [
        f"line {entry.line}: {entry.message.rstrip('.')}"[:_MAX_ERROR_CHARS]
        for entry in log
        if entry.level_name in _ERROR_LEVELS
    ]
    if not errors:
        errors = [f"line {_line(element)}: document does not validate"]
    reported = errors[:MAX_REPORTED_ERRORS]
    if len(errors) > MAX_REPORTED_ERRORS:
        reported.append(f"and {len(errors) - MAX_REPORTED_ERRORS} more")
    raise SchemaInvalid("; ".join(reported))
