"""Table splitter: rows are never cut apart, and every row carries its column names.

Table loaders render each row as ``column: value | column: value``, so a chunk holding any
subset of rows still says what each value means. Rows are packed greedily up to the token
budget; a single row over the budget is split like prose. No overlap: repeating whole rows
would only duplicate records.
"""

from __future__ import annotations

from ragtune.chunk.base import Span, TokenIndex, make_chunks
from ragtune.chunk.recursive import RecursiveTokenSplitter
from ragtune.chunk.headings import section_spans
from ragtune.types import Chunk, Document


class TableRowSplitter:
    name = "table"

    def __init__(self, splitter: RecursiveTokenSplitter) -> None:
        self.splitter = splitter
        self.chunk_tokens = splitter.chunk_tokens

    def chunk(self, document: Document) -> list[Chunk]:
        index = TokenIndex(document.text, self.splitter.tokenizer)
        if not document.row_spans:
            return make_chunks(document, self.splitter.split(index, 0, len(document.text)), index)
        spans: list[Span] = []
        # Sheets (outline sections) are packed separately so no chunk mixes two tables.
        for section_start, section_end in section_spans(document):
            rows = [r for r in document.row_spans if section_start <= r[0] < section_end]
            spans.extend(self._pack_rows(index, rows))
        return make_chunks(document, spans, index)

    def _pack_rows(self, index: TokenIndex, rows: list[Span]) -> list[Span]:
        spans: list[Span] = []
        group_start: int | None = None
        group_end = 0
        for row_start, row_end in rows:
            if index.count(row_start, row_end) > self.chunk_tokens:
                if group_start is not None:
                    spans.append((group_start, group_end))
                    group_start = None
                spans.extend(self.splitter.split(index, row_start, row_end))
                continue
            if group_start is not None and index.count(group_start, row_end) > self.chunk_tokens:
                spans.append((group_start, group_end))
                group_start = None
            if group_start is None:
                group_start = row_start
            group_end = row_end
        if group_start is not None:
            spans.append((group_start, group_end))
        return spans
