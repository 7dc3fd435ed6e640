"""A PDF page as visual lines of positioned words, in reading order (pypdfium2).

pdfium decides where words end from the glyphs' positions, so text that PDF generators space
oddly ("Cash Flow s", "F INANCIAL") comes out whole, which pypdf's stream order does not. Each
word keeps its horizontal extent and each line its vertical one: table rows and their column
headers are then found by position (``pdf_tables.py``), headings by size and weight.

Coordinates are pdfium's: points, origin at the bottom left, ``top > bottom``.
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass, field

SOFT_HYPHEN = "\u00ad"


@dataclass(slots=True)
class Word:
    text: str
    x0: float
    x1: float


@dataclass(slots=True)
class Line:
    words: list[Word]
    top: float
    bottom: float
    size: float
    """Height of the line's glyph boxes: the font size, near enough, whatever the text matrix."""
    bold: bool = False
    ocr: bool = False
    kind: str = field(default="text")
    """``text``, or ``dropped`` once the layout pass finds it a running header or footer."""

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1


def page_lines(page: object, textpage: object) -> list[Line]:
    """The page's text lines, words whole, sorted into reading order (two columns detected)."""
    import pypdfium2.raw as pdfium_c

    raw = textpage.raw  # type: ignore[attr-defined]
    count = textpage.count_chars()  # type: ignore[attr-defined]
    if count <= 0:
        return []
    text = textpage.get_text_range()  # type: ignore[attr-defined]
    if len(text) != count:  # characters outside the BMP: map index by index instead
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(raw, i) or 32) for i in range(count))
    rect = pdfium_c.FS_RECTF()
    lines: list[Line] = []
    words: list[Word] = []
    chars: list[str] = []
    x0 = x1 = 0.0
    top, bottom, heights = -1e9, 1e9, 0.0
    glyphs = 0
    first = -1

    def end_word() -> None:
        nonlocal chars
        if chars:
            words.append(Word("".join(chars), x0, x1))
            chars = []

    def end_line() -> None:
        nonlocal words, top, bottom, heights, glyphs, first
        end_word()
        if words:
            bold = _is_bold(pdfium_c, raw, first)
            size = heights / max(glyphs, 1)
            lines.append(Line(_rejoined(words, size), top, bottom, size, bold))
        words, top, bottom, heights, glyphs, first = [], -1e9, 1e9, 0.0, 0, -1

    for i, ch in enumerate(text):
        if ch in "\r\n":
            end_line()
            continue
        if ch.isspace() or ch == "\x00":
            end_word()
            continue
        if not pdfium_c.FPDFText_GetLooseCharBox(raw, i, ctypes.byref(rect)):
            continue
        if words or chars:
            if rect.top < bottom:  # below the line so far: pdfium joined two lines
                end_line()
        if ch in "\x02\ufffe":  # pdfium's marks for a hyphen it found at a line end
            ch = SOFT_HYPHEN
        if not chars:
            x0 = rect.left
        if first < 0:
            first = i
        chars.append(ch)
        x1 = max(x1, rect.right) if len(chars) > 1 else rect.right
        top = max(top, rect.top)
        bottom = min(bottom, rect.bottom)
        heights += rect.top - rect.bottom
        glyphs += 1
    end_line()
    width = page.get_width()  # type: ignore[attr-defined]
    return merge_baselines(reading_order(lines, width))


def _rejoined(words: list[Word], size: float) -> list[Word]:
    """Rejoin words that a generator split with a space character of its own where it cuts off
    a single letter ("Equit y", "Incom e", "F INANCIAL"), which English words almost never are
    (``a``, ``A`` and ``I`` are kept apart). Gaps alone cannot tell: in bold type a real word
    space can be as narrow as these."""
    out = [words[0]]
    for word in words[1:]:
        last = out[-1]
        gap = word.x0 - last.x1
        near = gap < 0.35 * size
        letter = word.text.rstrip(",.;:)")
        tail = near and len(letter) == 1 and letter.islower() and letter not in "ai" and last.text[-1:].isalpha()
        head = (near and len(last.text) == 1 and last.text.isupper() and last.text not in "AI"
                and len(word.text) > 1 and word.text.isalpha() and word.text.isupper())
        if tail or head:
            out[-1] = Word(last.text + word.text, last.x0, word.x1)
        else:
            out.append(word)
    return out


