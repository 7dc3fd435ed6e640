"""Tables on a PDF page, found by position: rows of a label and right-aligned numbers.

Financial statements rarely draw ruling lines, so line-based table finders (pdfplumber's) cut
them into one-row fragments. What they always have is a label on the left and figures in
columns on the right, under column headers ("2022", "December 31, 2021", "Three Months
Ended June 30, 2023"). A row is rendered as the other table loaders render theirs, every value
with its column name::

    Net sales | 2022: 34,229 | 2021: 35,355 | 2020: 32,184

so "net sales 2022" and "34,229" land in one chunk, near each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragtune.ingest.pdf_lines import Line, Word

_NUMBER = r"[-–—+]?[$€£¥]?\(?[-–—+]?[$€£¥]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\)?(?:%|x|pts|bps)?\)?"
VALUE = re.compile(rf"^(?:{_NUMBER}|[-–—]+|n/?[am]|nm)$", re.IGNORECASE)
_AFFIX = {"$", "€", "£", "¥", "%", "(", ")", "x", "pts", "bps", "%)"}
_YEAR = re.compile(r"^\(?(?:19|20)\d{2}\)?$")
_MAX_LABEL_WORDS = 14
WIDE_GAP = 1.2
"""A gap wider than this many font sizes separates columns (a word space is about a quarter)."""


Cell = Word
"""A value of a row: a word (or a currency sign and its number) with its horizontal extent."""


@dataclass(slots=True)
class Row:
    line: Line
    label: str
    cells: list[Cell]


def split_row(line: Line) -> Row:
    """A line as its leading label and its trailing values (currency signs and percent signs
    that stand apart join the number they belong to)."""
    words = line.words
    cells: list[Cell] = []
    i = len(words)
    while i > 0:
        word = words[i - 1]
        text = word.text
        if VALUE.match(text) and any(c.isdigit() or c in "-–—" for c in text) or text.lower() in {"n/a", "nm", "n/m"}:
            cells.append(Cell(text, word.x0, word.x1))
        elif text in _AFFIX and cells and text not in {"%", "x", "pts", "bps", "%)", ")"}:
            cells[-1] = Cell(text + cells[-1].text if text != "(" else "(" + cells[-1].text, word.x0, cells[-1].x1)
        elif text in {"%", "x", "pts", "bps", ")", "%)"} and i - 2 >= 0 and VALUE.match(words[i - 2].text):
            prev = words[i - 2]
            cells.append(Cell(prev.text + text, prev.x0, word.x1))
            i -= 1
        else:
            break
        i -= 1
    cells.reverse()
    label = " ".join(w.text for w in words[:i])
    return Row(line, label, cells)


def is_row(row: Row) -> bool:
    """A table row, not prose that happens to end in a number: its figures stand apart from the
    label (a gap wider than the font size, where a word space is a quarter of it), the label is
    short, and a lone figure stands far apart (four times the font size)."""
    if not row.cells or len(row.label.split()) > _MAX_LABEL_WORDS:
        return False
    if _all_years(row.cells):
        return False  # "(Millions) 2018 2017 2016" is a header
    gap_needed = WIDE_GAP * row.line.size
    if not row.label:
        return len(row.cells) >= 2 and _spread(row.cells, gap_needed)
    label_end = _label_end(row)
    first = row.cells[0]
    if first.x0 - label_end < gap_needed:
        return False
    return len(row.cells) >= 2 or first.x0 - label_end > 4 * row.line.size


def _label_end(row: Row) -> float:
    count = len(row.label.split())
    return row.line.words[count - 1].x1 if count else row.line.x0


def _spread(cells: list[Cell], gap: float) -> bool:
    return all(b.x0 - a.x1 >= gap for a, b in zip(cells, cells[1:]))


def _all_years(cells: list[Cell]) -> bool:
    return all(_YEAR.match(c.text) for c in cells)


def is_header(row: Row) -> bool:
    """Column headers: short phrases, or years, none a figure with a thousands separator."""
    line = row.line
    if len(line.words) > 24 or line.text.endswith("."):
        return False
    return not row.cells or _all_years(row.cells)


@dataclass(slots=True)
class Column:
    x0: float
    x1: float
    name: str = ""


def columns_of(rows: list[Row], size: float) -> list[Column]:
    """Cluster the rows' cells by right edge (figures are right-aligned)."""
    cells = sorted((c for r in rows for c in r.cells), key=lambda c: c.x1)
    columns: list[Column] = []
    tolerance = max(2.0, 0.9 * size)
    for cell in cells:
        if columns and cell.x1 - columns[-1].x1 <= tolerance:
            column = columns[-1]
            column.x0 = min(column.x0, cell.x0)
            column.x1 = max(column.x1, cell.x1)
        else:
            columns.append(Column(cell.x0, cell.x1))
    return columns


