"""HTML files: the main text only, without navigation, scripts, styles or page chrome."""

from __future__ import annotations

from typing import Any

from ragtune.config import IngestConfig
from ragtune.errors import LoadError
from ragtune.ingest.base import LoadResult, TextBuilder, file_document, table_lines
from ragtune.ingest.files import SourceFile, decode_text

# Never content: code, styling, and the page furniture around the main text.
_DROP = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside",
         "form", "iframe", "svg", "canvas", "button", "select", "head")
_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu"}
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_BLOCKS = {"p", "div", "section", "article", "main", "li", "dd", "dt", "blockquote",
           "figcaption", "caption", "address", "details", "summary", "ul", "ol", "dl", "body"}


class HtmlLoader:
    name = "html"
    extensions = (".html", ".htm", ".xhtml")
    mime_types = ("text/html", "application/xhtml+xml")

    def load(self, file: SourceFile, data: bytes, config: IngestConfig) -> LoadResult:
        from bs4 import BeautifulSoup

        markup, encoding = decode_text(data)
        soup = BeautifulSoup(markup, "lxml")
        title = soup.title.get_text(" ", strip=True) if soup.title else None
        for tag in soup.find_all(_DROP):
            tag.decompose()
        for tag in soup.find_all(attrs={"role": True}):
            if not tag.decomposed and tag.get("role") in _DROP_ROLES:
                tag.decompose()
        for tag in soup.find_all(attrs={"hidden": True}):
            if not tag.decomposed:
                tag.decompose()
        root = soup.find("main") or soup.find("article") or soup.body or soup
        builder = TextBuilder()
        _walk(root, builder)
        text = builder.text()
        if not text.strip():
            raise LoadError("no text: the HTML has no visible main content")
        metadata: dict[str, Any] = {"encoding": encoding}
        if title:
            metadata["title"] = title
        return LoadResult(
            [
                file_document(
                    file, text, self.name, metadata=metadata,
                    outline=builder.outline, row_spans=builder.row_spans,
                )
            ]
        )


def _walk(node: Any, builder: TextBuilder) -> None:
    """Emit block-level text in document order; inline text is gathered into its block."""
    inline: list[str] = []

    def flush() -> None:
        if inline:
            builder.paragraph(" ".join("".join(inline).split()))
            inline.clear()

    for child in node.children:
        name = getattr(child, "name", None)
        if name is None:
            if type(child).__name__ in ("Comment", "Doctype", "Declaration", "ProcessingInstruction"):
                continue
            inline.append(str(child))
        elif name in _HEADINGS:
            flush()
            builder.heading(_HEADINGS[name], child.get_text(" ", strip=True))
        elif name == "pre":
            flush()
            builder.paragraph(child.get_text())
        elif name == "table":
            flush()
            builder.rows(_table_rows(child))
        elif name == "br":
            inline.append("\n")
        elif name in _BLOCKS:
            flush()
            _walk(child, builder)
        else:
            inline.append(child.get_text())
    flush()


def _table_rows(table: Any) -> list[str]:
    rows = [
        [cell.get_text(" ", strip=True) for cell in tr.find_all(["th", "td"])]
        for tr in table.find_all("tr")
    ]
    first_row = table.find("tr")
    return table_lines(rows, has_header=bool(first_row and first_row.find_all("th")))
