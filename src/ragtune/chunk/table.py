"""Table splitter: rows are never cut apart, and every row carries its column names.

Table loaders render each row as ``column: value | column: value``, so a chunk holding any
subset of rows still says what each value means. Rows are packed greedily up to the token
budget, led by the table's title or caption when the prose before them is that short; a single
row over the budget is split like prose. No overlap between row chunks:
repeating whole rows would only duplicate records. Prose around tables (HTML, DOCX) is split
by the recursive splitter, and no chunk crosses a heading (a sheet, in workbooks).
"""

from __future__ import annotations

from ragtune.chunk.base import Span, TokenIndex, make_chunks
from ragtune.chunk.headings import section_spans
from ragtune.chunk.recursive import RecursiveTokenSplitter
from ragtune.types import Chunk, Document


class TableRowSplitter:
    name = "table"

    def __init__(self, splitter: RecursiveTokenSplitter) -> None:
        self.splitter = splitter
        self.chunk_tokens = splitter.chunk_tokens
        self.caption_tokens = max(1, splitter.chunk_tokens // 4)
        """Prose this short right before a table (its title, "(Millions) 2018 2017", a heading)
        is packed with the rows: alone it would be a chunk that says nothing."""

    def chunk(self, document: Document) -> list[Chunk]:
        index = TokenIndex(document.text, self.splitter.tokenizer)
        spans: list[Span] = []
        rows = sorted(document.row_spans)
        for section_start, section_end in section_spans(document):
            section_rows = [r for r in rows if section_start <= r[0] < section_end]
            spans.extend(self._section(index, section_start, section_end, section_rows))
        return make_chunks(document, spans, index)

    def _section(self, index: TokenIndex, start: int, end: int, rows: list[Span]) -> list[Span]:
        spans: list[Span] = []
        group: list[Span] = []
        cursor = start
        for row in rows:
            if index.text[cursor : row[0]].strip():  # prose between tables
                spans.extend(self._pack(index, group))
                group = []
                if index.count(cursor, row[0]) <= self.caption_tokens:
                    group.append((cursor, row[0]))  # a title or caption: it opens the table's chunk
                else:
                    spans.extend(self.splitter.split(index, cursor, row[0]))
            group.append(row)
            cursor = row[1]
        spans.extend(self._pack(index, group))
        spans.extend(self.splitter.split(index, cursor, end))
        return spans

    def _pack(self, index: TokenIndex, rows: list[Span]) -> list[Span]:
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
