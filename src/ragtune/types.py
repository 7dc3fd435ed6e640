"""Plain data that flows between ragtune's stages.

Every chunk remembers exactly where it came from (document, source, character span in the
document's extracted text, page, heading path) because citations later point at these spans:
``document.text[chunk.start:chunk.end] == chunk.text`` always holds.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field
from typing import Any

PUBLIC_GROUP = "public"
"""The group every principal belongs to and every document without an access list is shared with."""


def stable_id(*parts: object, length: int = 16) -> str:
    """A short deterministic id from its parts; the same parts always give the same id."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8"))
    return digest.hexdigest()[:length]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a user id and the groups the user belongs to.

    Every principal is implicitly in the ``public`` group, so public documents are visible to all.
    """

    user_id: str
    groups: frozenset[str] = frozenset()

    @property
    def effective_groups(self) -> frozenset[str]:
        return self.groups | {PUBLIC_GROUP}


@dataclass(frozen=True, slots=True)
class AccessList:
    """Who may see a document. Visible iff the user is listed or a group overlaps."""

    allowed_users: frozenset[str] = frozenset()
    allowed_groups: frozenset[str] = frozenset({PUBLIC_GROUP})
    origin: str = "default"
    """Where this list came from (sidecar, front matter, directory file, option, default): shown
    by ``ragtune inspect`` so users can see why a document is or is not visible."""

    def visible_to(self, principal: Principal) -> bool:
        return principal.user_id in self.allowed_users or bool(
            self.allowed_groups & principal.effective_groups
        )

    @classmethod
    def public(cls) -> AccessList:
        return cls(origin="default")


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading in a document's outline, starting at character ``start`` of the text."""

    level: int
    title: str
    start: int


@dataclass(slots=True)
class Document:
    """One unit of source content after extraction: its text plus what is known about its layout.

    ``page_starts[i]`` is the character offset where page ``i + 1`` begins; ``outline`` lists the
    headings (Markdown, HTML, DOCX, spreadsheet sheets); ``row_spans`` marks table rows, which the
    table splitter never cuts apart.
    """

    id: str
    source: str
    text: str
    format: str
    metadata: dict[str, Any] = field(default_factory=dict)
    access: AccessList = field(default_factory=AccessList.public)
    page_starts: list[int] = field(default_factory=list)
    outline: list[Heading] = field(default_factory=list)
    row_spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)

    def page_at(self, offset: int) -> int | None:
        """1-based page number containing character ``offset``; None for formats without pages."""
        if not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))

    def heading_path_at(self, offset: int) -> tuple[str, ...]:
        """Titles of the headings enclosing ``offset``, outermost first."""
        path: list[Heading] = []
        for heading in self.outline:
            if heading.start > offset:
                break
            while path and path[-1].level >= heading.level:
                path.pop()
            path.append(heading)
        return tuple(h.title for h in path)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a document small enough to embed, with its exact source location."""

    id: str
    document_id: str
    source: str
    text: str
    start: int
    end: int
    page: int | None = None
    page_end: int | None = None
    heading_path: tuple[str, ...] = ()
    token_count: int = 0
    context: str = ""
    """The contextual header (``chunk/context.py``): what document and section this chunk is
    from. Embedded and keyword-indexed before the text; never displayed or cited."""

    @property
    def embedding_text(self) -> str:
        """What is embedded (and whose hash keys vector reuse): the header, then the text."""
        return f"{self.context}\n\n{self.text}" if self.context else self.text

    @property
    def keyword_heading(self) -> str:
        """The heading field of the keyword index: the header, or else the heading path."""
        return self.context or " › ".join(self.heading_path)

    @staticmethod
    def make_id(document_id: str, start: int, end: int) -> str:
        """Deterministic: the same document span always gets the same chunk id."""
        return stable_id(document_id, start, end)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "document_id": self.document_id,
            **location_dict(self),
            "token_count": self.token_count,
            "text": self.text,
        }


def location_dict(span: Any) -> dict[str, Any]:
    """Where a chunk-like object (a ``Chunk``, a search hit) sits in its source, as JSON fields."""
    return {
        "source": span.source,
        "start": span.start,
        "end": span.end,
        "page": span.page,
        "page_end": span.page_end,
        "heading_path": list(span.heading_path),
    }


@dataclass(frozen=True, slots=True)
class IngestError:
    """Why one file (or one record inside a file) could not be ingested."""

    source: str
    reason: str
    record: str | None = None
    """Line number, row or field inside the source, when the failure is that narrow."""

    def __str__(self) -> str:
        where = f"{self.source}:{self.record}" if self.record else self.source
        return f"{where}: {self.reason}"
