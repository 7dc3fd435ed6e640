"""Contextual chunk headers: every chunk says which document and section it is from.

A chunk of page 47 of a filing reads like page 47 of any other filing; to the embedder and to
BM25 they are interchangeable. Prefixing what the document is (its title, or its file name
made readable, with its type and period when the metadata says) and the chunk's heading path
("3M 2022 10K — Item 8 › Consolidated Statement of Income") lets a question that names the
company, the year or the statement find it. The header is only indexed: ``Chunk.text`` and the
spans that cite it are unchanged (``Chunk.context``, ``Chunk.embedding_text``).
"""

from __future__ import annotations

import dataclasses
import re

from ragtune.chunk.base import Chunker
from ragtune.types import Chunk, Document, stable_id

_MAX_CHARS = 200
_PERIOD_KEYS = ("doc_type", "document_type", "period", "doc_period", "fiscal_year", "date")
_PLACEHOLDER_TITLES = re.compile(r"^(untitled|microsoft word|document\d*|title|none|\W*)$|\.(docx?|pdf|rtf|indd)$", re.IGNORECASE)


_SERIAL_NAME = re.compile(r"^[^\W\d_]{3,} ?\d+$")
"""``context 0001``, ``scan0042``, ``page 3``: a name a batch of files was numbered with says
nothing about any one of them (measured: COVID-QA's numbered contexts lost context_hit with it)."""


def readable_name(file_name: str) -> str:
    """``3M_2018_10K.pdf`` -> ``3M 2018 10K``; ``travel-policy.md`` -> ``travel policy``."""
    stem = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    return " ".join(re.sub(r"[_\-.]+", " ", stem).split())


def _title(document: Document) -> str:
    title = str(document.metadata.get("title") or "").strip()
    if not title or _PLACEHOLDER_TITLES.search(title):
        return ""
    return " ".join(title.split())


def document_label(document: Document) -> str:
    """What the document is: title and/or readable file name, type and period when known.

    Documents that are records of a larger file (JSONL lines, SQL rows) are not named by that
    file: "corpus" would only make every record look alike."""
    parts: list[str] = []
    title = _title(document)
    whole_file = document.id == stable_id("file", document.source)
    name = readable_name(str(document.metadata.get("file_name", ""))) if whole_file else ""
    if _SERIAL_NAME.match(name):
        name = ""
    if title:
        parts.append(title)
    if name and name.lower() not in title.lower():
        parts.append(name)
    for key in _PERIOD_KEYS:
        value = document.metadata.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            text = str(value).strip()
            if len(text) <= 40 and text.lower() not in " ".join(parts).lower():
                parts.append(text)
    return ", ".join(parts)


def context_header(label: str, heading_path: tuple[str, ...]) -> str:
    """``label — heading › heading``, at most 200 characters (the innermost headings kept)."""
    path = " › ".join(heading_path[-3:])
    header = f"{label} — {path}" if label and path else label or path
    if len(header) > _MAX_CHARS:
        header = header[: _MAX_CHARS - 1].rstrip() + "…"
    return header


class ContextHeaderChunker:
    """Wraps a chunker: the same chunks, each with its contextual header set."""

    def __init__(self, inner: Chunker) -> None:
        self.inner = inner
        self.name = inner.name

    def chunk(self, document: Document) -> list[Chunk]:
        label = document_label(document)
        return [
            dataclasses.replace(chunk, context=context_header(label, chunk.heading_path))
            for chunk in self.inner.chunk(document)
        ]
