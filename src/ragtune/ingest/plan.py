"""The ingest plan: which found files must be read this run, decided without parsing any.

A file's *fingerprint* is a hash of its bytes, of every setting that turns bytes into chunks
(the ingest and chunking sections, the embedder the chunker counts tokens for, ragtune's version)
and of the access list it would get from outside its content (sidecar, folder ACL, ``--groups``,
default). The store remembers the fingerprint of each file whose documents were all written
(``Store.source_fingerprints``) and forgets it whenever any of those documents is written,
re-accessed or deleted by any path. So a file whose fingerprint is unchanged holds exactly what
the index holds: it is reported as unchanged and never read again, by the local pipeline or a
Ray worker. Anything else (new, changed, unreadable, or remembered by no fingerprint) is read,
and the index writer's per-document hashes then decide what is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ragtune.config import IngestConfig, RagtuneConfig
from ragtune.errors import LoadError
from ragtune.index.base import SourceFingerprint, Store, access_hash
from ragtune.ingest.acl import AccessResolver
from ragtune.ingest.report import SourceReport
from ragtune.ingest.sources import FoundFile, PathSource, Skipped
from ragtune.types import stable_id
from ragtune.version import __version__

_READ_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class PlannedFile:
    found: FoundFile
    fingerprint: str
    """Empty when the file could not be read here: it is still sent, so it fails exactly as locally."""


@dataclass(slots=True)
class IngestPlan:
    entries: list[PlannedFile | SourceReport] = field(default_factory=list)
    """In walk order: a file to read, or the report of one that needs no reading (skipped, unchanged)."""

    @property
    def todo(self) -> list[PlannedFile]:
        return [e for e in self.entries if isinstance(e, PlannedFile)]

    @property
    def unchanged(self) -> list[SourceReport]:
        return [e for e in self.entries if isinstance(e, SourceReport) and e.status == "ok"]

    @property
    def unchanged_origins(self) -> set[str]:
        return {report.source for report in self.unchanged}

    @property
    def unchanged_documents(self) -> int:
        return sum(report.documents for report in self.unchanged)


def settings_fingerprint(config: RagtuneConfig, embedder_identity: str) -> str:
    """Everything but the file and its access that decides the chunks a file becomes."""
    ingest = config.ingest.model_dump(mode="json", exclude={"executor", "ray_address", "ray_writes", "ray_embed_actors",
                                                            "ray_files_per_task"})
    chunking = config.chunking.model_dump(mode="json")
    return stable_id(__version__, json.dumps([ingest, chunking], sort_keys=True), embedder_identity, length=32)


def file_fingerprint(path: Path, settings: str, resolver: AccessResolver) -> str:
    """Raises OSError when the file cannot be read."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_READ_BLOCK):
            digest.update(block)
    access, overrides = resolver.file_access(path)
    return stable_id(digest.hexdigest(), settings, access_hash(access), overrides, length=32)


def resolver_for(root: Path | None, ingest: IngestConfig, groups: Iterable[str], users: Iterable[str]) -> AccessResolver:
    return AccessResolver(root, tuple(groups), tuple(users), ingest.default_groups)


def plan_ingest(
    paths: Iterable[Path],
    config: RagtuneConfig,
    store: Store,
    groups: Iterable[str] = (),
    users: Iterable[str] = (),
) -> IngestPlan:
    """Walk ``paths`` and sort each found file into read-it or unchanged (one store query)."""
    settings = settings_fingerprint(config, store.embedder)
    return walk_plan(paths, config.ingest, groups, users, store.source_fingerprints(), settings)


def walk_plan(
    paths: Iterable[Path],
    ingest: IngestConfig,
    groups: Iterable[str] = (),
    users: Iterable[str] = (),
    remembered: Mapping[str, SourceFingerprint] | None = None,
    settings: str = "",
) -> IngestPlan:
    """Without ``remembered`` (no index to compare with) every found file is read, unhashed."""
    resolvers: dict[Path | None, AccessResolver] = {}
    plan = IngestPlan()
    for item in PathSource(list(paths), ingest.include, ingest.exclude, ingest.follow_symlinks).walk():
        if isinstance(item, Skipped):
            plan.entries.append(SourceReport(item.path, "skipped", reason=item.reason))
            continue
        if remembered is None:
            plan.entries.append(PlannedFile(item, ""))
            continue
        if item.root not in resolvers:
            resolvers[item.root] = resolver_for(item.root, ingest, groups, users)
        try:
            fingerprint = file_fingerprint(item.file.path, settings, resolvers[item.root])
        except (OSError, LoadError):  # read (and reported) by the pipeline, exactly as without a plan
            plan.entries.append(PlannedFile(item, ""))
            continue
        known = remembered.get(item.file.uri)
        if known is not None and known.fingerprint == fingerprint:
            plan.entries.append(SourceReport(item.file.uri, "ok", known.documents, known.chunks))
        else:
            plan.entries.append(PlannedFile(item, fingerprint))
    return plan


def fingerprint_for(planned: PlannedFile, report: SourceReport) -> SourceFingerprint | None:
    """What to remember once the file's documents are written: only a file read whole."""
    if not planned.fingerprint or report.status != "ok":
        return None
    return SourceFingerprint(report.source, planned.fingerprint, report.documents, report.chunks)
