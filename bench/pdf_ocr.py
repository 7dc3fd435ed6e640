"""OCR throughput and word recall on generated scans (ingest/pdf_ocr.py): pages/s.

    python bench/pdf_ocr.py [--pages 10] [--dpi 200] [--font-pt 11] [--line-spacing 1.2]

Each US-letter page is one greyscale image (150 dpi, like an office scanner) of about 50 lines of
seeded random words in DejaVu Sans: no text layer, so every word comes from recognition. Recall
counts the drawn words (with repeats) that the recognised text contains, case-insensitively.
The engine's creation (model loading) is timed apart from the pages; so is the first page, whose
ONNX Runtime warm-up makes it slower than the others.
"""

from __future__ import annotations

import argparse
import io
import random
import re
import resource
import time
from collections import Counter
from pathlib import Path

PAGE_W, PAGE_H = 612.0, 792.0
IMAGE_DPI = 150
FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf")
VOCABULARY = (
    "the of and to in is for that with as on by this are be from at or an which patients study "
    "results data model revenue invoice payment contract employee leave policy section annual "
    "report quarter customer service delivery shipping warehouse budget approved department "
    "manager review request number total amount balance account period agreement terms notice "
    "including between during after before within under against clinical trial treatment "
    "infection analysis method sample group control increase decrease significant value"
).split()


def generate(pages: int, font_pt: float, spacing: float = 1.2, seed: int = 0) -> tuple[bytes, list[list[str]]]:
    from fpdf import FPDF
    from PIL import Image, ImageDraw, ImageFont

    to_px = IMAGE_DPI / 72
    path = next((p for p in FONTS if Path(p).is_file()), None)
    font = (ImageFont.truetype(path, round(font_pt * to_px)) if path
            else ImageFont.load_default(size=round(font_pt * to_px)))
    rng = random.Random(seed)
    pdf = FPDF(unit="pt", format=(PAGE_W, PAGE_H))
    drawn: list[list[str]] = []
    for _ in range(pages):
        image = Image.new("L", (round(PAGE_W * to_px), round(PAGE_H * to_px)), 255)
        draw = ImageDraw.Draw(image)
        page_words: list[str] = []
        y = 72.0
        while y < PAGE_H - 72:
            line = [rng.choice(VOCABULARY) for _ in range(rng.randint(7, 10))]
            draw.text((72 * to_px, y * to_px), " ".join(line).capitalize() + ".", fill=0, font=font)
            page_words += line
            y += font_pt * spacing
        png = io.BytesIO()
        image.save(png, "PNG")
        pdf.add_page()
        pdf.image(png, x=0, y=0, w=PAGE_W, h=PAGE_H)
        drawn.append(page_words)
    return bytes(pdf.output()), drawn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--dpi", type=int, default=200, help="render resolution for OCR ([ingest.pdf] ocr_dpi)")
    parser.add_argument("--font-pt", type=float, default=11)
    parser.add_argument("--line-spacing", type=float, default=1.2, help="baseline to baseline, in font sizes")
    args = parser.parse_args()

    import pypdfium2 as pdfium

    from ragtune.ingest import pdf_ocr

    data, drawn = generate(args.pages, args.font_pt, args.line_spacing)
    doc = pdfium.PdfDocument(data)
    started = time.perf_counter()
    pdf_ocr._get_engine()
    engine_s = time.perf_counter() - started

    seconds, found, total = [], 0, 0
    for page, expected in zip(doc, drawn):
        assert page.get_textpage().count_chars() == 0
        started = time.perf_counter()
        lines = pdf_ocr.recognise_page(page, dpi=args.dpi)
        seconds.append(time.perf_counter() - started)
        got = Counter(re.findall(r"[a-z]+", " ".join(line.text for line in lines).lower()))
        want = Counter(expected)
        found += sum((want & got).values())
        total += sum(want.values())

    rest = seconds[1:] or seconds
    print(f"pages {args.pages}, render {args.dpi} dpi, {args.font_pt:g} pt text at {args.line_spacing:g} spacing, "
          f"{pdf_ocr._THREADS} ONNX Runtime threads")
    print(f"engine start  {engine_s:.2f} s (import + model load)")
    print(f"first page    {seconds[0]:.2f} s")
    print(f"pages/s       {len(rest) / sum(rest):.3f}  ({sum(rest) / len(rest):.2f} s/page, pages 2..n)")
    print(f"pages/s all   {len(seconds) / sum(seconds):.3f}")
    print(f"word recall   {found / total:.4f}  ({found}/{total})")
    print(f"peak RSS      {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
