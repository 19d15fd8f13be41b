"""The policy engine: the ISPs in force, one per authority, and shadow candidates.

Every document is read through the engine's ``IspReader``
(``hub.policy.signed``): the hub's engine reads with ``SignedIspReader`` and
so accepts only documents signed by their own authority; the ``irthub
policy`` tools read the agreed texts with ``UnsafeUnsignedIspReader``.

Installing a document is all or nothing. A new version replaces the one in
force only if the reader accepts it (signature and signer, schema, model
checks), it belongs to the authority its file is named after, and it carries
a greater version number; on any failure the version in force stays and the
caller gets the ``IrtError`` (or a ``LoadReport`` line) naming the file, line
and rule. An unsigned, wrongly signed or malformed document therefore never
weakens what is in force; one that was never in force leaves its authority
with nothing, which denies.

The documents in force are an immutable snapshot replaced in one assignment,
so a ``decide`` running beside an install sees either the old or the new set,
never a mixture. Decisions use the compiled tables of ``hub.policy.compiled``.

Shadow mode: a candidate document, read by the same reader, can be staged
for an authority without being enforced. ``evaluate_with_shadow`` decides a
request both ways and says whether the effect (outcome, level, categories,
obligations) differs; the basis always differs when a staged document takes
part, so it is not compared.

Effective dates are compared with the UTC calendar day of the engine's clock;
a document not yet (or no longer) in force counts as absent, which denies.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from hub.clock import Clock, SystemClock
from hub.directory import Directory
from hub.errors import IrtError, SchemaInvalid
from hub.identifiers import ALL_AUTHORITIES, AuthorityCode
from hub.policy.compiled import CompiledIsp, CompiledPolicy, compile_isp
from hub.policy.decision import Decision
from hub.policy.model import IspDocument
from hub.policy.request import PolicyRequest
from hub.policy.signed import IspReader

__all__ = [
    "MAX_PROTOCOL_FILES",
    "LoadOutcome",
    "LoadReport",
    "PolicyEngine",
    "protocol_files",
]

MAX_PROTOCOL_FILES: Final = len(ALL_AUTHORITIES)
"""A protocols folder holds one document per authority; more is a mistake."""


@dataclass(frozen=True, slots=True)
class LoadOutcome:
    """What happened to one file when a folder was loaded."""

    source: str
    status: Literal["installed", "unchanged", "staged", "refused"]
    reason: str


@dataclass(frozen=True, slots=True)
class LoadReport:
    """Every file of one folder load, in file-name order."""

    outcomes: tuple[LoadOutcome, ...]

    @property
    def ok(self) -> bool:
        """True when no file was refused."""
        return all(o.status != "refused" for o in self.outcomes)

    def refused(self) -> tuple[LoadOutcome, ...]:
        """The files that were refused; the versions before them stay in force."""
        return tuple(o for o in self.outcomes if o.status == "refused")

    def text(self) -> str:
        """One line per file: ``<status>: <source>: <reason>``."""
        return "\n".join(f"{o.status}: {o.source}: {o.reason}" for o in self.outcomes)


def protocol_files(folder: Path) -> list[Path]:
    """The ``E09*.xml`` documents of ``folder`` in name order (templates are skipped).

    Raises ``SchemaInvalid`` when the folder is missing or holds more files
    than there are authorities.
    """
    if not folder.is_dir():
        raise SchemaInvalid(f"{folder}: not a folder of ISP documents")
    files = sorted(folder.glob("E09*.xml"))
    if len(files) > MAX_PROTOCOL_FILES:
        raise SchemaInvalid(f"{folder}: {len(files)} documents; at most {MAX_PROTOCOL_FILES}")
    return files


class PolicyEngine:
    """Holds the ISPs in force and decides requests against them."""

    def __init__(
        self, *, directory: Directory, reader: IspReader, clock: Clock | None = None
    ) -> None:
        """An engine with nothing in force, reading documents with ``reader``.

        The hub passes a ``SignedIspReader``; there is deliberately no default.
        """
        self._directory = directory
        self._reader = reader
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._cache: dict[str, CompiledIsp] = {}
        self._enforced: Mapping[AuthorityCode, IspDocument] = {}
        self._shadow_docs: Mapping[AuthorityCode, IspDocument] = {}
        self._policy = CompiledPolicy({})
        self._shadow_policy = CompiledPolicy({})

    @property
    def directory(self) -> Directory:
        """The directory that resolves neighbours and groups."""
        return self._directory

    @property
    def documents(self) -> Mapping[AuthorityCode, IspDocument]:
        """The documents in force, by authority (a read-only snapshot)."""
        return self._enforced

    @property
    def shadow_documents(self) -> Mapping[AuthorityCode, IspDocument]:
        """The staged candidates, by authority."""
        return self._shadow_docs

    def in_force(self, authority: AuthorityCode) -> IspDocument | None:
        """The document in force for ``authority``, if any."""
        return self._enforced.get(authority)

    def decide(self, request: PolicyRequest) -> Decision:
        """Decide ``request`` against the documents in force today."""
        return self._policy.decide(request, day=self._clock.now().date())

    def evaluate_with_shadow(self, request: PolicyRequest) -> tuple[Decision, Decision, bool]:
        """``(enforced, shadow, differs)``; ``differs`` compares effect, not basis."""
        day = self._clock.now().date()
        enforced = self._policy.decide(request, day=day)
        shadow = self._shadow_policy.decide(request, day=day)
        return enforced, shadow, _effect(enforced) != _effect(shadow)

    def check(self, data: bytes, *, source: str) -> IspDocument:
        """Read ``data`` and check it could replace the document in force.

        Raises the reader's ``IrtError`` (``SchemaInvalid``, a parser error,
        a ``TrustFailure`` for a signed reader) or ``SchemaInvalid`` for a
        misnamed file or a version not greater than the one in force, naming
        ``source``, the line and the rule; never changes what is in force.
        """
        doc = self._read(data, source=source)
        current = self._enforced.get(doc.authority)
        if current is not None and current.digest != doc.digest and doc.version <= current.version:
            raise SchemaInvalid(
                f"{source}: version {doc.version} is not greater than version "
                f"{current.version} in force ({current.source})"
            )
        return doc

    def install(self, data: bytes, *, source: str) -> IspDocument:
        """Check ``data`` and put it in force; on any error the old version stays."""
        doc = self.check(data, source=source)
        self._put(doc)
        return doc

    def load_folder(self, folder: Path) -> LoadReport:
        """Install every ``E09*.xml`` of ``folder``; refused files keep their old versions.

        Raises ``SchemaInvalid`` only when ``folder`` is not a folder of ISPs.
        """
        outcomes: list[LoadOutcome] = []
        for path, data in _read_files(folder, outcomes):
            try:
                doc = self.check(data, source=str(path))
            except IrtError as exc:
                kept = self._enforced.get(AuthorityCode(path.stem))
                still = f"; version {kept.version} stays in force" if kept else ""
                outcomes.append(LoadOutcome(str(path), "refused", exc.reason + still))
                continue
            current = self._enforced.get(doc.authority)
            if current is not None and current.digest == doc.digest:
                outcomes.append(LoadOutcome(str(path), "unchanged", f"version {doc.version}"))
                continue
            self._put(doc)
            outcomes.append(LoadOutcome(str(path), "installed", f"version {doc.version}"))
        return LoadReport(tuple(outcomes))

    def stage_shadow(self, data: bytes, *, source: str) -> IspDocument:
        """Stage a candidate for its authority beside the version in force.

        Raises the reader's ``IrtError``, or ``SchemaInvalid`` for a misnamed
        file; what is staged and in force is then unchanged. The version is
        not compared: a candidate may also be an older text under review.
        """
        doc = self._read(data, source=source)
        self._shadow_docs = {**self._shadow_docs, doc.authority: doc}
        self._shadow_policy = self._compile({**self._enforced, **self._shadow_docs})
        return doc

    def load_shadow_folder(self, folder: Path) -> LoadReport:
        """Stage every ``E09*.xml`` of ``folder`` as a shadow candidate.

        Raises ``SchemaInvalid`` only when ``folder`` is not a folder of ISPs.
        """
        outcomes: list[LoadOutcome] = []
        for path, data in _read_files(folder, outcomes):
            try:
                doc = self.stage_shadow(data, source=str(path))
            except IrtError as exc:
                outcomes.append(LoadOutcome(str(path), "refused", exc.reason))
                continue
            outcomes.append(LoadOutcome(str(path), "staged", f"version {doc.version}"))
        return LoadReport(tuple(outcomes))

    def clear_shadow(self) -> None:
        """Drop every staged candidate; shadow decisions equal enforced ones again."""
        self._shadow_docs = {}
        self._shadow_policy = self._policy
        self._prune()

    def _read(self, data: bytes, *, source: str) -> IspDocument:
        doc = self._reader.read(data, source=source, directory=self._directory)
        stem = Path(source).stem
        if stem.startswith("E09") and stem != doc.authority:
            raise SchemaInvalid(
                f"{source}: file is named for {stem} but the ISP is {doc.authority}"
            )
        return doc

    def _put(self, doc: IspDocument) -> None:
        enforced = {**self._enforced, doc.authority: doc}
        policy = self._compile(enforced)
        shadow = self._compile({**enforced, **self._shadow_docs})
        self._enforced, self._policy, self._shadow_policy = enforced, policy, shadow
        self._prune()

    def _prune(self) -> None:
        # Compiled tables are kept only for documents in force or staged.
        live = {d.digest for d in (*self._enforced.values(), *self._shadow_docs.values())}
        self._cache = {k: v for k, v in self._cache.items() if k in live}

    def _compile(self, documents: Mapping[AuthorityCode, IspDocument]) -> CompiledPolicy:
        compiled = {}
        for authority, doc in documents.items():
            entry = self._cache.get(doc.digest)
            if entry is None:
                entry = compile_isp(doc, directory=self._directory)
                self._cache[doc.digest] = entry
            compiled[authority] = entry
        return CompiledPolicy(compiled)


def _read_files(folder: Path, outcomes: list[LoadOutcome]) -> Iterator[tuple[Path, bytes]]:
    """The bytes of each document of ``folder``; an unreadable one is reported as refused."""
    for path in protocol_files(folder):
        try:
            data = path.read_bytes()
        except OSError as exc:
            outcomes.append(LoadOutcome(str(path), "refused", f"cannot read: {exc.strerror}"))
            continue
        yield path, data


def _effect(decision: Decision) -> tuple[object, ...]:
    return decision.outcome, decision.level, decision.categories, decision.obligations
