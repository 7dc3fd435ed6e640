"""PDF files: the layout-aware reader (pypdfium2, ``pdf_layout.py``) by default, or pypdf's
plain text, one block per page (``[ingest.pdf] parser = "pypdf"``). Page numbers are kept for
citations either way; pages without a text layer are recognised by OCR when configured."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

from ragtune.config import IngestConfig, PdfConfig
from ragtune.errors import LoadError
from ragtune.ingest.base import LoadResult, TextBuilder, file_document
from ragtune.ingest.files import SourceFile
from ragtune.ingest.pdf_lines import Line, Word
from ragtune.types import IngestError


class PdfLoader:
    name = "pdf"
    extensions = (".pdf",)
    mime_types = ("application/pdf",)

    def load(self, file: SourceFile, data: bytes, config: IngestConfig) -> LoadResult:
        if not data.lstrip()[:5] == b"%PDF-":
            raise LoadError("not a PDF: the file does not start with %PDF-")
        if config.pdf.parser == "pypdf":
            return _load_pypdf(file, data)
        return _load_layout(file, data, config.pdf)


def _load_layout(file: SourceFile, data: bytes, settings: PdfConfig) -> LoadResult:
    import pypdfium2 as pdfium

    from ragtune.ingest.pdf_layout import layout_text, read_pages

    _check_structure(data)
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise LoadError(_pdfium_reason(exc)) from None
    errors: list[IngestError] = []
    try:
        page_count = len(pdf)
        ocr_page = _ocr_reader(settings) if settings.ocr != "off" else None
        pages = read_pages(
            pdf, ocr_page, settings.ocr, settings.ocr_min_chars,
            lambda number, exc: errors.append(IngestError(file.uri, f"page unreadable: {exc}", f"page {number}")),
        )
        title = _pdfium_title(pdf)
    finally:
        pdf.close()
    result = layout_text(pages)
    text = result.builder.text()
    if not text.strip():
        hint = "set [ingest.pdf] ocr = \"auto\" to recognise scanned pages" if settings.ocr == "off" else (
            "OCR found no text either")
        raise LoadError(f"no extractable text in {page_count} page(s): a scanned PDF? ({hint})")
    metadata: dict[str, object] = {"pages": page_count, "parser": "layout", "tables": result.tables}
    if result.ocr_pages:
        metadata["ocr_pages"] = result.ocr_pages
    if title:
        metadata["title"] = title
    document = file_document(
        file, text, "pdf", metadata=metadata, page_starts=result.builder.page_starts,
        outline=result.builder.outline, row_spans=result.builder.row_spans,
    )
    return LoadResult([document], errors)


def _check_structure(data: bytes) -> None:
    """pdfium repairs what it can, silently; pypdf's structural read names what is wrong with a
    damaged or locked file, so errors read the same whichever parser is configured."""
    _open_pypdf(data)


def _pdfium_reason(exc: Exception) -> str:
    message = str(exc)
    if "password" in message.lower():
        return "encrypted PDF: a password is required to read it"
    return f"corrupt or unreadable PDF: {message}"


def _pdfium_title(pdf: object) -> str | None:
    try:
        title = pdf.get_metadata_dict().get("Title")  # type: ignore[attr-defined]
    except Exception:
        return None
    return " ".join(str(title).split()) or None if title else None


def _ocr_reader(settings: PdfConfig) -> Callable[[object], list[Line]]:
    """Pages to OCR lines; the engine loads once, on the first page that needs it."""
    def read(page: object) -> list[Line]:
        from ragtune.ingest.pdf_ocr import recognise_page

        return [_ocr_line(item) for item in recognise_page(page, dpi=settings.ocr_dpi) if item.text.strip()]

    return read


def _ocr_line(item: object) -> Line:
    """An OCR text line as a layout line: words get positions in proportion to their length."""
    text, x0, x1 = item.text, item.x0, item.x1  # type: ignore[attr-defined]
    parts = text.split()
    total = max(1, sum(len(p) for p in parts) + len(parts) - 1)
    per_char = (x1 - x0) / total
    words, cursor = [], x0
    for part in parts:
        end = cursor + per_char * len(part)
        words.append(Word(part, cursor, end))
        cursor = end + per_char
    top, bottom = item.top, item.bottom  # type: ignore[attr-defined]
    return Line(words, top, bottom, size=(top - bottom) * 0.8, ocr=True)


def _open_pypdf(data: bytes):  # type: ignore[no-untyped-def]
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    # pypdf logs every recoverable oddity of real-world PDFs; they are not ours to print.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("encrypted PDF: a password is required to read it")
        pages = reader.pages
        len(pages)
    except LoadError:
        raise
    except FileNotDecryptedError:
        raise LoadError("encrypted PDF: a password is required to read it") from None
    except DependencyError as exc:
        raise LoadError(f"encrypted PDF needs an extra package to decrypt: {exc}") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError,
            NotImplementedError) as exc:
        raise LoadError(f"corrupt or unreadable PDF: {exc or type(exc).__name__}") from None
    return reader


def _load_pypdf(file: SourceFile, data: bytes) -> LoadResult:
    reader = _open_pypdf(data)
    pages = reader.pages
    page_count = len(pages)
    builder = TextBuilder()
    errors: list[IngestError] = []
    for number, page in enumerate(pages, start=1):
        builder.new_page()
        try:
            builder.paragraph(page.extract_text() or "")
        except Exception as exc:  # pypdf raises many types on damaged page streams
            errors.append(IngestError(file.uri, f"page unreadable: {exc}", f"page {number}"))
    text = builder.text()
    if not text.strip():
        raise LoadError(
            f"no extractable text in {page_count} page(s): a scanned PDF? (the pypdf parser has no OCR; "
            "use [ingest.pdf] parser = \"layout\")"
        )
    metadata: dict[str, object] = {"pages": page_count, "parser": "pypdf"}
    metadata.update(_info(reader))
    document = file_document(file, text, "pdf", metadata=metadata, page_starts=builder.page_starts)
    return LoadResult([document], errors)


def _info(reader: object) -> dict[str, str]:
    try:
        meta = reader.metadata  # type: ignore[attr-defined]
    except Exception:
        return {}
    if not meta:
        return {}
    out = {}
    for key, name in (("/Title", "title"), ("/Author", "author")):
        value = meta.get(key)
        if value:
            out[name] = str(value)
    return out
