"""``irthub policy sign``, ``sign-all`` and ``verify``: signed ISPs, as the hub loads them.

Registered on the ``irthub policy`` group by ``irthub.cli.policy``. ``sign``
is what an authority runs on its own agreed text with its own key;
``sign-all`` signs every shipped text with a development PKI (demo,
integrators); ``verify`` loads a folder of signed documents exactly as the
hub does at start and reports each file.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Final

import click

from hub.directory import DEFAULT_DIRECTORY_PATH, load_directory
from hub.files import UMASK_MODE, write_file
from hub.identifiers import AuthorityCode
from hub.pki.layout import PkiLayout
from hub.pki.trust import TrustStore
from hub.policy.engine import PolicyEngine
from hub.policy.sign import SHIPPED_PROTOCOLS, sign_folder, sign_isp
from hub.policy.signed import SignedIspReader
from hub.signing import Signer
from hub.verify import DocumentVerifier

__all__ = ["COMMANDS"]

_FILE: Final = click.Path(exists=True, dir_okay=False, path_type=Path)
_FOLDER: Final = click.Path(exists=True, file_okay=False, path_type=Path)
_directory_option = click.option(
    "--directory",
    "directory_file",
    type=_FILE,
    default=DEFAULT_DIRECTORY_PATH,
    show_default="hub/directory/london.toml",
    help="London directory (neighbours and groups).",
)


@click.command(name="sign")
@click.argument("file", type=_FILE)
@click.option("--key", required=True, type=_FILE, help="The authority's signing key (PEM).")
@click.option("--cert", required=True, type=_FILE, help="Its signing certificate (PEM).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the signed document here; default standard output.",
)
@_directory_option
def sign_command(file: Path, key: Path, cert: Path, out: Path | None, directory_file: Path) -> None:
    """Sign the ISP document FILE with the authority's own key.

    Refuses a document that does not validate (naming line and rule), one
    that is already signed, and one whose Authority is not the authority
    the certificate names. Prints the SHA-256 of the signed bytes, the
    identity of this version at the hub, on standard error.
    """
    signer = Signer.from_files(key, cert)
    signed = sign_isp(
        file.read_bytes(), signer=signer, source=str(file), directory=load_directory(directory_file)
    )
    if out is None:
        sys.stdout.buffer.write(signed.data)
        sys.stdout.buffer.flush()
    else:
        write_file(out, signed.data, mode=UMASK_MODE, overwrite=True)
    doc = signed.document
    click.echo(
        f"signed: {out or 'stdout'}: {doc.id} version {doc.version} for {doc.authority}, "
        f"sha256 {doc.digest}",
        err=True,
    )


@click.command(name="sign-all")
@click.option("--pki", "pki_dir", required=True, type=_FOLDER, help="Development PKI folder.")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the signed documents (created if missing).",
)
@click.option(
    "--protocols",
    "source",
    type=_FOLDER,
    default=SHIPPED_PROTOCOLS,
    show_default="the shipped protocols/",
    help="Folder of unsigned E090000NN.xml texts.",
)
@_directory_option
def sign_all_command(pki_dir: Path, out: Path, source: Path, directory_file: Path) -> None:
    """Sign every E090000NN.xml, each with its own authority's key from a development PKI.

    For the demo and for integrators: real authorities never share keys and
    each signs its own document with `irthub policy sign`. The fixtures
    beside the texts are copied too, so `irthub policy test OUT` tests the
    signed documents themselves.
    """
    if out.resolve() == source.resolve():
        raise click.BadParameter("would overwrite the unsigned texts", param_hint="--out")
    count = 0
    for target, signed in sign_folder(
        source, out, pki=PkiLayout(pki_dir), directory=load_directory(directory_file)
    ):
        doc = signed.document
        click.echo(f"signed: {target}: {doc.id} version {doc.version}, sha256 {doc.digest}")
        count += 1
    fixtures = source / "fixtures"
    if fixtures.is_dir():
        (out / "fixtures").mkdir(exist_ok=True)
        for fixture in sorted(fixtures.glob("E09*.toml")):
            shutil.copyfile(fixture, out / "fixtures" / fixture.name)
    click.echo(f"{count} documents signed into {out}")


@click.command(name="verify")
@click.argument("folder", type=_FOLDER)
@click.option("--root", required=True, type=_FILE, help="The London root CA certificate (PEM).")
@click.option("--crl", type=_FILE, default=None, help="The root's current CRL (PEM).")
@_directory_option
def verify_command(folder: Path, root: Path, crl: Path | None, directory_file: Path) -> None:
    """Load FOLDER of signed ISPs exactly as the hub does at start.

    Prints one line per document: in force (id, version, SHA-256 of the
    signed bytes) or refused (file, line, rule or signature reason). Exits 1
    if any document is refused.
    """
    verifier = DocumentVerifier(trust=TrustStore.from_files(root, crl))
    engine = PolicyEngine(
        directory=load_directory(directory_file), reader=SignedIspReader(verifier)
    )
    report = engine.load_folder(folder)
    for outcome in report.outcomes:
        doc = engine.in_force(AuthorityCode(Path(outcome.source).stem))
        if outcome.status == "installed" and doc is not None:
            click.echo(
                f"in force: {outcome.source}: {doc.id} version {doc.version}, "
                f"signed by {doc.authority}, sha256 {doc.digest}"
            )
        else:
            click.echo(f"{outcome.status}: {outcome.source}: {outcome.reason}")
    refused = len(report.refused())
    click.echo(f"{len(engine.documents)} in force, {refused} refused")
    if refused:
        sys.exit(1)


COMMANDS: Final = (sign_command, sign_all_command, verify_command)
