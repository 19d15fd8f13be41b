"""`irthub schema`: List the interchange's XSDs and validate documents against them."""

from __future__ import annotations

from pathlib import Path

import click
from lxml import etree

from hub.schemas import ENVELOPE_NAMESPACE, SchemaInfo, default_registry
from hub.xmlparse import parse_untrusted

__all__ = ["group"]

_ENVELOPE = f"{{{ENVELOPE_NAMESPACE}}}Envelope"
_HEADINGS = ("NAMESPACE", "VERSION", "FILE", "GLOBAL ELEMENTS")


@click.group(name="schema")
def group() -> None:
    """List the interchange's XSDs and validate documents against them.

    Schemas live in the `schemas` package as `<name>/<version>/<file>.xsd`,
    one target namespace per file; a document is validated by the namespace
    of its root element.
    """


@group.command(name="list")
def list_schemas() -> None:
    """Show every schema: namespace, version, file and global elements.

    The global elements are the documents and message bodies that the schema
    validates on its own (a body's Class in the envelope names one of them).
    """
    rows = [_row(info) for info in default_registry().namespaces()]
    widths = [max(len(row[i]) for row in (_HEADINGS, *rows)) for i in range(len(_HEADINGS) - 1)]
    for row in (_HEADINGS, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


@group.command(name="validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
def validate(file: Path) -> None:
    """Validate FILE, an envelope or a document, against its XSD.

    FILE is parsed with the same hardened parser as messages on the wire (no
    DTD, entity or processing instruction; 1 MiB at most). An envelope
    (root env:Envelope) is validated, then its body against the body's own
    schema; any other document is validated by its root's namespace. The
    signature is not checked: `irthub message verify` does that.

    \b
    On success prints `OK <namespace> <root element>`, exit status 0.
    On failure prints the SPEC error code and reason, exit status 1:
      error: schema-invalid: line N: Element '...': <the rule broken>
    """
    root = parse_untrusted(file.read_bytes())
    registry = default_registry()
    if root.tag == _ENVELOPE:
        registry.validate_envelope(root)
        # validate_envelope has pinned env:Body to exactly one element
        content = root.find("env:Body/*", namespaces={"env": ENVELOPE_NAMESPACE})
        body = "" if content is None else f" (body {_name(content)})"
        click.echo(f"OK {_name(root)}{body}")
        return
    registry.validate(root)
    click.echo(f"OK {_name(root)}")


def _row(info: SchemaInfo) -> tuple[str, str, str, str]:
    return (info.namespace, info.version, info.relative_path, " ".join(info.elements) or "-")


def _name(element: etree._Element) -> str:
    qname = etree.QName(element)
    return f"{qname.namespace} {qname.localname}"
