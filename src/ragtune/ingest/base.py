"""The ``Loader`` protocol: bytes of one file in, documents (and record-level errors) out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ragtune.config import IngestConfig
from ragtune.ingest.files import SourceFile
from ragtune.types import Document, Heading, IngestError, stable_id


@dataclass(slots=True)
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    """Failures of single records (a JSONL line, a SQL row); whole-file failures raise LoadError."""


class Loader(Protocol):
    name: str
    extensions: tuple[str, ...]
    mime_types: tuple[str, ...]

    def load(self, file: SourceFile, data: bytes, config: IngestConfig) -> LoadResult:
        """Parse one file. Raise ``LoadError`` when nothing usable can be extracted."""


def file_document(
    file: SourceFile,
    text: str,
    format: str,
    *,
    metadata: dict[str, Any] | None = None,
    page_starts: list[int] | None = None,
    outline: list[Heading] | None = None,
    row_spans: list[tuple[int, int]] | None = None,
) -> Document:
    """The single document of a file; its id depends only on the file's location."""
    return Document(
        id=stable_id("file", file.uri),
        source=file.uri,
        text=text,
        format=format,
        metadata={"file_name": file.path.name, **(metadata or {})},
        page_starts=page_starts or [],
        outline=outline or [],
        row_spans=row_spans or [],
    )


class TextBuilder:
    """Accumulates extracted text block by block, recording headings, pages and rows as offsets."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.outline: list[Heading] = []
        self.row_spans: list[tuple[int, int]] = []
        self.page_starts: list[int] = []

    @property
    def length(self) -> int:
        return self._length

    def _append(self, text: str) -> tuple[int, int]:
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        return start, self._length

    def paragraph(self, text: str) -> None:
        text = text.strip()
        if text:
            self._append(text)

    def heading(self, level: int, title: str) -> None:
        title = " ".join(title.split())
        if title:
            start, _ = self._append(title)
            self.outline.append(Heading(level=level, title=title, start=start))

    def rows(self, lines: list[str]) -> None:
        """Table rows as one block, one line each, every line recorded as an unsplittable row."""
        lines = [line for line in lines if line.strip()]
        if not lines:
            return
        start, _ = self._append("\n".join(lines))
        for line in lines:
            self.row_spans.append((start, start + len(line)))
            start += len(line) + 1

    def new_page(self) -> None:
        # The page starts where its first text will go (after the block separator).
        self.page_starts.append(self._length + (2 if self._parts else 0))

    def text(self) -> str:
        return "".join(self._parts)


def render_row(header: list[str], values: list[Any]) -> str:
    """One table row as ``column: value | column: value``; empty cells are left out."""
    pairs = []
    for i, value in enumerate(values):
        cell = format_cell(value)
        if not cell:
            continue
        name = header[i] if i < len(header) and header[i] else f"column_{i + 1}"
        pairs.append(f"{name}: {cell}")
    return " | ".join(pairs)


def table_lines(rows: list[list[str]], has_header: bool = True) -> list[str]:
    """Rows of an embedded table (HTML, DOCX) as text lines: with a header row, every other row
    as ``column: value`` pairs; without one, cells joined by `` | ``. Blank rows are dropped."""
    rows = [r for r in rows if any(c.strip() for c in r)]
    if has_header and len(rows) > 1:
        header = clean_header(rows[0])
        return [render_row(header, r) for r in rows[1:]]
    return [" | ".join(c for c in r if c) for r in rows]


def format_cell(value: Any) -> str:
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return " ".join(str(value).split())


def clean_header(cells: list[Any]) -> list[str]:
    """Column names: blanks become ``column_N``, duplicates get a numeric suffix."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells):
        name = format_cell(cell) or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names