def _phrases(line: Line) -> list[tuple[str, float, float]]:
    """A header line cut at wide gaps into phrases: each phrase heads the columns under it."""
    out: list[list[Word]] = []
    for word in line.words:
        if out and word.x0 - out[-1][-1].x1 < WIDE_GAP * line.size:
            out[-1].append(word)
        else:
            out.append([word])
    return [(" ".join(w.text for w in ws), ws[0].x0, ws[-1].x1) for ws in out]


def name_columns(columns: list[Column], header: list[Line], size: float) -> None:
    """Give each column the header phrases above it, top line first. A phrase spanning several
    columns ("Three Months Ended") heads each of them; one over a single column heads that one."""
    if not columns:
        return
    parts: list[list[str]] = [[] for _ in columns]
    pad = 0.6 * size
    for line in header:
        for text, x0, x1 in _phrases(line):
            if x0 < columns[0].x0 - 4 * size:  # the stub ("(Millions)") or a title across the page
                continue
            covered = [i for i, c in enumerate(columns) if x0 - pad <= (c.x0 + c.x1) / 2 <= x1 + pad]
            if not covered:
                centre = (x0 + x1) / 2
                nearest = min(range(len(columns)), key=lambda i: abs((columns[i].x0 + columns[i].x1) / 2 - centre))
                column = columns[nearest]
                if x1 >= column.x0 - 2 * size and x0 <= column.x1 + 2 * size:
                    covered = [nearest]
            for i in covered:
                parts[i].append(text)
    for column, names in zip(columns, parts):
        column.name = " ".join(names)


def render(row: Row, columns: list[Column]) -> str:
    """``label | column: value | ...``; a value whose column has no header keeps only itself."""
    pieces = [row.label] if row.label else []
    for cell in row.cells:
        column = _column_for(cell, columns)
        name = column.name if column is not None else ""
        pieces.append(f"{name}: {cell.text}" if name else cell.text)
    return " | ".join(pieces)


def _column_for(cell: Cell, columns: list[Column]) -> Column | None:
    best, distance = None, float("inf")
    for column in columns:
        d = abs(column.x1 - cell.x1)
        if d < distance:
            best, distance = column, d
    return best


@dataclass(slots=True)
class Table:
    start: int
    """Index of the first row line in the page's lines."""
    end: int
    """One past the last line of the table."""
    rows: dict[int, str]
    """Line index -> rendered row text (section labels inside the table render as themselves)."""


def find_tables(lines: list[Line]) -> list[Table]:
    """Runs of table rows on one page, with the short label lines between them, each row
    rendered with the names of the column headers above the run."""
    parsed = [split_row(line) for line in lines]
    flags = [is_row(row) for row in parsed]
    tables: list[Table] = []
    i = 0
    while i < len(lines):
        if not flags[i]:
            i += 1
            continue
        j = i
        members: list[int] = []
        while j < len(lines):
            if flags[j]:
                members.append(j)
            elif not _inside_table_line(lines[j]):
                break
            j += 1
        # trailing label lines belong to what follows, not to this table
        end = members[-1] + 1
        if len(members) >= 2:
            tables.append(_table(lines, parsed, i, end, members))
        i = end
    return tables


def _inside_table_line(line: Line) -> bool:
    """Section labels ("Current assets:", "Cash Flows from Investing Activities") and wrapped
    labels may sit between rows; a sentence of prose ends the table."""
    words = len(line.words)
    return words <= _MAX_LABEL_WORDS and not (words > 6 and line.text.endswith("."))


def _table(lines: list[Line], parsed: list[Row], start: int, end: int, members: list[int]) -> Table:
    size = sorted(lines[k].size for k in members)[len(members) // 2]
    rows = [parsed[k] for k in members]
    columns = columns_of(rows, size)
    name_columns(columns, _header_lines(parsed, start, columns, size), size)
    rendered: dict[int, str] = {}
    pending_label: list[str] = []
    member = set(members)
    for k in range(start, end):
        if k in member:
            row = parsed[k]
            if pending_label and (not row.label or row.label[:1].islower()):
                row = Row(row.line, " ".join([*pending_label, row.label]).strip(), row.cells)
                rendered.pop(k - 1, None)
            pending_label = []
            rendered[k] = render(row, columns)
        else:
            rendered[k] = lines[k].text
            pending_label = [lines[k].text]
    return Table(start, end, rendered)


def _header_lines(parsed: list[Row], start: int, columns: list[Column], size: float) -> list[Line]:
    """Header lines above the first row: lines with phrases over the value columns, skipping
    up to two section labels ("ASSETS", "Current assets:") between them and the rows. A line
    with figures (an earlier table's row) ends the search."""
    value_left = columns[0].x0 - 2 * size if columns else 0.0
    found: list[Line] = []
    skipped = 0
    k = start - 1
    while k >= 0 and start - k <= 8:
        line = parsed[k].line
        over_values = any(x0 >= value_left - 2 * size for _, x0, _ in _phrases(line))
        if not is_header(parsed[k]):
            break
        if over_values:
            found.append(line)
        elif found:
            break
        else:
            skipped += 1
            if skipped > 2:
                break
        k -= 1
    found.reverse()
    return found
