"""The ``Store`` protocol and the plain data that crosses it.

Every read takes a ``Principal``: there is no entry point that searches without one. The
protocol speaks in documents, chunks, vectors and filters only, so a distributed engine (Qdrant,
pgvector, OpenSearch) can implement it with its own native filtering, and callers never change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ragtune.errors import ConfigError, RagtuneError
from ragtune.types import AccessList, Chunk, Document, Heading, Principal, location_dict, stable_id


class IndexMismatchError(ConfigError):
    """The index was built with another embedder than the one configured."""


class IndexCorruptError(RagtuneError):
    """The index's own records disagree (or it was written by a newer ragtune)."""


def principal_keys(principal: Principal) -> list[str]:
    """The access-row keys a principal matches: ``u:<user>`` and ``g:<group>`` per effective group."""
    return [f"u:{principal.user_id}"] + sorted(f"g:{g}" for g in principal.effective_groups)


def access_hash(access: AccessList) -> str:
    return stable_id(sorted(access.allowed_users), sorted(access.allowed_groups))


def record_hash(document: Document, chunks: Sequence[Chunk]) -> str:
    """Everything except the access list that, if changed, means the document must be re-written.

    Chunk ids encode their spans, so a change of chunking settings also counts as a change.
    """
    return stable_id(
        document.content_hash,
        document.source,
        document.format,
        sorted((str(k), repr(v)) for k, v in document.metadata.items()),
        [c.id for c in chunks],
        [c.heading_path for c in chunks],
        *([[c.context for c in chunks]] if any(c.context for c in chunks) else []),
        length=32,
    )


@dataclass(frozen=True, slots=True)
class DocumentState:
    """What the store remembers about a document, to decide whether a re-ingest must touch it."""

    document_id: str
    origin: str
    record_hash: str
    access_hash: str


@dataclass(frozen=True, slots=True)
class SourceFingerprint:
    """What one source file looked like when all its documents were last written: a hash of its
    bytes, the settings that parse and chunk it and its access list (``ingest/plan.py``). A
    planner that finds the same fingerprint skips the file without reading it on a worker.

    The store forgets a fingerprint whenever any document of that origin is written, re-accessed
    or deleted by any path, so a stale one can never hide a change."""

    origin: str
    fingerprint: str
    documents: int
    chunks: int


# Both stores' ``source_fingerprints``: only where the index holds exactly the file's documents
# (a plain, non-sync ingest of a file that lost a record leaves the old one behind, and a later
# sync must read that file again).
SOURCE_FINGERPRINTS_SQL = (
    "SELECT origin, fingerprint, documents, chunks FROM sources s "
    "WHERE documents = (SELECT count(*) FROM documents d WHERE d.origin = s.origin)"
)


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """A document as listed to a user: no text, no access list."""

    document_id: str
    source: str
    format: str
    metadata: dict[str, Any]
    chunks: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.document_id, "source": self.source, "format": self.format,
                "metadata": self.metadata, "chunks": self.chunks}


@dataclass(slots=True)
class DocumentWrite:
    """A new or changed document: replaces every chunk the store had for ``document.id``."""

    document: Document
    chunks: list[Chunk]
    vectors: np.ndarray
    origin: str
    """The file or SQL source the document came from; ``sync`` deletes by origin."""

    def __post_init__(self) -> None:
        if len(self.chunks) != len(self.vectors):
            raise ValueError(f"document {self.document.id}: {len(self.chunks)} chunks but {len(self.vectors)} vectors")


def document_from_row(doc_id: str, source: str, text: str, format: str, metadata: dict[str, Any], users: list[str],
                      groups: list[str], access_origin: str, layout: Mapping[str, Any]) -> Document:
    """A stored document row (JSON fields decoded) as a ``Document``: one reading for every store."""
    return Document(
        id=doc_id, source=source, text=text, format=format, metadata=metadata,
        access=AccessList(frozenset(users), frozenset(groups), access_origin),
        page_starts=list(layout["page_starts"]), outline=[Heading(*h) for h in layout["outline"]],
    )


def document_write_from_rows(document: Document, origin: str, chunks: Sequence[tuple], dimension: int) -> DocumentWrite:
    """The write that recreates a stored document from its chunk rows, in ordinal order:
    (id, text, start, end, page, page_end, heading_path, token_count, vector, keyword heading) each;
    the keyword heading is the chunk's contextual header when it differs from the heading path."""
    built = [
        Chunk(c[0], document.id, document.source, c[1], c[2], c[3], c[4], c[5], tuple(c[6]), c[7],
              context=_context_from_heading(c[9], c[6]))
        for c in chunks
    ]
    vectors = np.array([c[8] for c in chunks], dtype=np.float32).reshape(len(chunks), dimension)
    return DocumentWrite(document, built, vectors, origin)


def _context_from_heading(heading: str, heading_path: Sequence[str]) -> str:
    return "" if heading == " › ".join(heading_path) else heading


def check_dimensions(writes: Sequence[DocumentWrite], dimension: int) -> None:
    """Refuse (before writing anything) vectors of another width than the index holds."""
    for write in writes:
        if write.vectors.ndim != 2 or write.vectors.shape[1] != dimension:
            raise ValueError(
                f"document {write.document.id}: vectors of shape {write.vectors.shape}, "
                f"the index holds {dimension}-d vectors"
            )


