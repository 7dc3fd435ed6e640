"""PDF files via pypdf, one text block per page, page numbers kept for citations."""

from __future__ import annotations

import io
import logging

from ragtune.config import IngestConfig
from ragtune.errors import LoadError
from ragtune.ingest.base import LoadResult, TextBuilder, file_document
from ragtune.ingest.files import SourceFile
from ragtune.types import IngestError


class PdfLoader:
    name = "pdf"
    extensions = (".pdf",)
    mime_types = ("application/pdf",)

    def load(self, file: SourceFile, data: bytes, config: IngestConfig) -> LoadResult:
        from pypdf import PdfReader
        from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

        if not data.lstrip()[:5] == b"%PDF-":
            raise LoadError("not a PDF: the file does not start with %PDF-")
        # pypdf logs every recoverable oddity of real-world PDFs; they are not ours to print.
        logging.getLogger("pypdf").setLevel(logging.ERROR)
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise LoadError("encrypted PDF: a password is required to read it")
            pages = reader.pages
            page_count = len(pages)
        except LoadError:
            raise
        except FileNotDecryptedError:
            raise LoadError("encrypted PDF: a password is required to read it") from None
        except DependencyError as exc:
            raise LoadError(f"encrypted PDF needs an extra package to decrypt: {exc}") from None
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError,
                NotImplementedError) as exc:
            raise LoadError(f"corrupt or unreadable PDF: {exc or type(exc).__name__}") from None

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
                f"no extractable text in {page_count} page(s): a scanned PDF? (OCR is not supported)"
            )
        metadata: dict[str, object] = {"pages": page_count}
        info = _info(reader)
        metadata.update(info)
        document = file_document(
            file, text, self.name, metadata=metadata, page_starts=builder.page_starts
        )
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
