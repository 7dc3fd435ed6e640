"""The layout-aware PDF reader on PDFs drawn here with fpdf2: tables, columns, hyphens, headings."""

from __future__ import annotations

import pytest

from ragtune.chunk.factory import build_chunker
from ragtune.config import ChunkingConfig, EmbedderConfig, IngestConfig
from ragtune.errors import LoadError
from ragtune.ingest.files import SourceFile
from ragtune.ingest.pdf import PdfLoader
from ragtune.ingest.pdf_layout import join_lines
from tests import samples

LEFT = (
    "The left column opens the article. Solar output in the northern region rose by a third "
    "over the year, while the grid operator added two storage sites near the coast."
)
RIGHT = (
    "The right column continues it. Maintenance crews replaced forty inverters and the "
    "operator expects a further rise once the storage sites are connected next spring."
)
STATEMENT = [
    ("Net sales", "34,229", "35,355", "32,184"),
    ("Cost of sales", "(19,232)", "(18,795)", "(16,682)"),
    ("Operating income", "6,539", "7,369", "6,174"),
    ("Total net sales", "$ 34,229", "$ 35,355", "$ 32,184"),
]


def _pdf():
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    return pdf


def _load(path, **pdf_settings):
    config = IngestConfig()
    for key, value in pdf_settings.items():
        setattr(config.pdf, key, value)
    result = PdfLoader().load(SourceFile(path), path.read_bytes(), config)
    [document] = result.documents
    return document


def write_statement(path, pages: int = 1):
    pdf = _pdf()
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("helvetica", "B", 16)
        pdf.set_xy(20, 20)
        pdf.cell(170, 8, "CONSOLIDATED STATEMENTS OF OPERATIONS" if page == 0 else "Notes to the statements")
        pdf.set_font("helvetica", "", 10)
        pdf.set_xy(20, 32)
        pdf.cell(80, 6, "(Millions)")
        for x, year in ((110, "2022"), (140, "2021"), (170, "2020")):
            pdf.set_xy(x, 32)
            pdf.cell(25, 6, year, align="R")
        for i, (label, *values) in enumerate(STATEMENT):
            y = 40 + 7 * i
            pdf.set_xy(20, y)
            pdf.cell(80, 6, label)
            for x, value in zip((110, 140, 170), values):
                pdf.set_xy(x, y)
                pdf.cell(25, 6, value, align="R")
        pdf.set_xy(20, 80)
        pdf.multi_cell(170, 5, "Net sales decreased in 2022 because of lower volumes in the consumer segment, as the table above shows.")
        pdf.set_xy(20, 280)
        pdf.cell(170, 5, f"Example Corp annual report {page + 1}", align="C")
    pdf.output(str(path))
    return path


def test_table_rows_carry_their_column_headers(tmp_path):
    document = _load(write_statement(tmp_path / "statement.pdf"))
    lines = document.text.split("\n")
    assert "Net sales | 2022: 34,229 | 2021: 35,355 | 2020: 32,184" in lines
    assert "Cost of sales | 2022: (19,232) | 2021: (18,795) | 2020: (16,682)" in lines
    assert "Total net sales | 2022: $34,229 | 2021: $35,355 | 2020: $32,184" in lines  # the total row, $ joined
    rows = [document.text[s:e] for s, e in document.row_spans]
    assert len(rows) == 4 and all(" | 2020: " in row for row in rows)
    assert "Net sales decreased in 2022 because of lower volumes" in document.text  # prose stays prose
    assert document.metadata["parser"] == "layout" and document.metadata["tables"] == 1


def test_statement_title_is_a_heading_and_heads_the_rows(tmp_path):
    document = _load(write_statement(tmp_path / "statement.pdf"))
    assert [(h.level, h.title) for h in document.outline][:1] == [(2, "CONSOLIDATED STATEMENTS OF OPERATIONS")]
    row = document.text.index("Operating income |")
    assert document.heading_path_at(row) == ("CONSOLIDATED STATEMENTS OF OPERATIONS",)


