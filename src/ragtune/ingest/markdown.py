"""Markdown files: YAML front matter becomes metadata (and may carry the access list)."""

from __future__ import annotations

import re
from typing import Any

from ragtune.config import IngestConfig
from ragtune.errors import LoadError
from ragtune.ingest.acl import access_from_mapping
from ragtune.ingest.base import LoadResult, file_document
from ragtune.ingest.files import SourceFile, decode_text, require_text
from ragtune.types import Heading

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")


class MarkdownLoader:
    name = "markdown"
    extensions = (".md", ".markdown", ".mdown", ".mkd")
    mime_types = ("text/markdown", "text/x-markdown")

    def load(self, file: SourceFile, data: bytes, config: IngestConfig) -> LoadResult:
        raw, encoding = decode_text(data)
        front, body = split_front_matter(raw)
        require_text(body, "document body")
        outline = markdown_outline(body)
        metadata: dict[str, Any] = {"encoding": encoding}
        metadata.update({k: v for k, v in front.items() if k not in _ACL_KEYS})
        if "title" not in metadata and outline:
            metadata["title"] = outline[0].title
        document = file_document(file, body, self.name, metadata=metadata, outline=outline)
        access = access_from_mapping(front, origin="front matter")
        if access is not None:
            document.access = access
        return LoadResult([document])


_ACL_KEYS = {"allowed_groups", "allowed_users"}


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter mapping, body). The body keeps its own offsets from its first character."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    import yaml

    try:
        front = yaml.safe_load(match.group(1) or "") or {}
    except yaml.YAMLError as exc:
        raise LoadError(f"front matter is not valid YAML: {exc}") from None
    if not isinstance(front, dict):
        raise LoadError("front matter must be a YAML mapping (key: value lines)")
    return {str(k): _plain(v) for k, v in front.items()}, text[match.end() :]


def _plain(value: Any) -> Any:
    """YAML dates and other objects become strings so metadata stays JSON-serialisable."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def markdown_outline(text: str) -> list[Heading]:
    """ATX (``# Title``) and setext (``Title`` over ``===``) headings outside code fences."""
    outline: list[Heading] = []
    fence: str | None = None
    offset = 0
    previous: tuple[int, str] | None = None  # (offset, line) where a paragraph began
    for line in text.split("\n"):
        fence_match = _FENCE.match(line)
        if fence is not None:
            if fence_match and fence_match.group(1)[0] == fence[0] and len(fence_match.group(1)) >= len(fence):
                fence = None
            previous = None
        elif fence_match:
            fence = fence_match.group(1)
            previous = None
        elif atx := _ATX.match(line):
            title = (atx.group(2) or "").strip()
            if title:
                outline.append(Heading(len(atx.group(1)), title, offset))
            previous = None
        elif previous is not None and (setext := _SETEXT.match(line)):
            level = 1 if setext.group(1)[0] == "=" else 2
            title = " ".join(text[previous[0] : offset].split())
            outline.append(Heading(level, title, previous[0]))
            previous = None
        elif line.strip() and not line.startswith(("    ", "\t", ">", "- ", "* ", "+ ")):
            previous = (offset, line) if previous is None else previous
        else:
            previous = None
        offset += len(line) + 1
    return outline
