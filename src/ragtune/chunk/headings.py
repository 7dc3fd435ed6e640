"""Heading-aware splitter: no chunk crosses a heading, and each keeps its heading path.

Works for any document with an outline (Markdown, HTML, DOCX); each section between two
headings is split with the recursive splitter.
"""

from __future__ import annotations

from ragtune.chunk.base import Span, TokenIndex, make_chunks
from ragtune.chunk.recursive import RecursiveTokenSplitter
from ragtune.types import Chunk, Document


class HeadingSplitter:
    name = "headings"

    def __init__(self, splitter: RecursiveTokenSplitter) -> None:
        self.splitter = splitter

    def chunk(self, document: Document) -> list[Chunk]:
        index = TokenIndex(document.text, self.splitter.tokenizer)
        spans: list[Span] = []
        for start, end in section_spans(document):
            spans.extend(self.splitter.split(index, start, end))
        return make_chunks(document, spans, index)


def section_spans(document: Document) -> list[Span]:
    """Spans between consecutive headings; text before the first heading is its own section."""
    bounds = sorted({0, *(h.start for h in document.outline), len(document.text)})
    return [(s, e) for s, e in zip(bounds, bounds[1:]) if s < e]
