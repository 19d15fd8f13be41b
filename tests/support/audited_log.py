"""A small, real hub log for the auditor's tests: signed messages, checkpoints, witnesses.

``build_audited_log`` writes into a folder what an auditor is handed: the
log directory, the log's verifier key, the witnesses' key list, and the
paths of the development PKI's root and CRL.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.log.checkpoint import Checkpoint, sign_checkpoint
from hub.log.checkpointer import Checkpointer
from hub.log.cosignature import cosign
from hub.log.keyfiles import write_key_pair
from hub.log.merkle import leaf_hash
from hub.log.note import NoteSigner, generate_cosigner_key, parse_note
from hub.log.tree import append_leaves
from hub.pki.layout import PkiLayout
from hub.storage.log_folder import open_sqlite_log
from hub.storage.sqlite.log import LOG_DB_NAME
from hub.storage.sqlite.merkle_nodes import SqliteNodeStore
from tests.support.signed_messages import SignerFor, sample_messages

CREATED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
CHECKPOINT_SIZES = (10, 20, 30)
"""The log has 30 leaves and three checkpoints; both witnesses cosigned the
last one, the first witness also the second one."""


@dataclass(frozen=True)
class Audited:
    """What the auditor is given."""

    log_dir: Path
    log_key: Path
    witnesses: Path
    root: Path
    crl: Path
    log_signer: NoteSigner
    witness_signers: tuple[NoteSigner, ...]

    @property
    def db(self) -> Path:
        return self.log_dir / LOG_DB_NAME

    def trust_args(self, *, quorum: int = 1) -> list[str]:
        return [
            "--trust-root", str(self.root),
            "--crl", str(self.crl),
            "--log-key", str(self.log_key),
            "--witnesses", str(self.witnesses),
            "--quorum", str(quorum),
        ]  # fmt: skip

    def moved_to(self, log_dir: Path) -> Audited:
        return Audited(
            log_dir,
            self.log_key,
            self.witnesses,
            self.root,
            self.crl,
            self.log_signer,
            self.witness_signers,
        )


def build_audited_log(folder: Path, signer_for: SignerFor, pki: PkiLayout) -> Audited:
    """A 30-leaf log with checkpoints at 10, 20 and 30 and witness cosignatures."""
    keys = write_key_pair(folder / "keys", "london-irt.hub/log")
    log_signer = NoteSigner.from_key_text(keys.signer.read_text().strip())
    witnesses = tuple(
        NoteSigner.from_key_text(generate_cosigner_key(f"w{n}.irt.london.example")[0])
        for n in range(2)
    )
    listing = folder / "witnesses.txt"
    listing.write_text("".join(f"{w.verifier.key_text()}\n" for w in witnesses))
    items = sample_messages(signer_for, CREATED)
    items += sample_messages(signer_for, CREATED + timedelta(minutes=1))
    log = open_sqlite_log(folder / "log")
    checkpointer = Checkpointer(log=log, signer=log_signer)
    done = 0
    for size in CHECKPOINT_SIZES:
        log.append_many(items[done:size])
        done = size
        checkpointer.sign_now()
    verifiers = [w.verifier for w in witnesses]
    for size, cosigners in ((20, witnesses[:1]), (30, witnesses)):
        stored = log.checkpoint_note(size)
        assert stored is not None
        text = parse_note(stored).text
        for witness in cosigners:
            log.add_cosignature(
                size, cosign(text, witness, timestamp=1_800_000_000), witnesses=verifiers
            )
    log.close()
    return Audited(
        log_dir=folder / "log",
        log_key=keys.verifier,
        witnesses=listing,
        root=pki.root_cert,
        crl=pki.crl,
        log_signer=log_signer,
        witness_signers=witnesses,
    )


def rebuild_tree(db: Path) -> None:
    """Recompute the log's own Merkle tables from its leaf rows, as a thorough attacker would."""
    with sqlite3.connect(db) as connection:
        leaves = [
            bytes(row[0]) for row in connection.execute("SELECT leaf FROM log_leaf ORDER BY idx")
        ]
        connection.execute("DELETE FROM merkle_node")
        connection.execute("UPDATE merkle_size SET size = 0")
    connection.close()
    store = SqliteNodeStore(db)
    append_leaves(store, [leaf_hash(leaf) for leaf in leaves])
    store.close()


def resign_checkpoints(db: Path, signer: NoteSigner) -> None:
    """Re-sign every checkpoint over the (rebuilt) tree with ``signer``: a key thief's move."""
    log = open_sqlite_log(db.parent)
    sizes = [c.size for c in log.checkpoints()]
    notes = {
        size: sign_checkpoint(Checkpoint(signer.name, size, log.root(size)), signer)
        for size in sizes
    }
    log.close()
    with sqlite3.connect(db) as connection:
        for size, note in notes.items():
            connection.execute("UPDATE log_checkpoint SET note = ? WHERE size = ?", (note, size))
    connection.close()
