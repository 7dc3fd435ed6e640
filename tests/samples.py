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


def make_bad_corpus(folder: Path) -> tuple[dict[str, str], list[str]]:
    """A folder of broken inputs beside a few good ones.

    Returns ({bad file name: expected reason fragment}, [good file names]). Made here rather
    than checked in, so each case documents how it was broken.
    """
    import os

    folder.mkdir(parents=True, exist_ok=True)
    bad: dict[str, str] = {}

    good_pdf = write_pdf(folder / "_tmp.pdf", ["Real text."]).read_bytes()
    (folder / "_tmp.pdf").unlink()
    (folder / "truncated.pdf").write_bytes(good_pdf[:150])
    bad["truncated.pdf"] = "PDF"
    (folder / "not_a_pdf.pdf").write_text("just text pretending to be a PDF")
    bad["not_a_pdf.pdf"] = "not a PDF"
    write_pdf(folder / "encrypted.pdf", ["Confidential."], password="s3cret")
    bad["encrypted.pdf"] = "encrypted PDF: a password is required"
    write_pdf(folder / "scanned.pdf", [""])
    bad["scanned.pdf"] = "no extractable text"
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 40)
    bad["binary.txt"] = "binary content"
    (folder / "empty.md").write_bytes(b"")
    bad["empty.md"] = "empty file"
    (folder / "blank.txt").write_text("   \n\n\t  \n")
    bad["blank.txt"] = "only whitespace"
    with (folder / "huge.txt").open("wb") as fh:  # sparse: 200 MB on paper, nothing on disk
        fh.truncate(200 * 1024 * 1024)
    bad["huge.txt"] = "over the 100.0 MB limit"
    (folder / "all_bad.jsonl").write_text('{"text": "unterminated\n{oops}\n')
    bad["all_bad.jsonl"] = "no usable records"
    os.symlink(folder / "does-not-exist.md", folder / "dangling.md")
    bad["dangling.md"] = "broken symbolic link"
    (folder / "bad_yaml.md").write_text("---\ntitle: [unclosed\n---\n# Body\n")
    bad["bad_yaml.md"] = "front matter is not valid YAML"
    (folder / "zip_garbage.docx").write_bytes(b"PK\x03\x04" + os.urandom(300))
    bad["zip_garbage.docx"] = "DOCX"
    (folder / "text.docx").write_text("plain text with a docx name")
    bad["text.docx"] = "not a valid DOCX"
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04garbage")
    bad["broken.xlsx"] = "XLSX"
    (folder / "header_only.csv").write_text("sku,name,price\n")
    bad["header_only.csv"] = "no data rows"
    (folder / "syntax.json").write_text('{"text": "a",}')
    bad["syntax.json"] = "invalid JSON at line 1"
    (folder / "chrome_only.html").write_text("<html><body><nav>Home</nav><script>x()</script></body></html>")
    bad["chrome_only.html"] = "no visible main content"
    (folder / "bad_acl.md").write_text("# Secret\n\nText.\n")
    (folder / "bad_acl.md.acl.json").write_text('{"allowed_groups": "hr"')
    bad["bad_acl.md"] = "access file"
    if os.geteuid() != 0:  # root reads any file, so this case only exists for ordinary users
        (folder / "locked.txt").write_text("secret")
        (folder / "locked.txt").chmod(0)
        bad["locked.txt"] = "permission denied"

    (folder / "good.md").write_text("# Good\n\nThis one is fine.\n")
    (folder / "latin1.txt").write_bytes("Café crème brûlée à la carte, déjà vu. Ça coûte 5 €.\n".encode("cp1252"))
    (folder / "partial.jsonl").write_text('{"text": "kept"}\n{broken\n{"text": "also kept"}\n')
    (folder / "notes.xyz").write_text("unsupported extension: skipped, not failed")
    good = ["good.md", "latin1.txt", "partial.jsonl"]
    return bad, good
