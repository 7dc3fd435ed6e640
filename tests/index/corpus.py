"""Small generated documents for store tests: varied text, metadata and access lists."""

from __future__ import annotations

import numpy as np

from ragtune.embed.hashing import HashingEmbedder
from ragtune.index.base import DocumentWrite
from ragtune.types import AccessList, Chunk, Document

WORDS = (
    "invoice refund bicycle warranty helmet salary leave policy security password laptop travel "
    "expense budget brake chain pedal frame wheel saddle manager holiday contract pension audit"
).split()


def make_document(
    number: int,
    words: list[str],
    groups: frozenset[str] = frozenset({"public"}),
    users: frozenset[str] = frozenset(),
    metadata: dict | None = None,
    chunks: int = 2,
) -> Document:
    parts = [" ".join(words[i::chunks]) or "empty" for i in range(chunks)]
    return Document(
        id=f"doc-{number}",
        source=f"/corpus/file-{number}.txt",
        text="\n\n".join(parts),
        format="text",
        metadata=metadata if metadata is not None else {"n": number},
        access=AccessList(users, groups, origin="test"),
    )


def chunk_document(document: Document) -> list[Chunk]:
    """Paragraphs as chunks, with exact spans."""
    out, start = [], 0
    for part in document.text.split("\n\n"):
        begin = document.text.index(part, start)
        end = begin + len(part)
        out.append(
            Chunk(
                Chunk.make_id(document.id, begin, end),
                document.id,
                document.source,
                part,
                begin,
                end,
                token_count=len(part.split()),
            )
        )
        start = end
    return out


def write_for(document: Document, embedder: HashingEmbedder, origin: str | None = None) -> DocumentWrite:
    chunks = chunk_document(document)
    vectors = embedder.embed([c.text for c in chunks]) if chunks else np.zeros((0, embedder.dimension), np.float32)
    return DocumentWrite(document, chunks, vectors, origin or document.source)
