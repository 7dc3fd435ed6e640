"""Sources -> loaders -> access lists -> chunker -> sink, one file at a time.

A failure in one file (or one record) is recorded with its reason and never stops the batch.
The sink is where chunks go (the index, through ``ragtune.index.writer.IndexingSink``); anything
with ``write(document, chunks, origin)`` plugs in. ``origin`` names the file or SQL source, which
is what ``sync`` deletes by.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from ragtune.chunk.base import Chunker
from ragtune.config import IngestConfig, SqlSourceConfig
from ragtune.errors import LoadError, UnsupportedFormatError
from ragtune.index.base import SourceFingerprint
from ragtune.ingest.acl import AccessResolver
from ragtune.ingest.base import LoadResult
from ragtune.ingest.formats import loader_for_content, loader_for_name
from ragtune.ingest.plan import IngestPlan, fingerprint_for, walk_plan
from ragtune.ingest.report import IngestReport, SourceReport, source_report
from ragtune.ingest.sources import FoundFile
from ragtune.ingest.sql import SqlSource
from ragtune.types import Chunk, Document, IngestError

logger = logging.getLogger(__name__)


class DocumentSink(Protocol):
    def write(self, document: Document, chunks: list[Chunk], origin: str) -> None: ...


@runtime_checkable
class RememberingSink(DocumentSink, Protocol):
    """A sink that can store a file's fingerprint once all its documents are written."""

    def remember(self, fingerprint: SourceFingerprint) -> None: ...


def load_file(found: FoundFile, config: IngestConfig) -> LoadResult:
    """Read and parse one file; raises LoadError with the reason when nothing can be used."""
    file = found.file
    data = file.read_bytes(config.max_file_bytes)
    loader = loader_for_name(file.path.name) or loader_for_content(data)
    if loader is None:
        raise UnsupportedFormatError(f"unsupported file type '{file.suffix or file.path.name}'")
    return loader.load(file, data, config)


class IngestPipeline:
    def __init__(
        self,
        config: IngestConfig,
        chunker: Chunker,
        sink: DocumentSink | None = None,
        groups: Iterable[str] = (),
        users: Iterable[str] = (),
    ) -> None:
        self.config = config
        self.chunker = chunker
        self.sink = sink
        self.groups = tuple(groups)
        self.users = tuple(users)

    def run(
        self,
        paths: Iterable[Path] = (),
        sql_sources: Iterable[SqlSourceConfig] = (),
        on_start: Callable[[int], None] | None = None,
        on_progress: Callable[[SourceReport], None] | None = None,
        plan: IngestPlan | None = None,
    ) -> IngestReport:
        """Ingest what ``plan`` says must be read (without one: every file found under ``paths``)."""
        started = time.perf_counter()
        report = IngestReport()
        resolvers: dict[Path | None, AccessResolver] = {}
        plan = plan if plan is not None else walk_plan(paths, self.config, self.groups, self.users)
        sqls = list(sql_sources)
        if on_start:
            on_start(len(plan.entries) + len(sqls))

        def record(result: SourceReport) -> None:
            report.sources.append(result)
            if on_progress:
                on_progress(result)

        for entry in plan.entries:
            if isinstance(entry, SourceReport):  # skipped, or unchanged since its fingerprint
                record(entry)
                continue
            root = entry.found.root
            if root not in resolvers:
                resolvers[root] = self._resolver(root)
            result = self._ingest_file(entry.found, resolvers[root])
            fingerprint = fingerprint_for(entry, result)
            if fingerprint is not None and isinstance(self.sink, RememberingSink):
                self.sink.remember(fingerprint)
            record(result)
        for sql in sqls:
            record(self._ingest_sql(SqlSource(sql)))
        report.seconds = time.perf_counter() - started
        return report

    def _resolver(self, root: Path | None) -> AccessResolver:
        return AccessResolver(root, self.groups, self.users, self.config.default_groups)

    def _ingest_file(self, found: FoundFile, resolver: AccessResolver) -> SourceReport:
        prepared = self.prepare_file(found, resolver)
        if prepared.report.status == "failed":
            return prepared.report
        # Outside prepare_file's guard: a failing sink (the index) must stop the run, not pass as a bad file.
        return self._emit(prepared.report.source, prepared.chunked, prepared.report.errors)

    def prepare_file(self, found: FoundFile, resolver: AccessResolver) -> PreparedFile:
        """Load, apply access and chunk one file, writing nothing: what a local run does before
        its sink, and what a Ray worker does for the driver (``ingest/ray_executor.py``)."""
        uri = found.file.uri
        try:
            loaded = load_file(found, self.config)
            resolver.apply(found.file.path, loaded.documents)
            chunked = self._chunk(loaded.documents)
        except LoadError as exc:
            reason = str(exc)
        except Exception as exc:  # a parser library failing in a way we did not foresee
            logger.debug("unexpected error ingesting %s", uri, exc_info=True)
            reason = f"unexpected error: {type(exc).__name__}: {exc}"
        else:
            return PreparedFile(source_report(uri, chunked, loaded.errors), chunked)
        return PreparedFile(SourceReport(uri, "failed", errors=[IngestError(uri, reason)], reason=reason), [])

    def _ingest_sql(self, source: SqlSource) -> SourceReport:
        documents: list[Document] = []
        errors: list[IngestError] = []
        for item in source.documents():
            (errors if isinstance(item, IngestError) else documents).append(item)  # type: ignore[arg-type]
        if not documents:
            reason = errors[0].reason if errors else "the query returned no rows"
            return SourceReport(source.name, "failed", errors=errors, reason=reason)
        self._resolver(None).apply(None, documents)
        return self._emit(source.name, self._chunk(documents), errors)

    def _chunk(self, documents: list[Document]) -> list[tuple[Document, list[Chunk]]]:
        return [(document, self.chunker.chunk(document)) for document in documents]

    def _emit(
        self, name: str, chunked: list[tuple[Document, list[Chunk]]], errors: list[IngestError]
    ) -> SourceReport:
        if self.sink is not None:
            for document, chunks in chunked:
                self.sink.write(document, chunks, name)
        return source_report(name, chunked, errors)


@dataclass(slots=True)
class PreparedFile:
    """One file loaded and chunked but not yet written: its report and its documents."""

    report: SourceReport
    chunked: list[tuple[Document, list[Chunk]]]