def test_running_footer_repeated_on_every_page_is_dropped(tmp_path):
    document = _load(write_statement(tmp_path / "report.pdf", pages=5))
    assert "Example Corp annual report" not in document.text
    assert document.text.count("Net sales | 2022: 34,229") == 5
    assert document.page_at(document.text.rindex("Net sales |")) == 5


def test_two_columns_read_left_then_right_whatever_the_drawing_order(tmp_path):
    pdf = _pdf()
    pdf.add_page()
    pdf.set_font("helvetica", "", 11)
    # The right column is drawn first: stream order is not reading order.
    pdf.set_xy(110, 30)
    pdf.multi_cell(80, 6, RIGHT)
    pdf.set_xy(20, 30)
    pdf.multi_cell(80, 6, LEFT)
    path = tmp_path / "columns.pdf"
    pdf.output(str(path))
    text = _load(path).text
    assert text.index("The left column opens") < text.index("The right column continues")
    # Lines of one column are joined into one paragraph, never interleaved with the other column.
    assert "near the coast." in text and "Solar output in the northern region rose by a third over the year" in text
    assert "operator expects a further rise once the storage sites are connected next spring." in text


def test_hyphenated_line_break_is_joined(tmp_path):
    pdf = _pdf()
    pdf.add_page()
    pdf.set_font("helvetica", "", 11)
    for i, line in enumerate(["The board approved the com-", "pany budget for next year and a well-", "known auditor."]):
        pdf.set_xy(20, 30 + 6 * i)
        pdf.cell(170, 6, line)
    path = tmp_path / "hyphen.pdf"
    pdf.output(str(path))
    text = _load(path).text
    assert "approved the company budget" in text
    assert "com-" not in text


def test_join_lines_keeps_real_hyphens_and_soft_ones_vanish():
    assert join_lines(["a state-", "of-the-art tool"]) == "a stateof-the-art tool"  # lowercase after: a line-end hyphen
    assert join_lines(["year-", "End review"]) == "year- End review"  # a capital after it: kept
    assert join_lines(["inter\u00ad", "national"]) == "international"


def test_the_pypdf_parser_stays_available(tmp_path):
    document = _load(write_statement(tmp_path / "statement.pdf"), parser="pypdf")
    assert document.metadata["parser"] == "pypdf"
    assert "Net sales" in document.text and " | 2022: " not in document.text


def test_encrypted_and_truncated_pdfs_are_clear_errors_with_the_layout_parser(tmp_path):
    locked = samples.write_pdf(tmp_path / "locked.pdf", ["Secret."], password="s3cret")
    with pytest.raises(LoadError, match="encrypted PDF: a password is required"):
        _load(locked)
    good = write_statement(tmp_path / "good.pdf").read_bytes()
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(good[: len(good) // 3])
    with pytest.raises(LoadError, match="PDF"):
        _load(bad)


def test_chunks_of_a_statement_get_a_contextual_header_and_cite_the_original(tmp_path, tokenizer):
    path = write_statement(tmp_path / "ACME_2022_10K.pdf")
    document = _load(path)
    chunker = build_chunker(ChunkingConfig(), EmbedderConfig(), tokenizer=tokenizer)
    chunks = chunker.chunk(document)
    table = next(c for c in chunks if "Net sales | 2022" in c.text)
    assert table.context == "ACME 2022 10K — CONSOLIDATED STATEMENTS OF OPERATIONS"
    assert table.embedding_text.startswith(table.context + "\n\n")
    assert document.text[table.start : table.end] == table.text and table.context not in table.text
    plain = build_chunker(ChunkingConfig(context_header=False), EmbedderConfig(), tokenizer=tokenizer).chunk(document)
    assert [c.text for c in plain] == [c.text for c in chunks] and all(c.context == "" for c in plain)
