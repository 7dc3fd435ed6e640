"""The ingest sink that feeds a ``Store``: skips unchanged documents, re-embeds only new text.

Documents are buffered and embedded together, because one model call over many short chunks is
far cheaper than one per document; each buffered document is still written whole in the store's
transaction, so readers never see half of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ragtune.embed.base import Embedder
from ragtune.index.base import DocumentWrite, SourceFingerprint, Store, access_hash, record_hash
from ragtune.types import Chunk, Document, content_hash


@dataclass(slots=True)
class WriteStats:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    access_updated: int = 0
    deleted: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    written_ids: set[str] = field(default_factory=set)
    """Every document id seen this run (written, updated or unchanged)."""

    def to_dict(self) -> dict[str, int]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "access_updated": self.access_updated,
            "deleted": self.deleted,
            "chunks_embedded": self.chunks_embedded,
            "chunks_reused": self.chunks_reused,
        }


class IndexingSink:
    """``DocumentSink`` over a store and an embedder. Use as a context manager."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        batch_chunks: int = 256,
        on_embedded: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.batch_chunks = batch_chunks
        self.on_embedded = on_embedded
        self.stats = WriteStats()
        self._pending: list[tuple[Document, list[Chunk], str, bool]] = []
        self._pending_chunks = 0
        self._fingerprints: list[SourceFingerprint] = []
        self.remembered: list[SourceFingerprint] = []
        """Every fingerprint stored this run (``ingest`` stores them again after a sync's deletes)."""

    def remember(self, fingerprint: SourceFingerprint) -> None:
        """Store the source's fingerprint once its documents (all written before this call) are."""
        self._fingerprints.append(fingerprint)

    def write(self, document: Document, chunks: list[Chunk], origin: str | None = None) -> None:
        origin = origin or document.source
        self.stats.written_ids.add(document.id)
        state = self.store.states([document.id]).get(document.id)
        if state is not None and state.record_hash == record_hash(document, chunks) and state.origin == origin:
            if state.access_hash != access_hash(document.access):
                self.store.update_access(document.id, document.access)
                self.stats.access_updated += 1
            else:
                self.stats.unchanged += 1
            return
        self._pending.append((document, chunks, origin, state is not None))
        self._pending_chunks += len(chunks)
        if self._pending_chunks >= self.batch_chunks:
            self.flush()

    def flush(self) -> None:
        self._write_pending()
        # After the documents' commit, never before: a crash in between loses only the fingerprint,
        # and the next run reads that file again and finds its documents unchanged.
        fingerprints, self._fingerprints = self._fingerprints, []
        self.store.set_source_fingerprints(fingerprints)
        self.remembered.extend(fingerprints)

    def _write_pending(self) -> None:
        if not self._pending:
            return
        pending, self._pending, self._pending_chunks = self._pending, [], 0
        reusable = self.store.reusable_vectors([d.id for d, _, _, existed in pending if existed])
        todo: list[str] = []
        for _, chunks, _, _ in pending:
            todo.extend(c.embedding_text for c in chunks if content_hash(c.embedding_text) not in reusable)
        unique = list(dict.fromkeys(todo))
        fresh = self.embedder.embed(unique, progress=self.on_embedded) if unique else None
        by_text = {t: fresh[i] for i, t in enumerate(unique)} if fresh is not None else {}
        self.stats.chunks_embedded += len(unique)
        writes = []
        for document, chunks, origin, existed in pending:
            rows = []
            for chunk in chunks:
                vector = reusable.get(content_hash(chunk.embedding_text))
                if vector is None:
                    vector = by_text[chunk.embedding_text]
                else:
                    self.stats.chunks_reused += 1
                rows.append(vector)
            vectors = np.stack(rows) if rows else np.zeros((0, self.embedder.dimension), np.float32)
            writes.append(DocumentWrite(document, chunks, vectors, origin))
            if existed:
                self.stats.updated += 1
            else:
                self.stats.added += 1
        self.store.upsert(writes)

    def __enter__(self) -> IndexingSink:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.flush()
