"""The layout-aware PDF reader: pages as paragraphs, headings and table rows (pypdfium2).

Per page: visual lines in reading order (``pdf_lines.py``), table rows rendered with their
column headers (``pdf_tables.py``), the rest grouped into paragraphs (hyphenated line breaks
joined). Across the document: lines repeated on most pages (running headers, footers, page
numbers) are dropped, and headings are recognised: a filing's "Item 7." and "PART II" (level
1), statement titles such as "CONSOLIDATED STATEMENTS OF CASH FLOWS" and text set clearly
larger than the body (level 2), short bold lines (level 3). Headings become the heading path
of every chunk under them, which is what the contextual chunk header reads.

Pages with no text layer go to OCR (``pdf_ocr.py``) as ``[ingest.pdf] ocr`` says.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ragtune.ingest.base import TextBuilder
from ragtune.types import Heading
from ragtune.ingest.pdf_lines import SOFT_HYPHEN, Line, page_lines, running_key
from ragtune.ingest.pdf_tables import Table, find_tables

_ITEM = re.compile(r"^(?:part\s+[ivx]+\b|item\s+\d{1,2}[a-c]?\b)", re.IGNORECASE)
_STATEMENT = re.compile(
    r"^(?:(?:condensed|unaudited|interim)\s+)*(?:(?:consolidated|combined)\s+)?"
    r"(?:statements?\s+of\s+[a-z’'“”\s,()&-]+|balance\s+sheets?(?:\s*[a-z’'\s,()&-]*)?)$"
    r"|^notes\s+to\s+(?:the\s+)?(?:condensed\s+)?(?:consolidated\s+)?(?:financial\s+statements)",
    re.IGNORECASE,
)
_ENDS_WITH_YEARS = re.compile(r"(?:19|20)\d{2}\s+(?:19|20)\d{2}$")
_TRAILING_PAGE = re.compile(r"(?:\.{2,}|\s)\s*\d{1,3}$")


@dataclass(slots=True)
class PageText:
    lines: list[Line]
    ocr: bool = False


@dataclass(slots=True)
class LayoutResult:
    builder: TextBuilder
    ocr_pages: list[int] = field(default_factory=list)
    tables: int = 0


def read_pages(pdf: object, ocr_page: Callable[[object], list[Line]] | None, ocr_mode: str, min_chars: int,
               on_error: Callable[[int, Exception], None]) -> list[PageText]:
    """Lines of every page; a page that fails is reported through ``on_error`` and left empty."""
    pages: list[PageText] = []
    for number in range(len(pdf)):  # type: ignore[arg-type]
        page = textpage = None
        try:
            page = pdf[number]  # type: ignore[index]
            textpage = page.get_textpage()
            lines = page_lines(page, textpage)
            chars = sum(len(w.text) for line in lines for w in line.words)
            wants_ocr = ocr_mode == "always" or (ocr_mode == "auto" and chars < min_chars)
            if wants_ocr and ocr_page is not None:
                recognised = ocr_page(page)
                if recognised or ocr_mode == "always":
                    pages.append(PageText(recognised, ocr=True))
                    continue
            pages.append(PageText(lines))
        except Exception as exc:  # pdfium raises on damaged page objects; one page is not the file
            on_error(number + 1, exc)
            pages.append(PageText([]))
        finally:
            if textpage is not None:
                textpage.close()
            if page is not None:
                page.close()
    return pages


def drop_running_lines(pages: list[PageText]) -> None:
    """Mark lines repeated at the top or bottom of at least half the pages (3 or more)."""
    if len(pages) < 4:
        return
    seen: Counter[str] = Counter()
    for page in pages:
        keys = {running_key(line) for line in page.lines[:2] + page.lines[-2:]}
        seen.update(k for k in keys if k)
    threshold = max(3, len(pages) // 2)
    # A table's header line ("(Millions) # # #") repeats too, but it is content.
    repeated = {key for key, count in seen.items() if count >= threshold and key.count("#") < 3}
    for page in pages:
        ends = page.lines[:2] + page.lines[-2:]
        for line in ends:
            if running_key(line) in repeated:
                line.kind = "dropped"


def body_size(pages: list[PageText]) -> float:
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page.lines:
            sizes[round(line.size, 1)] += len(line.words)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def heading_level(line: Line, body: float, left: float = 0.0, width: float = 0.0) -> int | None:
    """The heading level of a line, or None. ``left`` is the page's text margin and ``width`` its
    text width: a bold phrase far to the right is a column header, not a heading."""
    text = line.text.strip()
    words = len(line.words)
    if words > 14 or not any(c.isalpha() for c in text) or _TRAILING_PAGE.search(text):
        return None
    if _ITEM.match(text) and (line.bold or text.isupper() or line.size >= 1.1 * body or words <= 8):
        return 1
    if _STATEMENT.match(text):
        return 2
    starts_like_title = text[0].isupper() or text[0].isdigit()
    if line.size >= 1.3 * body and words <= 12 and starts_like_title and not text.endswith((".", ",", ";")):
        return 2
    if (
        line.bold
        and words <= 10
        and (not width or line.x0 <= left + 0.3 * width)
        and not _ENDS_WITH_YEARS.search(text)
        and not text.endswith((".", ",", ";"))
        and starts_like_title
    ):
        return 3
    return None


def layout_text(pages: list[PageText]) -> LayoutResult:
    """The document's text: per page, headings, paragraphs and table rows as blocks."""
    drop_running_lines(pages)
    body = body_size(pages)
    result = LayoutResult(TextBuilder())
    builder = result.builder
    for number, page in enumerate(pages, start=1):
        builder.new_page()
        if page.ocr:
            result.ocr_pages.append(number)
        lines = [line for line in page.lines if line.kind != "dropped"]
        left = min((line.x0 for line in lines), default=0.0)
        width = max((line.x1 for line in lines), default=0.0) - left
        tables = find_tables(lines)
        result.tables += len(tables)
        starts = {t.start: t for t in tables}
        paragraph: list[Line] = []
        i = 0
        while i < len(lines):
            table = starts.get(i)
            if table is not None:
                _flush(builder, paragraph)
                paragraph = []
                _emit_table(builder, lines, table, body, left, width)
                i = table.end
                continue
            line = lines[i]
            level = heading_level(line, body, left, width)
            if level is not None:
                _flush(builder, paragraph)
                paragraph = []
                builder.heading(level, line.text)
            else:
                if paragraph and _breaks(paragraph[-1], line):
                    _flush(builder, paragraph)
                    paragraph = []
                paragraph.append(line)
            i += 1
        _flush(builder, paragraph)
    builder.outline[:] = _without_short_minor_sections(builder.outline, builder.length)
    return result


