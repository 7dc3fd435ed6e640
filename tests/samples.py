"""Generators for test files of every supported format (the tests make their own corpora)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path


def write_pdf(path: Path, pages: list[str], *, password: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    if password is not None:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(str(path)))
        writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
        with path.open("wb") as fh:
            writer.write(fh)
    return path


def write_docx(path: Path, blocks: list[tuple[str, object]]) -> Path:
    """blocks: ("h1".."h3", text) headings, ("p", text) paragraphs, ("table", rows)."""
    import docx

    document = docx.Document()
    for kind, value in blocks:
        if kind.startswith("h"):
            document.add_heading(str(value), level=int(kind[1:]))
        elif kind == "p":
            document.add_paragraph(str(value))
        elif kind == "table":
            rows = value  # type: ignore[assignment]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = str(cell)
    document.save(str(path))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(str(path))
    return path


def write_jsonl(path: Path, records: list[object], *, raw_lines: dict[int, str] | None = None) -> Path:
    """One JSON value per line; ``raw_lines`` replaces given 1-based lines with raw text."""
    lines = [json.dumps(r) for r in records]
    for number, raw in (raw_lines or {}).items():
        lines[number - 1] = raw
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_sqlite(path: Path, rows: list[tuple[int, str, str, str]]) -> str:
    """A tickets table (id, subject, body, team); returns its SQLAlchemy URL."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, subject TEXT, body TEXT, team TEXT)")
        db.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?)", rows)
    return f"sqlite:///{path}"


HTML_PAGE = """<!doctype html>
<html><head><title>Travel policy</title><style>body {color: red}</style>
<script>var secret = "do not index";</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/hr">HR</a></nav>
<header><div>Site banner</div></header>
<main>
  <h1>Travel policy</h1>
  <p>Book trains for trips under <b>500 km</b>.</p>
  <h2>Expenses</h2>
  <p>Meals are refunded up to 40 EUR per day.</p>
  <table><tr><th>Item</th><th>Limit</th></tr><tr><td>Hotel</td><td>120 EUR</td></tr></table>
  <div hidden>hidden text</div>
</main>
<footer>Copyright Example Corp</footer>
</body></html>
"""
