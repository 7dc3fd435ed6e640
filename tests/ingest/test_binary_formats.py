"""PDF, DOCX and XLSX loaders on files generated here."""

from __future__ import annotations

import pytest

from ragtune.errors import LoadError
from ragtune.ingest.docx import DocxLoader
from ragtune.ingest.files import SourceFile
from ragtune.ingest.pdf import PdfLoader
from ragtune.ingest.tables import CsvLoader, XlsxLoader
from tests import samples


def load(loader, path, config):
    return loader.load(SourceFile(path), path.read_bytes(), config)


def test_pdf_keeps_page_numbers(tmp_path, ingest_config):
    path = samples.write_pdf(tmp_path / "p.pdf", ["Alpha page one.", "Beta page two.", "Gamma page three."])
    [doc] = load(PdfLoader(), path, ingest_config).documents
    assert doc.metadata["pages"] == 3
    for word, page in (("Alpha", 1), ("Beta", 2), ("Gamma", 3)):
        assert doc.page_at(doc.text.index(word)) == page


def test_pdf_with_empty_user_password_is_read(tmp_path, ingest_config):
    path = samples.write_pdf(tmp_path / "open.pdf", ["Readable after decryption."], password="")
    [doc] = load(PdfLoader(), path, ingest_config).documents
    assert "Readable after decryption." in doc.text


def test_encrypted_pdf_is_a_clear_error(tmp_path, ingest_config):
    path = samples.write_pdf(tmp_path / "locked.pdf", ["Secret."], password="s3cret")
    with pytest.raises(LoadError, match="encrypted PDF: a password is required"):
        load(PdfLoader(), path, ingest_config)


def test_truncated_pdf_is_a_clear_error(tmp_path, ingest_config):
    good = samples.write_pdf(tmp_path / "good.pdf", ["Some text."]).read_bytes()
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(good[:120])
    with pytest.raises(LoadError, match="PDF"):
        load(PdfLoader(), bad, ingest_config)


def test_docx_headings_paragraphs_and_tables(tmp_path, ingest_config):
    path = samples.write_docx(tmp_path / "h.docx", [
        ("h1", "Handbook"), ("p", "Welcome."), ("h2", "Prices"),
        ("table", [["Item", "Price"], ["Bike", "499"], ["Helmet", "59"]]), ("p", "After table."),
    ])
    [doc] = load(DocxLoader(), path, ingest_config).documents
    assert doc.text == "Handbook\n\nWelcome.\n\nPrices\n\nItem: Bike | Price: 499\nItem: Helmet | Price: 59\n\nAfter table."
    assert [(h.level, h.title) for h in doc.outline] == [(1, "Handbook"), (2, "Prices")]
    assert doc.heading_path_at(doc.text.index("Helmet")) == ("Handbook", "Prices")


def test_xlsx_rows_carry_headers_and_sheet_names(tmp_path, ingest_config):
    import datetime as dt

    path = samples.write_xlsx(tmp_path / "b.xlsx", {
        "Prices": [[None], ["sku", "price", "since"], ["A1", 9.5, dt.datetime(2026, 1, 2)], ["B2", 10.0, None]],
        "Empty": [],
        "Staff": [["name", "team"], ["Ana", "hr"]],
    })
    [doc] = load(XlsxLoader(), path, ingest_config).documents
    lines = doc.text.split("\n")
    assert lines[0] == "sku: A1 | price: 9.5 | since: 2026-01-02"
    assert lines[1] == "sku: B2 | price: 10"
    assert "name: Ana | team: hr" in doc.text
    assert doc.metadata["sheets"] == ["Prices", "Staff"]
    assert doc.heading_path_at(doc.text.index("Ana")) == ("Staff",)
    assert len(doc.row_spans) == 3


def test_csv_sniffs_delimiter_and_handles_ragged_rows(tmp_path, ingest_config):
    path = tmp_path / "semi.csv"
    path.write_text("name;team;;name\nAna;hr;x;dup\nBo;sales\n")
    [doc] = load(CsvLoader(), path, ingest_config).documents
    assert doc.text.split("\n") == ["name: Ana | team: hr | column_3: x | name_2: dup", "name: Bo | team: sales"]
    assert doc.metadata["columns"] == ["name", "team", "column_3", "name_2"]


def test_csv_with_only_a_header_is_an_error(tmp_path, ingest_config):
    path = tmp_path / "h.csv"
    path.write_text("a,b,c\n")
    with pytest.raises(LoadError, match="no data rows"):
        load(CsvLoader(), path, ingest_config)
