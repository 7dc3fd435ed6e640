"""The ingest use cases as Python functions; the CLI (and later the server) only call these."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ragtune.chunk.factory import build_chunker
from ragtune.config import RagtuneConfig, SqlSourceConfig
from ragtune.errors import LoadError
from ragtune.ingest.acl import AccessResolver
from ragtune.ingest.files import SourceFile
from ragtune.ingest.pipeline import IngestPipeline, IngestReport, SourceReport, load_file
from ragtune.ingest.sources import FoundFile
from ragtune.ingest.staging import JsonlStagingSink
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
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[SourceReport], None] | None = None,
) -> IngestReport:
    """Load, apply access lists, chunk, and write to the workspace's staging file."""
    config = config or workspace.load_config()
    chunker = build_chunker(config.chunking, config.embedder)
    sqls = list(config.sql_sources if sql_sources is None else sql_sources)
    with JsonlStagingSink(workspace.staging_path) as sink:
        pipeline = IngestPipeline(config.ingest, chunker, sink, groups=groups, users=users)
        return pipeline.run(paths, sqls, on_start=on_start, on_progress=on_progress)


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
