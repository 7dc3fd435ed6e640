"""Plain text files."""

from __future__ import annotations

from ragtune.config import IngestConfig
from ragtune.ingest.base import LoadResult, file_document
from ragtune.ingest.files import SourceFile, decode_text, require_text


class TextLoader:
    name = "text"
    extensions = (".txt", ".text", ".rst", ".log")
    mime_types = ("text/plain",)

    def load(self, file: SourceFile, data: bytes, config: IngestConfig) -> LoadResult:
        text, encoding = decode_text(data)
        require_text(text)
        return LoadResult([file_document(file, text, self.name, metadata={"encoding": encoding})])
