"""Heading-aware and table splitters, and the auto selection between them."""

from __future__ import annotations

from ragtune.chunk.factory import AutoChunker, build_chunker
from ragtune.chunk.headings import HeadingSplitter
from ragtune.chunk.recursive import RecursiveTokenSplitter
from ragtune.chunk.table import TableRowSplitter
from ragtune.config import ChunkingConfig, EmbedderConfig
from ragtune.ingest.markdown import markdown_outline
from ragtune.testing.chunker import assert_no_text_lost, assert_sizes_and_overlap, assert_spans_round_trip
from ragtune.types import Document, Heading

MARKDOWN = """Intro line before any heading.

# Handbook

Welcome text.

## Leave

Employees get 25 days of paid leave per year. Unused days expire in March.

### Carry over

Up to five days carry over.

## Expenses

Meals are refunded up to 40 EUR.
"""


def test_no_chunk_crosses_a_heading_and_paths_are_kept(tokenizer):
    document = Document("d", "mem://d", MARKDOWN, "markdown", outline=markdown_outline(MARKDOWN))
    chunks = HeadingSplitter(RecursiveTokenSplitter(tokenizer, 200, 20)).chunk(document)
    assert_spans_round_trip(document, chunks)
    assert_no_text_lost(document, chunks)
    paths = {c.text.split("\n")[0]: c.heading_path for c in chunks}
    assert paths["Intro line before any heading."] == ()
    assert paths["### Carry over"] == ("Handbook", "Leave", "Carry over")
    assert paths["## Expenses"] == ("Handbook", "Expenses")
    heading_starts = {h.start for h in document.outline}
    for chunk in chunks:
        assert not any(chunk.start < h < chunk.end for h in heading_starts)


def test_long_sections_are_split_and_keep_their_path(tokenizer):
    body = "\n\n".join(f"Rule {i}: employees must file form {i} before travel." for i in range(30))
    text = f"# Policy\n\n## Travel\n\n{body}\n"
    document = Document("d", "mem://d", text, "markdown", outline=markdown_outline(text))
    chunks = HeadingSplitter(RecursiveTokenSplitter(tokenizer, 40, 8)).chunk(document)
    assert len(chunks) > 5
    assert all(c.heading_path == ("Policy", "Travel") for c in chunks[1:])
    assert_sizes_and_overlap(chunks, tokenizer, 40, 8)


def _table(rows: int, sheets: int = 1) -> Document:
    spans: list[tuple[int, int]] = []
    outline: list[Heading] = []
    text = ""
    for s in range(sheets):
        if s:
            text += "\n\n"
        outline.append(Heading(1, f"Sheet{s}", len(text)))
        block = [f"sku: S{s}-{i} | name: Item {i} | price: {i}.99 | currency: EUR" for i in range(rows)]
        for line in block:
            spans.append((len(text), len(text) + len(line)))
            text += line + "\n"
        text = text[:-1]
    return Document("t", "mem://t.xlsx", text, "table", outline=outline, row_spans=spans)


def test_table_chunks_hold_whole_rows_with_headers(tokenizer):
    document = _table(rows=60)
    chunks = TableRowSplitter(RecursiveTokenSplitter(tokenizer, 80, 10)).chunk(document)
    assert len(chunks) > 3
    assert_spans_round_trip(document, chunks)
    assert_no_text_lost(document, chunks)
    for chunk in chunks:
        for line in chunk.text.split("\n"):  # never a cut row; every row names its columns
            assert line.startswith("sku: ") and line.endswith("currency: EUR")
    assert_sizes_and_overlap(chunks, tokenizer, 80, 0)


def test_table_chunks_never_mix_sheets(tokenizer):
    document = _table(rows=5, sheets=3)
    chunks = TableRowSplitter(RecursiveTokenSplitter(tokenizer, 200, 10)).chunk(document)
    assert [c.heading_path for c in chunks] == [("Sheet0",), ("Sheet1",), ("Sheet2",)]


def test_oversized_row_is_split_like_prose(tokenizer):
    long_row = "notes: " + " ".join(f"word{i}" for i in range(200))
    text = "sku: A | name: short\n" + long_row
    spans = [(0, 20), (21, len(text))]
    document = Document("t", "mem://t.csv", text, "table", row_spans=spans)
    chunks = TableRowSplitter(RecursiveTokenSplitter(tokenizer, 50, 5)).chunk(document)
    assert chunks[0].text == "sku: A | name: short"
    assert len(chunks) > 3
    assert_no_text_lost(document, chunks)
    assert_sizes_and_overlap(chunks, tokenizer, 50, 5)


def _row_spans(first: int, rows: list[str]) -> list[tuple[int, int]]:
    """Spans of ``rows`` joined by newlines, starting at offset ``first``."""
    spans = []
    for row in rows:
        spans.append((first, first + len(row)))
        first += len(row) + 1
    return spans


def test_prose_around_tables_is_kept_and_rows_stay_whole(tokenizer):
    prose = " ".join(f"Intro sentence {i}." for i in range(40))
    rows = [f"item: I{i} | price: {i}" for i in range(30)]
    text = prose + "\n\n" + "\n".join(rows) + "\n\nClosing remark after the table."
    document = Document("h", "mem://h.html", text, "html", row_spans=_row_spans(len(prose) + 2, rows))
    chunks = TableRowSplitter(RecursiveTokenSplitter(tokenizer, 60, 10)).chunk(document)
    assert_spans_round_trip(document, chunks)
    assert_no_text_lost(document, chunks)
    assert_sizes_and_overlap(chunks, tokenizer, 60, 10)
    for chunk in chunks:
        if "item: " in chunk.text:
            assert all(line.startswith("item: ") for line in chunk.text.split("\n"))
    assert chunks[-1].text == "Closing remark after the table."


def test_a_short_title_before_a_table_opens_its_first_chunk(tokenizer):
    title = "Consolidated Statement of Cash Flows\n\n(Millions) 2018 2017"
    rows = [f"Line item {i} | 2018: {i},000 | 2017: {i},500" for i in range(12)]
    text = title + "\n\n" + "\n".join(rows)
    document = Document("c", "mem://c.pdf", text, "pdf", row_spans=_row_spans(len(title) + 2, rows))
    chunks = TableRowSplitter(RecursiveTokenSplitter(tokenizer, 80, 10)).chunk(document)
    assert chunks[0].text.startswith(title + "\n\nLine item 0 |")  # not a chunk of the title alone
    assert len(chunks) > 1 and all(c.text.startswith("Line item") for c in chunks[1:])
    assert_no_text_lost(document, chunks)
    assert_sizes_and_overlap(chunks, tokenizer, 80, 0)


def test_auto_picks_by_document_shape(tokenizer):
    chunker = build_chunker(ChunkingConfig(context_header=False), EmbedderConfig(), tokenizer=tokenizer)
    assert isinstance(chunker, AutoChunker)
    plain = Document("p", "mem://p", "just text", "text")
    with_headings = Document("m", "mem://m", MARKDOWN, "markdown", outline=markdown_outline(MARKDOWN))
    assert chunker.select(plain).name == "recursive"
    assert chunker.select(with_headings).name == "headings"
    assert chunker.select(_table(3)).name == "table"
    for strategy in ("recursive", "headings", "table"):
        assert build_chunker(ChunkingConfig(strategy=strategy), EmbedderConfig(), tokenizer).name == strategy
