"""Reading ``certs/profiles/*.toml``: the packaged profiles, and broken files refused by name."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from hub.pki.errors import ProfileInvalid
from hub.pki.profile_loader import PROFILE_FILES, default_profiles, load_profiles
from hub.pki.profile_model import ProfileSet
from tests.hub.pki.conftest import PROFILES

EditProfiles = Callable[..., ProfileSet]


def test_the_packaged_profiles_are_the_checkout_s() -> None:
    profiles = default_profiles()
    assert [Path(p.source) for p in profiles.all()] == [
        PROFILES / "root-ca.toml",
        PROFILES / "signing.toml",
        PROFILES / "tls.toml",
    ]
    assert [p.kind for p in profiles.all()] == ["root", "signing", "tls"]
    assert default_profiles() is profiles  # read once


def test_the_root_profile() -> None:
    root = default_profiles().root
    assert root.subject_name({}).rfc4514_string() == (
        "CN=London IRT Root CA,O=London Councils IRT Interchange,C=GB"
    )
    assert (root.basic_constraints.ca, root.basic_constraints.path_length) == (True, 1)
    assert root.key_usage.issued == ("keyCertSign", "cRLSign")
    assert root.key_usage.required == ("keyCertSign",)
    assert root.extended_key_usage is None
    assert root.subject_alt_name is None
    assert root.validity.period == timedelta(days=7305)
    assert root.validity.backdate == timedelta(minutes=5)


def test_the_party_profiles() -> None:
    profiles = default_profiles()
    assert profiles.signing.extended_key_usage is not None
    assert profiles.signing.extended_key_usage.usages == ("documentSigning",)
    assert profiles.signing.extended_key_usage.oids()[0].dotted_string == "1.3.6.1.5.5.7.3.36"
    assert profiles.tls.extended_key_usage is not None
    assert profiles.tls.extended_key_usage.usages == ("serverAuth", "clientAuth")
    assert profiles.foreign_usages("signing") == ("serverAuth", "clientAuth")
    assert profiles.foreign_usages("tls") == ("documentSigning",)
    for profile in (profiles.signing, profiles.tls):
        assert profile.crl_distribution_points == ("https://hub.london-irt.example/v1/pki/crl",)
        assert not profile.basic_constraints.ca
        assert profile.key_usage.required == ("digitalSignature",)
        assert profile.validity.period == timedelta(days=730)
        assert profile.key.accepted_curves == ("P-256", "P-384")
        assert (profile.key.curve, profile.key.rsa_bits, profile.key.min_rsa_bits) == (
            "P-256", 3072, 2048,
        )  # fmt: skip
    assert profiles.tls.key_usage.issued_with_ec_key == ("keyAgreement",)


# Each case: (file, text in the packaged file, replacement, expected message).
BROKEN = {
    "unknown-key-usage": (
        "signing.toml", '"digitalSignature", "contentCommitment"',
        '"digitalSignatur", "contentCommitment"',
        r"signing\.toml: key_usage\.issued\[0\]: 'digitalSignatur' is not a key usage; "
        r"one of digitalSignature, ",
    ),
    "unknown-eku": (
        "tls.toml", 'usages = ["serverAuth"', 'usages = ["serverAuthh"',
        r"tls\.toml: extended_key_usage\.usages\[0\]: 'serverAuthh' is not an extended key usage",
    ),
    "eku-twice": (
        "tls.toml", '["serverAuth", "clientAuth"]', '["serverAuth", "serverAuth"]',
        r"tls\.toml: extended_key_usage\.usages\[1\]: serverAuth is listed twice",
    ),
    "no-eku": (
        "signing.toml", 'usages = ["documentSigning"]', "usages = []",
        r"signing\.toml: extended_key_usage\.usages: is empty; receivers tell signing and TLS",
    ),
    "string-not-integer": (
        "root-ca.toml", "path_length = 1", 'path_length = "1"',
        r"root-ca\.toml: basic_constraints\.path_length: must be an integer, not '1'",
    ),
    "bool-not-integer": (
        "signing.toml", "days = 730", "days = true",
        r"signing\.toml: validity\.days: must be an integer, not True",
    ),
    "misspelt-key": (
        "tls.toml", "days = 730", "dayz = 730",
        r"tls\.toml: validity\.dayz: unknown key; this table takes days, backdate_minutes",
    ),
    "missing-key": (
        "signing.toml", 'required = ["digitalSignature"]', "",
        r"signing\.toml: key_usage\.required: missing; a list of strings is required",
    ),
    "missing-table": (
        "tls.toml", "[key_identifiers]\nsubject = true\nauthority = true\n", "",
        r"tls\.toml: key_identifiers: missing; a table is required",
    ),
    "weak-rsa": (
        "root-ca.toml", "min_rsa_bits = 2048", "min_rsa_bits = 1024",
        r"root-ca\.toml: key\.min_rsa_bits: must be at least 2048, not 1024",
    ),
    "rsa-below-minimum": (
        "tls.toml", "rsa_bits = 3072", "rsa_bits = 2047",
        r"tls\.toml: key\.rsa_bits: must be at least 2048, not 2047",
    ),
    "curve-not-accepted": (
        "signing.toml", 'curve = "P-256"', 'curve = "P-521"',
        r"signing\.toml: key\.curve: 'P-521' is not one of accepted_curves \(P-256, P-384\)",
    ),
    "curve-outside-spec": (
        "tls.toml", 'accepted_curves = ["P-256", "P-384"]', 'accepted_curves = ["P-256", "P-521"]',
        r"tls\.toml: key\.accepted_curves\[1\]: 'P-521' is not a curve SPEC §3 allows",
    ),
    "party-ca": (
        "signing.toml", "ca = false", "ca = true",
        r"signing\.toml: basic_constraints\.ca: must be false: a party certificate is never a CA",
    ),
    "party-path-length": (
        "tls.toml", "ca = false", "ca = false\npath_length = 0",
        r"tls\.toml: basic_constraints\.path_length: only a CA has a pathLenConstraint",
    ),
    "root-not-ca": (
        "root-ca.toml", "ca = true", "ca = false",
        r"root-ca\.toml: basic_constraints\.ca: must be true: the root is a CA",
    ),
    "root-without-cert-sign": (
        "root-ca.toml", 'required = ["keyCertSign"]', "required = []",
        r"root-ca\.toml: key_usage\.required: receivers require keyCertSign of every issuer",
    ),
    "root-without-crl-sign": (
        "root-ca.toml", 'issued = ["keyCertSign", "cRLSign"]', 'issued = ["keyCertSign"]',
        r"root-ca\.toml: key_usage\.issued: the root signs certificates and CRLs",
    ),
    "party-cert-sign": (
        "signing.toml", '"digitalSignature", "contentCommitment"', '"digitalSignature", "cRLSign"',
        r"signing\.toml: key_usage\.issued: a party certificate signs neither certificates nor",
    ),
    "required-not-issued": (
        "tls.toml", 'required = ["digitalSignature"]',
        'required = ["digitalSignature", "keyAgreement"]',
        r"tls\.toml: key_usage\.required\[1\]: keyAgreement is required but not issued",
    ),
    "ou-not-code": (
        "signing.toml", '["OU", "{code}"]', '["OU", "{name}"]',
        r'signing\.toml: subject: a party certificate names its authority by exactly one '
        r'\["OU", "\{code\}"\]',
    ),
    "uri-not-authority": (
        "tls.toml", 'uri = ["urn:lcpc:authority:{code}"]', 'uri = ["urn:example:{code}"]',
        r"tls\.toml: subject_alt_name\.uri: a party certificate names its authority by exactly "
        r"one 'urn:lcpc:authority:\{code\}'",
    ),
    "unknown-field": (
        "signing.toml", '"{code} IRT message signing"', '"{borough} IRT message signing"',
        r"signing\.toml: subject\[3\]: \{borough\} is not a field here; the signing profile has "
        r"\{code\}, \{host\}, \{name\}",
    ),
    "field-in-root": (
        "root-ca.toml", '"London IRT Root CA"', '"{code} Root CA"',
        r"root-ca\.toml: subject\[2\]: \{code\} is not a field here; the root profile has none",
    ),
    "unknown-attribute": (
        "tls.toml", '["C", "GB"]', '["Country", "GB"]',
        r"tls\.toml: subject\[0\]: 'Country' is not an attribute; one of C, ST, L, O, OU, CN",
    ),
    "bad-country": (
        "root-ca.toml", '["C", "GB"]', '["C", "GBR"]',
        r"root-ca\.toml: subject: cannot be a certificate subject: .*must be >= 2 and <= 2",
    ),
    "root-with-eku": (
        "root-ca.toml", "[key_identifiers]", '[extended_key_usage]\ncritical = false\n'
        'usages = ["serverAuth"]\n\n[key_identifiers]',
        r"root-ca\.toml: extended_key_usage: the root CA carries none",
    ),
    "bad-dns": (
        "tls.toml", 'dns = ["localhost"', 'dns = ["local host"',
        r"tls\.toml: subject_alt_name\.dns\[0\]: 'local host' is not a DNS name",
    ),
    "bad-ip": (
        "tls.toml", '"127.0.0.1"', '"127.0.0.300"',
        r"tls\.toml: subject_alt_name\.ip\[0\]: '127\.0\.0\.300' is not an IP address",
    ),
    "backdate-too-long": (
        "signing.toml", "backdate_minutes = 5", "backdate_minutes = 1051200",
        r"signing\.toml: validity\.backdate_minutes: must be shorter than the validity",
    ),
    "shared-eku": (
        "signing.toml", 'usages = ["documentSigning"]',
        'usages = ["documentSigning", "clientAuth"]',
        r"tls\.toml: extended_key_usage\.usages: clientAuth is also a usage of \S*signing\.toml; "
        r"signing and TLS certificates must share none",
    ),
    "not-toml": (
        "signing.toml", "[key]", "[key", r"signing\.toml: not valid TOML: ",
    ),
    "crl-dp-over-http": (
        "signing.toml", '"https://hub.london-irt.example/v1/pki/crl"',
        '"http://hub.london-irt.example/v1/pki/crl"',
        r"signing\.toml: crl_distribution_points\.uri\[0\]: 'http://hub\.london-irt\.example/"
        r"v1/pki/crl' is not an https URL of the hub's /v1/pki/crl",
    ),
    "crl-dp-elsewhere": (
        "tls.toml", '"https://hub.london-irt.example/v1/pki/crl"',
        '"https://hub.london-irt.example/crl.pem"',
        r"tls\.toml: crl_distribution_points\.uri\[0\]: .* is not an https URL of the hub's",
    ),
    "root-with-crl-dp": (
        "root-ca.toml", "[key_identifiers]", '[crl_distribution_points]\n'
        'uri = ["https://hub.london-irt.example/v1/pki/crl"]\n\n[key_identifiers]',
        r"root-ca\.toml: crl_distribution_points: the root CA is not covered by its own CRL",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("file", "old", "new", "message"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_profile_is_refused_naming_file_and_key(
    edited_profiles: EditProfiles, file: str, old: str, new: str, message: str
) -> None:
    with pytest.raises(ProfileInvalid, match=message):
        edited_profiles((file, old, new))


def test_the_refusal_names_the_whole_path(edited_profiles: EditProfiles, tmp_path: Path) -> None:
    with pytest.raises(ProfileInvalid) as caught:
        edited_profiles(("tls.toml", "days = 730", "days = 0"))
    path = tmp_path / "profiles" / "tls.toml"
    assert caught.value.reason == f"{path}: validity.days: must be at least 1, not 0"


def test_the_packaged_profiles_are_unchanged_by_an_edited_copy(
    edited_profiles: EditProfiles,
) -> None:
    edited = edited_profiles(("tls.toml", "days = 730", "days = 30"))
    assert edited.tls.validity.period == timedelta(days=30)
    assert default_profiles().tls.validity.period == timedelta(days=730)


def test_a_missing_profile_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    for kind in ("root", "signing"):
        (folder / PROFILE_FILES[kind]).write_bytes((PROFILES / PROFILE_FILES[kind]).read_bytes())
    with pytest.raises(
        ProfileInvalid, match=rf"{re.escape(str(folder))}/tls\.toml: the tls certificate profile"
    ):
        load_profiles(folder)


def test_a_stray_toml_file_is_refused(edited_profiles: EditProfiles, tmp_path: Path) -> None:
    # A hub.toml beside the profiles would look like a hub profile and do nothing.
    (tmp_path / "profiles" / "hub.toml").write_text("", encoding="utf-8")
    with pytest.raises(
        ProfileInvalid,
        match=r"hub\.toml: not a certificate profile; the profiles are root-ca\.toml, "
        r"signing\.toml, tls\.toml",
    ):
        edited_profiles()
