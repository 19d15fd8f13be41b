"""Sign and verify cost per 4 KB envelope, beside bare signxml in the same run.

Prints JSON. "ours" is ``Signer.sign`` and the full ``EnvelopeVerifier``
(hardened parse, envelope and body XSD, pinned signature shape, chain and CRL
check, signxml verification, sender and freshness checks, replay check on the
SQLite seen store). "bare" is signxml alone on the same document: ``XMLSigner``
and ``XMLVerifier.verify(x509_cert=...)`` with a pinned certificate.
Goal (issue 2): our verify ≤ 1.15 × bare verify.

    python -m bench.signing [--runs N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner
from signxml.verifier import XMLVerifier

from bench._timing import median_us
from hub.clock import SystemClock
from hub.envelope import Header, Party, Practitioner, Recipient, build_envelope
from hub.identifiers import AuthorityCode
from hub.pki.issuing import init_pki
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.replay.guard import ReplayGuard
from hub.storage.sqlite.seen import SqliteSeenStore
from hub.verify import EnvelopeVerifier
from tests.support.parties import LAMBETH, party_signer
from tests.support.paths import REPO

REFERRAL = REPO / "examples" / "referral.xml"
TARGET_BYTES = 4096


def _four_kilobyte_envelope() -> etree._Element:
    body = etree.parse(str(REFERRAL)).getroot()
    ns = "{urn:lcpc:irt:referral:1}"
    chronology = body.find(ns + "Chronology")
    assert chronology is not None
    template = chronology[0]
    envelope = _wrap(body)
    while len(etree.tostring(envelope)) < TARGET_BYTES - 1200:  # the signature adds ~1.2 KB
        chronology.append(etree.fromstring(etree.tostring(template)))
        envelope = _wrap(body)
    return envelope


def _wrap(body: etree._Element) -> etree._Element:
    return build_envelope(
        Header(
            message_class="Referral",
            qualifier="request",
            sender=Party(LAMBETH, "lambeth-irt"),
            recipients=(Recipient(authority=AuthorityCode("E09000028")),),
            created=datetime.now(UTC),
            expires=datetime.now(UTC) + timedelta(hours=1),
            on_behalf_of=Practitioner("sw-4471", "Social worker", "social-care"),
            purpose="child-protection-s47",
            consent="given",
        ),
        body,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400, help="timed runs per measurement")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        layout = PkiLayout(Path(folder) / "pki")
        init_pki(layout, now=datetime.now(UTC) - timedelta(days=1))
        signer = party_signer(layout, LAMBETH)
        template = _four_kilobyte_envelope()
        bare_signer = XMLSigner(
            signature_algorithm=SignatureMethod.ECDSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )

        # Distinct messages, so every verification takes the replay store's
        # first-sighting path (an insert), as real traffic does.
        messages = []
        for _ in range(runs + 20):
            envelope = _wrap(template[1][0])
            messages.append(signer.sign(envelope))
        size = len(messages[0])

        ours_sign = median_us(lambda: signer.sign(template), runs)
        bare_sign = median_us(
            lambda: bare_signer.sign(template, key=signer.key, cert=list(signer.chain)), runs
        )

        seen = SqliteSeenStore(Path(folder) / "seen.sqlite")
        verifier = EnvelopeVerifier(
            trust=TrustStore.from_files(layout.root_cert, layout.crl),
            replay=ReplayGuard(store=seen, clock=SystemClock()),
        )
        for warm in messages[:20]:
            verifier.verify_envelope(warm)
        pending = iter(messages[20:])
        ours_verify = median_us(lambda: verifier.verify_envelope(next(pending)), runs)
        # The same distinct messages again, so both sides meet cold documents.
        certificate = signer.certificate
        again = iter(messages[20:])
        bare_verify = median_us(
            lambda: XMLVerifier().verify(next(again), x509_cert=certificate), runs
        )
        seen.close()

    print(
        json.dumps(
            {
                "envelope_bytes": size,
                "runs": runs,
                "sign_us": {"ours": round(ours_sign, 1), "bare_signxml": round(bare_sign, 1),
                            "ratio": round(ours_sign / bare_sign, 3)},
                "verify_us": {"ours": round(ours_verify, 1), "bare_signxml": round(bare_verify, 1),
                              "ratio": round(ours_verify / bare_verify, 3)},
                "goal": "verify ratio <= 1.15",
            },
            indent=2,
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