_MIN_MINOR_SECTION = 600
"""Characters a level-3 heading (a short bold line) must head to stay one: filings set many
line items in bold, and a heading per few lines would cut the text into chunks of a line or two
(no chunk crosses a heading). Shorter ones stay in the text as what they are, bold words."""


def _without_short_minor_sections(outline: list[Heading], length: int) -> list[Heading]:
    kept = []
    for i, heading in enumerate(outline):
        end = outline[i + 1].start if i + 1 < len(outline) else length
        if heading.level < 3 or end - heading.start >= _MIN_MINOR_SECTION:
            kept.append(heading)
    return kept


def _emit_table(builder: TextBuilder, lines: list[Line], table: Table, body: float, left: float, width: float) -> None:
    block: list[str] = []
    for k in range(table.start, table.end):
        text = table.rows.get(k)
        if text is None:
            continue
        line = lines[k]
        level = heading_level(line, body, left, width) if "|" not in text else None
        if level is not None:
            builder.rows(block)
            block = []
            builder.heading(level, text)
        else:
            block.append(text)
    builder.rows(block)


def _breaks(previous: Line, line: Line) -> bool:
    """Does ``line`` start a new paragraph after ``previous``?"""
    size = max(1.0, min(previous.size, line.size))
    if line.top > previous.top + 0.5 * size:  # moved up: the next column
        return True
    if previous.bottom - line.top > 0.6 * size:  # white space between them
        return True
    if abs(previous.size - line.size) > 0.2 * size or previous.bold != line.bold:
        return True
    return previous.text.endswith((".", ":", "!", "?")) and previous.x1 < line.x1 - 6 * size


def _flush(builder: TextBuilder, lines: list[Line]) -> None:
    if lines:
        builder.paragraph(join_lines([line.text for line in lines]))


def join_lines(texts: list[str]) -> str:
    """Lines of one paragraph as one string: a word broken at a line end by a hyphen is joined
    ("com-" + "pany" = "company"); other lines are joined by a space."""
    out = ""
    for text in texts:
        text = text.strip()
        if not text:
            continue
        if not out:
            out = text
        elif out.endswith(SOFT_HYPHEN):
            out = out[:-1] + text
        elif out.endswith("-") and len(out) > 1 and out[-2].isalpha() and text[:1].islower():
            out = out[:-1] + text
        else:
            out = out + " " + text
    return out.replace(SOFT_HYPHEN, "")
