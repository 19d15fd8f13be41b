"""Receiving a signed document or envelope: received is not verified.

``EnvelopeVerifier.verify`` is the only way to get a ``VerifiedMessage``;
routing, policy and the log accept nothing else. The steps, each labelled in
the code, follow SPEC §2–§3:

(1)  parse the bytes with the hardened parser (size, DTD, entities, PIs, depth);
(2)  validate the envelope and its body against their XSDs;
(3)  pin the signature's shape: exactly one ``ds:Signature``, the last child
     of the root; one ``ds:Reference`` with ``URI=""``; transforms exactly
     enveloped-signature then exclusive c14n; exclusive c14n for SignedInfo;
     ``ecdsa-sha256`` or ``rsa-sha256``; SHA-256 digest; certificates in
     ``ds:KeyInfo/ds:X509Data`` and nothing else;
(4)  the signer certificate (the first ``X509Certificate``) chains to the
     pinned London root, is not revoked, is a message-signing certificate and
     is valid now (``TrustStore``, cached per certificate);
(5)  the signature verifies (signxml, pinned to that certificate and to the
     location ``./``); from here on only the signed bytes it returns are read;
(6)  the certificate was valid at the signed ``Created`` too;
(7)  the certificate, ``From`` and the TLS client certificate name the same
     authority;
(8)  freshness and replay (``ReplayGuard``).

``DocumentVerifier`` runs steps (1), (3)–(5) for signed documents that are
not envelopes, such as ISPs and catalogues, validating the document by its
namespace in step (2).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import SignXMLException
from signxml.verifier import SignatureConfiguration, XMLVerifier

from hub.clock import Clock, SystemClock
from hub.envelope import DS_NS, Header, body_of, read_header
from hub.errors import CertificateExpired, SenderMismatch, SignatureInvalid
from hub.identifiers import AuthorityCode
from hub.pki.trust import TrustStore, ValidatedChain
from hub.replay.guard import ReplayGuard, Sighting
from hub.schemas import SchemaRegistry, default_registry
from hub.xmlparse import XmlLimits, parse_untrusted

__all__ = [
    "MAX_KEYINFO_CERTIFICATES",
    "DocumentVerifier",
    "EnvelopeVerifier",
    "VerifiedDocument",
    "VerifiedMessage",
]

MAX_KEYINFO_CERTIFICATES: Final = 4
"""Signer plus intermediates. The London PKI issues from the root directly;
four leaves room for an intermediate tier and refuses certificate floods."""

_CACHED_CERTIFICATES: Final = 4096
"""Parsed signer certificates kept by their base64 text: more than the 34
parties times a few rotations, bounded against a flood of distinct ones."""

_D: Final = f"{{{DS_NS}}}"
_EXC_C14N: Final = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0.value
_ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_SIGNATURE_METHODS: Final = {
    SignatureMethod.ECDSA_SHA256.value: "ecdsa-sha256",
    SignatureMethod.RSA_SHA256.value: "rsa-sha256",
}
_INCLUSIVE: Final = f"{{{_EXC_C14N}}}InclusiveNamespaces"
_SHA256: Final = DigestAlgorithm.SHA256.value
_SIGNATURE_SHAPE: Final = (_D + "SignedInfo", _D + "SignatureValue", _D + "KeyInfo")
_SIGNED_INFO_SHAPE: Final = (
    _D + "CanonicalizationMethod",
    _D + "SignatureMethod",
    _D + "Reference",
)
_REFERENCE_SHAPE: Final = (_D + "Transforms", _D + "DigestMethod", _D + "DigestValue")

_EXPECT: Final = SignatureConfiguration(
    require_x509=True,
    location="./",
    expect_references=1,
    signature_methods=frozenset({SignatureMethod.ECDSA_SHA256, SignatureMethod.RSA_SHA256}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
)


@dataclass(frozen=True, slots=True)
class VerifiedDocument:
    """A document whose signature and signer certificate have been verified."""

    root: etree._Element
    """The document as signed (parsed from the verifier's signed bytes)."""
    raw: bytes
    """The exact bytes received: what is stored, logged and forwarded."""
    digest: bytes
    """SHA-256 of ``raw``."""
    chain: ValidatedChain
    """The signer's validated certificate chain."""

    @property
    def signer(self) -> AuthorityCode:
        """The authority the signing certificate names."""
        return self.chain.authority


@dataclass(frozen=True, slots=True)
class VerifiedMessage:
    """An envelope that passed every step of ``EnvelopeVerifier``."""

    header: Header
    body: etree._Element
    document: VerifiedDocument
    sighting: Sighting
    """``FIRST``, or ``RETRY`` when the same bytes arrived before."""

    @property
    def raw(self) -> bytes:
        """The exact bytes received."""
        return self.document.raw


@dataclass(frozen=True)
class DocumentVerifier:
    """Verifies the signature and signer of any signed document (steps 1–5)."""

    trust: TrustStore
    registry: SchemaRegistry = field(default_factory=default_registry)
    clock: Clock = field(default_factory=SystemClock)
    limits: XmlLimits = field(default_factory=XmlLimits)

    def verify(self, raw: bytes) -> VerifiedDocument:
        """Verify ``raw`` as a standalone signed document validated by its namespace.

        Raises the ``IrtError`` of the first step that fails.
        """
        root = parse_untrusted(raw, limits=self.limits)  # (1)
        self.registry.validate(root)  # (2)
        return self._verify_signed(root, raw)

    def _verify_signed(self, root: etree._Element, raw: bytes) -> VerifiedDocument:
        certificates = _pinned_signature_certificates(root)  # (3)
        chain = self.trust.validate_chain(  # (4)
            certificates[0], certificates[1:], at=self.clock.now(), now=self.clock.now()
        )
        signed_root = _verify_signature(root, chain.leaf)  # (5)
        return VerifiedDocument(
            root=signed_root, raw=raw, digest=hashlib.sha256(raw).digest(), chain=chain
        )


@dataclass(frozen=True)
class EnvelopeVerifier(DocumentVerifier):
    """Verifies an envelope end to end (steps 1–8) into a ``VerifiedMessage``."""

    replay: ReplayGuard | None = None
    """Freshness and replay checks; ``None`` only in offline tools, which then
    check freshness themselves or report that they did not."""

    def verify_envelope(
        self, raw: bytes, *, tls_authority: AuthorityCode | None = None
    ) -> VerifiedMessage:
        """Verify ``raw`` as an envelope sent by the holder of ``tls_authority``'s TLS key.

        Raises the ``IrtError`` of the first step that fails.
        """
        root = parse_untrusted(raw, limits=self.limits)  # (1)
        self.registry.validate_envelope(root)  # (2)
        document = self._verify_signed(root, raw)  # (3)-(5)
        header = read_header(document.root)
        # (6) valid at the signed Created as well as now
        chain = document.chain
        if not chain.not_before <= header.created <= chain.not_after:
            raise CertificateExpired(
                f"signer certificate was not valid at Created {header.created.isoformat()} "
                f"(valid {chain.not_before.isoformat()} to {chain.not_after.isoformat()})"
            )
        # (7) one authority throughout
        if header.sender.authority != chain.authority:
            raise SenderMismatch(
                f"message says From {header.sender.authority} but is signed with a "
                f"certificate of {chain.authority}"
            )
        if tls_authority is not None and tls_authority != chain.authority:
            raise SenderMismatch(
                f"TLS client certificate names {tls_authority} but the message is signed "
                f"by {chain.authority}"
            )
        # (8) freshness and replay
        sighting = Sighting.FIRST
        if self.replay is not None:
            sighting = self.replay.check(
                sender=header.sender.authority,
                message_id=header.message_id,
                created=header.created,
                expires=header.expires,
                digest=document.digest,
            )
        return VerifiedMessage(
            header=header, body=body_of(document.root), document=document, sighting=sighting
        )


def _pinned_signature_certificates(root: etree._Element) -> list[x509.Certificate]:
    """Step (3): check the signature's shape; return the KeyInfo certificates."""
    signatures = list(root.iter(_D + "Signature"))
    if not signatures:
        raise SignatureInvalid("document is not signed: it has no ds:Signature element")
    if len(signatures) > 1:
        raise SignatureInvalid(
            f"document carries {len(signatures)} ds:Signature elements; exactly one is allowed"
        )
    signature = signatures[0]
    if signature.getparent() is not root or root[-1] is not signature:
        raise SignatureInvalid("ds:Signature must be the last child of the root element")
    signed_info, _, key_info = _children(signature, _SIGNATURE_SHAPE, "ds:Signature")
    c14n, method, reference = _children(signed_info, _SIGNED_INFO_SHAPE, "ds:SignedInfo")
    if c14n.get("Algorithm") != _EXC_C14N:
        raise SignatureInvalid(
            f"SignedInfo canonicalization is {c14n.get('Algorithm')!r}; "
            f"only exclusive c14n ({_EXC_C14N}) is allowed"
        )
    if method.get("Algorithm") not in _SIGNATURE_METHODS:
        raise SignatureInvalid(
            f"signature method {method.get('Algorithm')!r} is not allowed; "
            "use ecdsa-sha256 or rsa-sha256"
        )
    uri = reference.get("URI")
    if uri != "":
        raise SignatureInvalid(
            f"signature reference does not cover the whole envelope (URI={uri!r}); "
            'it must be URI=""'
        )
    transforms, digest_method, _ = _children(reference, _REFERENCE_SHAPE, "ds:Reference")
    found = [t.get("Algorithm") for t in transforms]
    if found != [_ENVELOPED, _EXC_C14N] or not _only_inclusive_prefixes(transforms):
        raise SignatureInvalid(
            f"reference transforms must be exactly enveloped-signature then exclusive c14n; "
            f"found {found}"
        )
    if digest_method.get("Algorithm") != _SHA256:
        raise SignatureInvalid(
            f"digest method {digest_method.get('Algorithm')!r} is not allowed; use SHA-256"
        )
    return _key_info_certificates(key_info)


def _only_inclusive_prefixes(transforms: etree._Element) -> bool:
    """No transform parameters but exclusive c14n's optional InclusiveNamespaces."""
    enveloped, exclusive = transforms
    return len(enveloped) == 0 and all(child.tag == _INCLUSIVE for child in exclusive)


def _children(parent: etree._Element, shape: tuple[str, ...], name: str) -> list[etree._Element]:
    children = [child for child in parent if isinstance(child.tag, str)]
    if tuple(child.tag for child in children) != shape:
        found = ", ".join(etree.QName(child).localname for child in children) or "nothing"
        expected = ", ".join(etree.QName(tag).localname for tag in shape)
        raise SignatureInvalid(f"{name} must contain exactly {expected}; found {found}")
    return children


def _key_info_certificates(key_info: etree._Element) -> list[x509.Certificate]:
    x509_data = [child for child in key_info if isinstance(child.tag, str)]
    if len(x509_data) != 1 or x509_data[0].tag != _D + "X509Data":
        raise SignatureInvalid("ds:KeyInfo must contain exactly one ds:X509Data")
    entries = [child for child in x509_data[0] if isinstance(child.tag, str)]
    if not entries or any(entry.tag != _D + "X509Certificate" for entry in entries):
        raise SignatureInvalid("ds:X509Data must contain only ds:X509Certificate elements")
    if len(entries) > MAX_KEYINFO_CERTIFICATES:
        raise SignatureInvalid(
            f"ds:X509Data carries {len(entries)} certificates; at most "
            f"{MAX_KEYINFO_CERTIFICATES} are accepted"
        )
    return [_certificate("".join((entry.text or "").split())) for entry in entries]


@lru_cache(maxsize=_CACHED_CERTIFICATES)
def _certificate(base64_der: str) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(_b64decode(base64_der))
        # cryptography parses fields lazily; touch every one we will read so
        # a corrupt certificate is refused here, not deep inside a later step.
        _ = (cert.subject, cert.issuer, cert.extensions, cert.public_key())
        _ = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.serial_number)
    except (ValueError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
        raise SignatureInvalid(f"ds:X509Certificate is not a valid certificate: {exc}") from exc
    return cert


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(str(exc)) from exc


_VERIFIER_ERRORS: Final[tuple[type[BaseException], ...]] = (
    SignXMLException,
    CryptoInvalidSignature,
    UnsupportedAlgorithm,
    x509.InvalidVersion,
    ValueError,
    TypeError,
    KeyError,
    etree.LxmlError,
)
"""What signxml may raise on hostile input; all of it means signature-invalid."""


class _HardenedTreeVerifier(XMLVerifier):
    """signxml's verifier, handed the tree that step (1) already parsed.

    signxml serialises and re-parses any element it is given, to cut it loose
    from a parent's namespaces. Our root has no parent, and signxml copies the
    tree itself before it changes anything, so the hardened tree is used as it
    is: one parse per message instead of two.
    """

    def get_root(self, data: etree._Element) -> etree._Element:
        return data


def _verify_signature(root: etree._Element, certificate: x509.Certificate) -> etree._Element:
    """Step (5): verify with signxml pinned to ``certificate``; return the signed tree."""
    try:
        # Our step (3) pins the Signature's exact shape, which is stricter than
        # the XML-DSig schema, so signxml's own schema pass is skipped.
        # signxml keeps per-call state on its verifier, so each call gets one.
        result = _HardenedTreeVerifier().verify(
            root, x509_cert=certificate, expect_config=_EXPECT, validate_schema=False
        )
    except _VERIFIER_ERRORS as exc:
        raise SignatureInvalid(_explain(exc)) from exc
    if isinstance(result, list) or result.signed_xml is None:  # pragma: no cover - one reference
        raise SignatureInvalid("the signature did not yield exactly one signed document")
    signed: etree._Element = result.signed_xml
    return signed


def _explain(exc: BaseException) -> str:
    text = str(exc)
    if "digest" in text.lower():
        return "the signed content was changed after signing (reference digest does not match)"
    if "signature" in text.lower() and "verif" in text.lower():
        return "the signature value does not verify with the signer certificate"
    return f"the signature could not be verified: {text or type(exc).__name__}"