def _is_bold(pdfium_c: object, raw: object, index: int) -> bool:
    if index < 0:
        return False
    if pdfium_c.FPDFText_GetFontWeight(raw, index) >= 600:  # type: ignore[attr-defined]
        return True
    buffer = ctypes.create_string_buffer(128)
    flags = ctypes.c_int(0)
    size = pdfium_c.FPDFText_GetFontInfo(raw, index, buffer, 128, ctypes.byref(flags))  # type: ignore[attr-defined]
    name = buffer.raw[: max(0, min(size, 128) - 1)].decode("latin-1").lower()
    return "bold" in name or "black" in name or "heavy" in name or bool(flags.value & 0x40000)


def same_baseline(a: Line, b: Line) -> bool:
    return abs(a.bottom - b.bottom) < 0.4 * max(1.0, min(a.size, b.size))


def _sorted_visually(lines: list[Line]) -> list[Line]:
    """Top to bottom; lines sharing a baseline left to right."""
    ordered = sorted(lines, key=lambda line: -line.top)
    rows: list[list[Line]] = []
    for line in ordered:
        if rows and same_baseline(rows[-1][0], line):
            rows[-1].append(line)
        else:
            rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda item: item.x0)]


def reading_order(lines: list[Line], width: float) -> list[Line]:
    """Sort lines for reading. A page whose prose sits in two columns is read column by column
    between the full-width lines (titles, tables) that separate its bands."""
    if not lines:
        return lines
    middle = width / 2
    left = [line for line in lines if line.x1 < middle]
    right = [line for line in lines if line.x0 > middle]
    if min(len(left), len(right)) < 3 or (len(left) + len(right)) < 0.6 * len(lines):
        return _sorted_visually(lines)
    out: list[Line] = []
    band: list[Line] = []
    for line in _sorted_visually(lines):
        if line.x0 < middle < line.x1:  # spans both columns: closes the band above it
            out.extend(_band(band, middle))
            band = []
            out.append(line)
        else:
            band.append(line)
    out.extend(_band(band, middle))
    return out


def _band(lines: list[Line], middle: float) -> list[Line]:
    return [line for line in lines if line.x1 < middle] + [line for line in lines if line.x1 >= middle]


def merge_baselines(lines: list[Line]) -> list[Line]:
    """Join neighbouring lines that sit on one baseline side by side (a table's label and its
    numbers are often separate text objects): one visual row is one line."""
    merged: list[Line] = []
    for line in lines:
        last = merged[-1] if merged else None
        if (
            last is not None
            and not last.ocr
            and same_baseline(last, line)
            and line.x0 >= last.x1 - 0.5
            and not _column_gap(last, line)
        ):
            last.words.extend(line.words)
            last.top = max(last.top, line.top)
            last.bottom = min(last.bottom, line.bottom)
            last.bold = last.bold and line.bold
            continue
        merged.append(line)
    return merged


def _column_gap(left: Line, right: Line) -> bool:
    """Two prose lines of two columns share baselines too; they are not one row. Both sides
    being several words of prose, with a gutter between, is the tell."""
    return len(left.words) >= 6 and len(right.words) >= 6 and not any(c.isdigit() for c in right.words[0].text)


_DIGITS = re.compile(r"\d+")


def running_key(line: Line) -> str:
    """Lines that repeat on most pages (running headers, footers, page numbers) compare equal
    under this key, whatever page number they carry."""
    return _DIGITS.sub("#", line.text.lower()).strip()
