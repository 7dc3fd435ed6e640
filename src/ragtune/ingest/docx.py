"""Word (.docx) files: paragraphs in order, Heading styles as the outline, tables row by row."""

from __future__ import annotations

import io
import re
import zipfile

from ragtune.config import IngestConfig
from ragtune.errors import LoadError
from ragtune.ingest.base import LoadResult, TextBuilder, file_document, table_lines
from ragtune.ingest.files import SourceFile

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


class DocxLoader:
    name = "docx"
    extensions = (".docx",)
    mime_types = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)

    def load(self, file: SourceFile, data: bytes, config: IngestConfig) -> LoadResult:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        try:
            document = docx.Document(io.BytesIO(data))
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise LoadError(f"not a valid DOCX file: {exc}") from None
        except Exception as exc:  # python-docx surfaces XML and package errors of many kinds
            raise LoadError(f"corrupt DOCX file: {type(exc).__name__}: {exc}") from None

        builder = TextBuilder()
        for block in document.iter_inner_content():
            if isinstance(block, Paragraph):
                style = (block.style.name if block.style is not None else "") or ""
                level = _heading_level(style)
                if level:
                    builder.heading(level, block.text)
                else:
                    builder.paragraph(block.text)
            elif isinstance(block, Table):
                builder.rows(table_lines([[cell.text for cell in row.cells] for row in block.rows]))
        text = builder.text()
        if not text.strip():
            raise LoadError("no text: the DOCX document is empty")
        props = document.core_properties
        metadata = {k: v for k, v in (("title", props.title), ("author", props.author)) if v}
        return LoadResult(
            [
                file_document(
                    file, text, self.name, metadata=metadata,
                    outline=builder.outline, row_spans=builder.row_spans,
                )
            ]
        )


def _heading_level(style: str) -> int:
    if style.lower() == "title":
        return 1
    match = _HEADING_STYLE.match(style.strip())
    return int(match.group(1)) if match else 0