def check_query_vector(vector: np.ndarray | None, dimension: int) -> None:
    if vector is not None and np.asarray(vector).shape != (dimension,):
        raise ValueError(f"query vector has shape {np.asarray(vector).shape}, expected ({dimension},)")


def pages_by_document_id(
    page: Callable[[str, int], list[DocumentWrite]], batch: int
) -> Iterator[list[DocumentWrite]]:
    """``Store.writes`` for any backend: ``page(after, n)`` returns the next ``n`` documents with
    ids above ``after`` (id order, one snapshot per page), until one comes back empty."""
    after = ""
    while True:
        writes = page(after, batch)
        if not writes:
            return
        yield writes
        after = writes[-1].document.id


def counted_problems(execute: Any, checks: Sequence[tuple[str, Sequence[Any], str]]) -> list[str]:
    """Run each (counting SQL, parameters, message) check; a non-zero count becomes the message
    with ``{n}`` filled in. ``execute`` is a DB-API ``execute`` (sqlite3 or psycopg)."""
    problems = []
    for sql, params, message in checks:
        n = execute(sql, params).fetchone()[0]
        if n:
            problems.append(message.format(n=n))
    return problems


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """One search as one principal. Dense and keyword candidates come from the same snapshot."""

    principal: Principal
    vector: np.ndarray | None = None
    text: str | None = None
    k: int = 10
    filters: Mapping[str, Any] | None = None
    exact: bool = False
    """Force exact dense search (no ANN), e.g. for evaluation or tests."""
    with_vectors: bool = False
    """Return each hit's vector (MMR needs them)."""


@dataclass(slots=True)
class Hit:
    """A chunk returned by a search, with where it comes from and why it scored."""

    chunk_id: str
    document_id: str
    source: str
    text: str
    start: int
    end: int
    page: int | None
    page_end: int | None
    heading_path: tuple[str, ...]
    metadata: dict[str, Any]
    score: float
    scores: dict[str, float] = field(default_factory=dict)
    """Per-signal scores (``dense``, ``bm25``, ``rerank``, fused)."""
    vector: np.ndarray | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "document_id": self.document_id,
            **location_dict(self),
            "metadata": self.metadata,
            "score": round(float(self.score), 6),
            "scores": {k: round(float(v), 6) for k, v in self.scores.items()},
            "text": self.text,
        }


@dataclass(slots=True)
class SearchResults:
    dense: list[Hit] = field(default_factory=list)
    keyword: list[Hit] = field(default_factory=list)


@dataclass(slots=True)
class StoreStatus:
    documents: int
    chunks: int
    embedder: str
    dimension: int
    generation: int
    ann: str
    """Which vector index serves dense search and how fresh it is."""
    ann_generation: int
    path: str = ""
    """Where the index lives: a folder, or a server URL (password masked) and schema."""
    backend: str = "sqlite"

    @property
    def fresh(self) -> bool:
        return self.ann_generation == self.generation

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "chunks": self.chunks,
            "embedder": self.embedder,
            "dimension": self.dimension,
            "generation": self.generation,
            "ann": self.ann,
            "ann_generation": self.ann_generation,
            "fresh": self.fresh,
            "path": self.path,
            "backend": self.backend,
        }


@runtime_checkable
class Store(Protocol):
    embedder: str
    dimension: int

    def states(self, document_ids: Iterable[str]) -> dict[str, DocumentState]:
        """The remembered state of those documents that exist."""
        ...

    def states_by_origin(self, origins: Iterable[str] | None = None, prefix: str | None = None) -> list[DocumentState]:
        """Documents whose origin is one of ``origins`` or starts with ``prefix``."""
        ...

    def reusable_vectors(self, document_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors of those documents' chunks keyed by chunk-text hash, so an edit
        re-embeds only the chunks whose text changed."""
        ...

    def upsert(self, writes: Sequence[DocumentWrite]) -> None:
        """Insert or replace documents; each document's old chunks vanish in the same commit."""
        ...

    def update_access(self, document_id: str, access: AccessList) -> None: ...

    def delete(self, document_ids: Iterable[str]) -> int: ...

    def source_fingerprints(self) -> dict[str, SourceFingerprint]:
        """Every remembered source fingerprint, by origin."""
        ...

    def set_source_fingerprints(self, fingerprints: Sequence[SourceFingerprint]) -> None:
        """Remember these (replacing older ones); call after the sources' documents are written."""
        ...

    def search(self, request: SearchRequest) -> SearchResults: ...

    def document(self, document_id: str, principal: Principal) -> Document | None:
        """The whole document if the principal may see it, else None (the same as absent)."""
        ...

    def list_documents(self, principal: Principal, *, limit: int = 100, offset: int = 0) -> list[DocumentSummary]:
        """The documents ``principal`` may see, ordered by source."""
        ...

    def status(self) -> StoreStatus: ...

    def check_integrity(self) -> list[str]:
        """Problems found (empty when consistent)."""
        ...

    def writes(self, batch: int = 100) -> Iterator[list[DocumentWrite]]:
        """Every document as the write that recreates it (chunks, vectors, access, origin), in
        document-id order, ``batch`` at a time: how an index moves between backends without
        re-embedding (``ragtune index copy``)."""
        ...

    def close(self) -> None: ...
