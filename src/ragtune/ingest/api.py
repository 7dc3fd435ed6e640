"""The ingest use cases as Python functions; the CLI (and later the server) only call these."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ragtune.chunk.factory import build_chunker
from ragtune.config import RagtuneConfig, SqlSourceConfig
from ragtune.embed.base import Embedder, ProgressCallback
from ragtune.errors import LoadError
from ragtune.index.base import Store
from ragtune.index.factory import build_store
from ragtune.index.writer import IndexingSink, WriteStats
from ragtune.ingest.acl import AccessResolver
from ragtune.ingest.files import SourceFile
from ragtune.ingest.pipeline import IngestPipeline, IngestReport, SourceReport, load_file
from ragtune.ingest.plan import plan_ingest
from ragtune.ingest.sources import FoundFile
from ragtune.ingest.sql import SqlSource
from ragtune.types import Chunk, Document, IngestError
from ragtune.workspace import Workspace


def ingest(
    workspace: Workspace,
    paths: Iterable[Path],
    *,
    config: RagtuneConfig | None = None,
    groups: Iterable[str] = (),
    users: Iterable[str] = (),
    sql_sources: Iterable[SqlSourceConfig] | None = None,
    sync: bool = False,
    embedder: Embedder | None = None,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[SourceReport], None] | None = None,
    on_embedded: ProgressCallback | None = None,
) -> IngestReport:
    """Load, apply access lists, chunk, embed what changed, and write to the workspace index.

    Unchanged documents cost no embedding call; a document whose access list alone changed is
    updated in place. With ``sync``, documents that vanished from the given paths (or SQL
    sources) are deleted, except those of files that failed this time, which keep their last
    good version.
    """
    from ragtune.embed.factory import build_embedder

    config = config or workspace.load_config()
    chunker = build_chunker(config.chunking, config.embedder)
    embedder = embedder or build_embedder(config.embedder)  # exports cached per user, not per workspace
    paths = [Path(p) for p in paths]
    sqls = list(config.sql_sources if sql_sources is None else sql_sources)
    store = build_store(workspace, config, embedder)
    try:
        plan = plan_ingest(paths, config, store, groups, users)
        on_ray = config.ingest.executor == "ray"
        if on_ray:
            from ragtune.ingest.ray_executor import KnownVectors, RayIngest, writer_side

            if writer_side(config) == "driver":
                embedder = KnownVectors(embedder)  # the actors embed; the driver's sink writes
        with IndexingSink(store, embedder, config.index.batch_chunks, on_embedded) as sink:
            sink.stats.unchanged += plan.unchanged_documents
            if on_ray:
                with RayIngest(workspace, config, groups, users) as ray_ingest:
                    report = ray_ingest.run(plan, sink, on_start=on_start, on_progress=on_progress)
                # SQL sources are queried from the driver: one connection, no files to spread.
                sql_report = IngestPipeline(config.ingest, chunker, sink, groups=groups, users=users).run(sql_sources=sqls)
                report.sources += sql_report.sources
            else:
                pipeline = IngestPipeline(config.ingest, chunker, sink, groups=groups, users=users)
                report = pipeline.run(sql_sources=sqls, on_start=on_start, on_progress=on_progress, plan=plan)
        if sync:
            gone = vanished(store, paths, sqls, report, sink.stats, plan.unchanged_origins)
            sink.stats.deleted = store.delete(gone)
            if gone:  # a deleted document forgets its file's fingerprint: the files read whole keep theirs
                store.set_source_fingerprints(sink.remembered)
        report.index = sink.stats.to_dict()
        store.compact()
    finally:
        store.close()
    return report


def vanished(
    store: Store,
    paths: list[Path],
    sqls: list[SqlSourceConfig],
    report: IngestReport,
    stats: WriteStats,
    unchanged_origins: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[str]:
    """Ids of stored documents under ``paths``/``sqls`` that this run did not see (the documents
    of files the plan found unchanged were not read, and stay)."""
    # A file that failed or was only partly read keeps its last good documents: losing them
    # because of a transient parse error would be worse than serving them a little longer.
    protected = {s.source for s in report.sources if s.status in ("failed", "partial")} | set(unchanged_origins)
    candidates = []
    for path in paths:
        absolute = Path(path).absolute()
        candidates += store.states_by_origin(origins=[str(absolute)])
        candidates += store.states_by_origin(prefix=str(absolute).rstrip("/") + "/")
        if not absolute.exists():
            protected.discard(str(absolute))  # the whole path vanished: its documents go too
    candidates += store.states_by_origin(origins=[SqlSource(s).name for s in sqls])
    return sorted({
        state.document_id for state in candidates
        if state.document_id not in stats.written_ids and state.origin not in protected
    })


@dataclass
class Inspection:
    """What one file turns into: its documents, each with its chunks, and any errors."""

    documents: list[tuple[Document, list[Chunk]]] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    chunker: str = ""


def inspect_file(path: Path, config: RagtuneConfig, groups: Iterable[str] = ()) -> Inspection:
    chunker = build_chunker(config.chunking, config.embedder)
    found = FoundFile(SourceFile(path), root=None, explicit=True)
    inspection = Inspection(chunker=config.chunking.strategy)
    try:
        loaded = load_file(found, config.ingest)
        AccessResolver(None, groups, (), config.ingest.default_groups).apply(path, loaded.documents)
    except LoadError as exc:
        inspection.errors.append(IngestError(found.file.uri, str(exc)))
        return inspection
    inspection.errors.extend(loaded.errors)
    for document in loaded.documents:
        inspection.documents.append((document, chunker.chunk(document)))
    return inspection
