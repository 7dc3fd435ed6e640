"""Which loader reads which file: by extension, then by MIME type, then by content."""

from __future__ import annotations

import io
import mimetypes
import zipfile

from ragtune.ingest.base import Loader
from ragtune.ingest.docx import DocxLoader
from ragtune.ingest.html import HtmlLoader
from ragtune.ingest.json_records import JsonlLoader, JsonLoader
from ragtune.ingest.markdown import MarkdownLoader
from ragtune.ingest.pdf import PdfLoader
from ragtune.ingest.tables import CsvLoader, XlsxLoader
from ragtune.ingest.text import TextLoader

LOADERS: tuple[Loader, ...] = (
    MarkdownLoader(),
    TextLoader(),
    HtmlLoader(),
    PdfLoader(),
    DocxLoader(),
    CsvLoader(),
    XlsxLoader(),
    JsonLoader(),
    JsonlLoader(),
)
_BY_EXTENSION = {ext: loader for loader in LOADERS for ext in loader.extensions}
_BY_MIME = {mime: loader for loader in LOADERS for mime in loader.mime_types}


def supported_extensions() -> list[str]:
    return sorted(_BY_EXTENSION)


def loader_for_name(name: str) -> Loader | None:
    """A loader chosen from the file name alone (extension, then the MIME type it implies)."""
    lowered = name.lower()
    for ext, loader in _BY_EXTENSION.items():
        if lowered.endswith(ext):
            return loader
    mime, _ = mimetypes.guess_type(lowered)
    return _BY_MIME.get(mime or "")


def loader_for_content(data: bytes) -> Loader | None:
    """Sniff files whose name says nothing: PDF magic, Office zip packages."""
    if data.lstrip()[:5] == b"%PDF-":
        return _BY_EXTENSION[".pdf"]
    if data[:4] == b"PK\x03\x04":
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return _BY_EXTENSION[".docx"]
        if "xl/workbook.xml" in names:
            return _BY_EXTENSION[".xlsx"]
    return None
