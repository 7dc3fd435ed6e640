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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from ragtune.chunk.base import Chunker
from ragtune.config import IngestConfig, SqlSourceConfig
from ragtune.errors import LoadError, UnsupportedFormatError
from ragtune.ingest.acl import AccessResolver
from ragtune.ingest.base import LoadResult
from ragtune.ingest.formats import loader_for_content, loader_for_name
from ragtune.ingest.sources import FoundFile, PathSource, Skipped
from ragtune.ingest.sql import SqlSource
from ragtune.types import Chunk, Document, IngestError

logger = logging.getLogger(__name__)


class DocumentSink(Protocol):
    def write(self, document: Document, chunks: list[Chunk], origin: str) -> None: ...


@dataclass(slots=True)
class SourceReport:
    """What happened to one file (or one SQL query)."""

    source: str
    status: Literal["ok", "partial", "failed", "skipped"]
    documents: int = 0
    chunks: int = 0
    errors: list[IngestError] = field(default_factory=list)
    reason: str = ""


@dataclass(slots=True)
class IngestReport:
    sources: list[SourceReport] = field(default_factory=list)
    seconds: float = 0.0
    index: dict[str, int] = field(default_factory=dict)
    """What the index did: documents added, updated, unchanged, deleted; chunks embedded."""

    def _count(self, *statuses: str) -> int:
        return sum(1 for s in self.sources if s.status in statuses)

    @property
    def succeeded(self) -> int:
        return self._count("ok", "partial")

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def documents(self) -> int:
        return sum(s.documents for s in self.sources)

    @property
    def chunks(self) -> int:
        return sum(s.chunks for s in self.sources)

    @property
    def errors(self) -> list[IngestError]:
        return [e for s in self.sources for e in s.errors]

    @property
    def has_failures(self) -> bool:
        return any(s.status in ("failed", "partial") for s in self.sources)

    def to_dict(self) -> dict[str, object]:
        return {
            "succeeded": self.succeeded,
            "failed": self.failed,
            "skipped": self.skipped,
            "documents": self.documents,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
            "index": self.index,
            "sources": [
                {
                    "source": s.source,
                    "status": s.status,
                    "documents": s.documents,
                    "chunks": s.chunks,
                    "reason": s.reason,
                    "errors": [{"record": e.record, "reason": e.reason} for e in s.errors],
                }
                for s in self.sources
            ],
        }


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
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        resolvers: dict[Path | None, AccessResolver] = {}
        source = PathSource(
            list(paths), self.config.include, self.config.exclude, self.config.follow_symlinks
        )
        items = list(source.walk())
        sqls = list(sql_sources)
        if on_start:
            on_start(len(items) + len(sqls))

        def record(result: SourceReport) -> None:
            report.sources.append(result)
            if on_progress:
                on_progress(result)

        for item in items:
            if isinstance(item, Skipped):
                record(SourceReport(item.path, "skipped", reason=item.reason))
                continue
            if item.root not in resolvers:
                resolvers[item.root] = self._resolver(item.root)
            record(self._ingest_file(item, resolvers[item.root]))
        for sql in sqls:
            record(self._ingest_sql(SqlSource(sql)))
        report.seconds = time.perf_counter() - started
        return report

    def _resolver(self, root: Path | None) -> AccessResolver:
        return AccessResolver(root, self.groups, self.users, self.config.default_groups)

    def _ingest_file(self, found: FoundFile, resolver: AccessResolver) -> SourceReport:
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
            # Outside the guard: a failing sink (the index) must stop the run, not pass as a bad file.
            return self._emit(uri, chunked, loaded.errors)
        return SourceReport(uri, "failed", errors=[IngestError(uri, reason)], reason=reason)

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
        status: Literal["ok", "partial"] = "partial" if errors else "ok"
        reason = f"{len(errors)} record(s) failed" if errors else ""
        total = sum(len(chunks) for _, chunks in chunked)
        return SourceReport(name, status, len(chunked), total, errors, reason)
