"""PDF parsers on FinanceBench's filings: speed (pages/s) and two text-quality counts.

    .venv/bin/python bench/pdf_parse.py                 # 8 filings, every parser
    .venv/bin/python bench/pdf_parse.py --files 38      # all of them

Parsers: ragtune's ``layout`` loader (pypdfium2) and ``pypdf`` loader as ingest runs them, plus
pdfplumber's ``extract_text`` and pypdfium2's plain text as the candidates the layout loader was
chosen among. Quality, per 1,000 words of output:

- ``broken``: words split by a stray space ("Cash Flow s", "Equit y", "F INANCIAL"): a single
  letter other than a/A/I glued by geometry to the word before it would have been one word;
  counted as one-letter lowercase tokens after a word, which real text almost never has;
- ``rows``: lines in which a figure sits on the same line as its column header's year
  (``2022: 34,229``): only a table-aware reader has them, so it counts rows kept with headers.

Data: ../shared/datasets/financebench-dev/pdfs (skips with a message when absent).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "financebench-dev" / "pdfs"
_BROKEN = re.compile(r"(?<=[a-z]{2}) (?!a\b)[a-z](?=[\s,;:)])")
_ROW_WITH_HEADER = re.compile(r"(?:19|20)\d{2}: \$?\(?\d")


def _ragtune(parser: str):
    from ragtune.config import IngestConfig
    from ragtune.ingest.files import SourceFile
    from ragtune.ingest.pdf import PdfLoader

    config = IngestConfig()
    config.pdf.parser = parser  # type: ignore[assignment]
    config.pdf.ocr = "off"

    def parse(path: Path) -> tuple[str, int]:
        [document] = PdfLoader().load(SourceFile(path), path.read_bytes(), config).documents
        return document.text, int(document.metadata["pages"])

    return parse


def _pdfplumber(path: Path) -> tuple[str, int]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages), len(pdf.pages)


def _pdfium_text(path: Path) -> tuple[str, int]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        texts = []
        for page in pdf:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return "\n".join(texts), len(pdf)
    finally:
        pdf.close()


PARSERS = {
    "ragtune layout (pypdfium2)": _ragtune("layout"),
    "ragtune pypdf": _ragtune("pypdf"),
    "pypdfium2 plain text": _pdfium_text,
    "pdfplumber extract_text": _pdfplumber,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=8, help="how many filings (alphabetical), default 8")
    parser.add_argument("--skip", action="append", default=[], help="leave out a parser (by the start of its name)")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found (FinanceBench dev PDFs, see ../shared/datasets/README.md)")
        return 0
    files = sorted(DATA.glob("*.pdf"))[: args.files]
    print(f"{len(files)} filings: {', '.join(f.stem for f in files)}\n")
    print(f"{'parser':<28} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'words':>9} {'broken/1k':>10} {'rows/1k':>8}")
    for name, parse in PARSERS.items():
        if any(name.startswith(s) for s in args.skip):
            continue
        pages = words = broken = rows = 0
        started = time.perf_counter()
        for path in files:
            text, count = parse(path)
            pages += count
            words += len(text.split())
            broken += len(_BROKEN.findall(text))
            rows += len(_ROW_WITH_HEADER.findall(text))
        seconds = time.perf_counter() - started
        per_k = 1000 / max(words, 1)
        print(f"{name:<28} {pages:>6} {seconds:>8.1f} {pages / seconds:>8.1f} {words:>9} "
              f"{broken * per_k:>10.2f} {rows * per_k:>8.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
