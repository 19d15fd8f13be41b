"""Reading ISP documents for the engine: signed for the hub, unsigned only for tools.

A ``PolicyEngine`` reads every document through an ``IspReader``. The hub
uses ``SignedIspReader``, which accepts a document only when the authority it
is for signed it. ``SignedIspReader.read`` runs, in order:

(1) size: at most ``MAX_ISP_BYTES`` (``TooLarge``), before any parsing;
(2) the SPEC §3 signature profile through ``DocumentVerifier``: hardened
    parse, schema by namespace, the pinned signature shape, a signer
    certificate that chains to the London root, is a signing certificate, is
    valid now and is not on the current CRL, and a signature that verifies;
(3) the document is an ISP and the certificate names the authority in its
    ``Authority``
    (``SenderMismatch``): one borough can never put a protocol in force for
    another, and the hub's own key signs no protocol;
(4) the model checks of ``hub.policy.model`` (schema, closed lists, rules)
    on the tree the verifier returned as signed, never on a second reading
    of the received bytes; each element keeps its line in the file, so a
    report names the line the author sees;
(5) the version identity: SHA-256 of the exact signed bytes.

Every failure raises the ``IrtError`` of its step, whose reason starts with
the source (the file name) and, for step (4), names the line and the rule.

Why the identity is the digest of the exact signed bytes rather than of the
unsigned text in a canonical form: the signed file is the artefact the hub
holds, publishes and records in every decision, so an auditor checks it with
``sha256sum`` and no canonicaliser, as the message log does for messages
(SPEC §8); and the digest names who signed as well as what, so the same
text signed again (another key, another ECDSA nonce) is a distinct,
attributable act. Because a new version must carry a greater number, a
re-signed copy of the version in force is refused: at a hub one version
number stands for one digest. ``irthub policy sign`` prints the digest of
what it wrote, and ``irthub policy validate`` prints the same digest for the
signed file.

``UnsafeUnsignedIspReader`` reads documents without any signature check, for
the ``irthub policy`` tools that work on the agreed texts (``validate``,
``explain``, ``test``, ``diff``, ``matrix``, ``shadow``). The hub never uses it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Final, Protocol, cast

from lxml import etree

from hub.directory import Directory
from hub.errors import IrtError, SchemaInvalid, SenderMismatch, TooLarge
from hub.policy.model import ISP_NS, MAX_ISP_BYTES, IspDocument, build_isp, parse_isp
from hub.verify import DocumentVerifier, VerifiedDocument
from hub.xmlparse import XmlLimits, parse_untrusted

__all__ = ["IspReader", "SignedIspReader", "UnsafeUnsignedIspReader"]

_ROOT: Final = f"{{{ISP_NS}}}InformationSharingProtocol"
_AUTHORITY: Final = f"{{{ISP_NS}}}Authority"


class IspReader(Protocol):
    """Turns the bytes of one file into a checked ``IspDocument``."""

    def read(self, data: bytes, *, source: str, directory: Directory) -> IspDocument:
        """The document ``data`` holds; raise an ``IrtError`` naming ``source`` if refused."""
        ...


@dataclass(frozen=True, slots=True)
class SignedIspReader:
    """Accepts only documents signed by their own authority (see the module docstring)."""

    verifier: DocumentVerifier
    """Pins the London root, the CRL and the clock that judges certificate validity."""

    def read(self, data: bytes, *, source: str, directory: Directory) -> IspDocument:
        """Verify ``data`` and build the document from its signed content.

        Raises ``TooLarge``, the parser's errors, ``SchemaInvalid``, any
        ``TrustFailure`` of the signature and certificate checks, or
        ``SenderMismatch`` when the signer is not the document's authority;
        ``SchemaInvalid`` also for a signed document that is not an ISP.
        """
        # (1) size, before the parser sees the bytes
        if len(data) > MAX_ISP_BYTES:
            raise TooLarge(
                f"{source}: {len(data)} bytes; an ISP document is at most {MAX_ISP_BYTES}"
            )
        # (2) signature and certificate (SPEC §3)
        verified = _verify(self.verifier, data, source=source, directory=directory)
        # (3) an ISP, signed by the authority it is for
        if verified.root.tag != _ROOT:
            raise SchemaInvalid(
                f"{source}: the signed document is {verified.root.tag}, "
                f"not an InformationSharingProtocol in {ISP_NS}"
            )
        authority = (verified.root.findtext(_AUTHORITY) or "").strip()
        if authority != verified.signer:
            raise SenderMismatch(
                f"{source}: the ISP is for {authority or 'no authority'} but is signed with "
                f"a certificate of {verified.signer}; each authority signs its own ISP"
            )
        # (4) the model, on the signed tree, and (5) the identity of this version
        return build_isp(
            _with_file_lines(verified),
            source=source,
            directory=directory,
            digest=verified.digest.hex(),
        )


@dataclass(frozen=True, slots=True)
class UnsafeUnsignedIspReader:
    """Reads any schema-valid document, signed or not, and checks no signature.

    Whoever can write the file decides what it says. For tools that work on
    the agreed texts; a hub that used it would enforce unsigned policy.
    """

    def read(self, data: bytes, *, source: str, directory: Directory) -> IspDocument:
        """``parse_isp`` alone; raises what it raises."""
        return parse_isp(data, source=source, directory=directory)


def _verify(
    verifier: DocumentVerifier, data: bytes, *, source: str, directory: Directory
) -> VerifiedDocument:
    """Step (2), with every reason prefixed by ``source``."""
    try:
        return verifier.verify(data)
    except SchemaInvalid as exc:
        # The verifier validates before it looks at the signature, and its
        # report names the line only: the model names the rule as well.
        parse_isp(data, source=source, directory=directory)
        raise SchemaInvalid(f"{source}: {exc.reason}") from exc
    except IrtError as exc:
        raise type(exc)(f"{source}: {exc.reason}") from exc


def _with_file_lines(verified: VerifiedDocument) -> etree._Element:
    """A copy of the signed tree whose elements carry their line numbers in the file.

    The verifier's tree is parsed from the canonical form, which starts at
    the root element; the received file may have an XML declaration and
    comments before it. The received bytes are parsed again only to learn
    the line of the root element.
    """
    first = _line(parse_untrusted(verified.raw, limits=XmlLimits(max_bytes=MAX_ISP_BYTES)))
    root = copy.deepcopy(verified.root)
    offset = first - _line(root)
    if offset:
        for element in root.iter():
            line = _line(element)
            if line:
                cast(Any, element).sourceline = line + offset
    return root


def _line(element: etree._Element) -> int:
    # lxml-stubs declare sourceline untyped; it is an int or None.
    line: int | None = cast(Any, element).sourceline
    return line or 0
