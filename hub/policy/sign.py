"""Signing ISP documents: ``irthub policy sign`` and ``sign-all``.

The committed ``protocols/E090000NN.xml`` are the unsigned texts the LCPC IT
forum agreed; each authority signs its own with its message-signing key
(SPEC §3 profile, enveloped signature as the last child of the root), and
the hub loads only the signed files (``hub.policy.signed``). ``sign_isp``
refuses, before signing anything:

(1) a document that the model does not accept (schema, closed lists, rules),
    with the reason naming the line and rule (``SchemaInvalid``);
(2) a document that already carries a signature (``SchemaInvalid``);
(3) a key whose certificate names another authority than the document's
    ``Authority`` (``SenderMismatch``).

Comments are not covered by an XML signature (exclusive c14n drops them), so
they are not carried into the signed file; ``Description`` elements are the
place for text a reader must be able to trust.

``sign_folder`` signs every document of a folder with each authority's key
from a development PKI folder, for the demo and for integrators; real
authorities keep their keys to themselves and sign one document each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import protocols
from hub.directory import Directory
from hub.errors import IrtError, SchemaInvalid, SenderMismatch
from hub.files import UMASK_MODE, write_file
from hub.pki.layout import PkiLayout
from hub.pki.profile import authority_of
from hub.policy.engine import protocol_files
from hub.policy.model import MAX_ISP_BYTES, IspDocument, build_isp, parse_isp
from hub.signing import Signer
from hub.xmlparse import XmlLimits, parse_untrusted

__all__ = ["SHIPPED_PROTOCOLS", "SignedIsp", "sign_folder", "sign_isp"]

SHIPPED_PROTOCOLS: Final = Path(protocols.__file__).resolve().parent
"""The committed, unsigned agreed texts (``protocols/``)."""
_DS_SIGNATURE: Final = "{http://www.w3.org/2000/09/xmldsig#}Signature"


@dataclass(frozen=True, slots=True)
class SignedIsp:
    """A signed document and what it says."""

    data: bytes
    """The exact signed bytes, to be written as they are."""
    document: IspDocument
    """The document read back from ``data``; its digest is the version identity."""


def sign_isp(data: bytes, *, signer: Signer, source: str, directory: Directory) -> SignedIsp:
    """Check the unsigned ISP ``data`` and sign it with ``signer``.

    Raises ``SchemaInvalid`` (or a parser error) naming ``source``, the line
    and the rule, or ``SenderMismatch`` when the signer's certificate is not
    the document's authority's.
    """
    # (1) the model accepts it: the hub would refuse it otherwise
    try:
        root = parse_untrusted(data, limits=XmlLimits(max_bytes=MAX_ISP_BYTES))
    except IrtError as exc:
        raise type(exc)(f"{source}: {exc.reason}") from exc
    doc = build_isp(
        root, source=source, directory=directory, digest=hashlib.sha256(data).hexdigest()
    )
    # (2) one signature only, made here
    if root.find(_DS_SIGNATURE) is not None:
        raise SchemaInvalid(f"{source}: the document is already signed; sign the unsigned text")
    # (3) each authority signs its own document
    signer_authority = authority_of(signer.certificate)
    if signer_authority != doc.authority:
        raise SenderMismatch(
            f"{source}: the ISP is for {doc.authority} but the key's certificate is "
            f"{signer_authority}'s; each authority signs its own ISP"
        )
    signed = signer.sign(root)
    return SignedIsp(signed, parse_isp(signed, source=source, directory=directory))


def sign_folder(
    source: Path, out: Path, *, pki: PkiLayout, directory: Directory
) -> Iterator[tuple[Path, SignedIsp]]:
    """Sign each ``E09*.xml`` of ``source`` with its authority's key in ``pki`` into ``out``.

    Yields each written file with what was signed. Raises on the first
    document that cannot be read or signed, or whose file is named for
    another authority (``SchemaInvalid``, ``SenderMismatch``,
    ``InternalError`` for a missing key), naming it; files already written stay.
    """
    files = protocol_files(source)
    out.mkdir(parents=True, exist_ok=True)
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SchemaInvalid(f"{path}: cannot read: {exc.strerror}") from exc
        authority = parse_isp(data, source=str(path), directory=directory).authority
        if path.stem != authority:
            raise SchemaInvalid(f"{path}: file is named for {path.stem} but the ISP is {authority}")
        signer = Signer.from_files(pki.signing_key(authority), pki.signing_cert(authority))
        signed = sign_isp(data, signer=signer, source=str(path), directory=directory)
        target = out / path.name
        # A reader (a hub starting) never sees half a document.
        write_file(target, signed.data, mode=UMASK_MODE, overwrite=True)
        yield target, signed
