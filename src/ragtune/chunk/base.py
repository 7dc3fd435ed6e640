"""The ``Chunker`` protocol and the span bookkeeping every chunker shares."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Protocol

from ragtune.chunk.tokenizer import Tokenizer
from ragtune.types import Chunk, Document

Span = tuple[int, int]


class Chunker(Protocol):
    name: str

    def chunk(self, document: Document) -> list[Chunk]:
        """Split a document into chunks whose spans index ``document.text`` exactly."""


class TokenIndex:
    """Token boundaries of one text, tokenized once, so any span is counted by bisection.

    Chunkers cut only at whitespace-delimited separators or at token starts, so counting the
    tokens that start inside a span equals tokenizing that span on its own.
    """

    def __init__(self, text: str, tokenizer: Tokenizer) -> None:
        self.text = text
        self.tokenizer = tokenizer
        spans = tokenizer.offsets(text) if text else []
        self.starts = [s for s, _ in spans]
        self.ends = [e for _, e in spans]

    def count(self, start: int, end: int) -> int:
        return bisect.bisect_left(self.starts, end) - bisect.bisect_left(self.starts, start)

    def token_range(self, start: int, end: int) -> tuple[int, int]:
        """Indexes [first, last) of the tokens that start inside the span."""
        return bisect.bisect_left(self.starts, start), bisect.bisect_left(self.starts, end)


def trim(text: str, start: int, end: int) -> Span:
    """Shrink a span past leading and trailing whitespace (start == end if nothing is left)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def make_chunks(document: Document, spans: Iterable[Span], index: TokenIndex) -> list[Chunk]:
    """Turn spans into chunks: trimmed, empty ones dropped, each with its source location."""
    chunks: list[Chunk] = []
    seen: set[Span] = set()
    for raw_start, raw_end in spans:
        start, end = trim(document.text, raw_start, raw_end)
        if start == end or (start, end) in seen:
            continue
        seen.add((start, end))
        chunks.append(
            Chunk(
                id=Chunk.make_id(document.id, start, end),
                document_id=document.id,
                source=document.source,
                text=document.text[start:end],
                start=start,
                end=end,
                page=document.page_at(start),
                page_end=document.page_at(end - 1),
                heading_path=document.heading_path_at(start),
                token_count=index.count(start, end),
            )
        )
    return chunks
