"""What an ingest run reports: per source (file or SQL query) and in total."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ragtune.types import Chunk, Document, IngestError


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


def source_report(name: str, chunked: list[tuple[Document, list[Chunk]]], errors: list[IngestError]) -> SourceReport:
    status: Literal["ok", "partial"] = "partial" if errors else "ok"
    reason = f"{len(errors)} record(s) failed" if errors else ""
    total = sum(len(chunks) for _, chunks in chunked)
    return SourceReport(name, status, len(chunked), total, errors, reason)
