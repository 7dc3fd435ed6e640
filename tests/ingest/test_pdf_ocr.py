"""OCR of PDF pages without a text layer (ingest/pdf_ocr.py), on PDFs generated here: text drawn
into an image that is the page's only content, so every word must come from recognition."""

from __future__ import annotations

import io
import re
import sys
import threading
import time
import types
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from ragtune.errors import LoadError
from ragtune.ingest import pdf_ocr
from ragtune.ingest.pdf_ocr import OcrText, ocr_available, recognise_page

PAGE_W, PAGE_H = 612.0, 792.0  # US letter, points
IMAGE_DPI = 150
FONT_PT = 14
FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf",
         "/Library/Fonts/Arial.ttf", "C:/Windows/Fonts/arial.ttf")


@pytest.fixture(scope="module")
def engine_installed() -> None:
    pytest.importorskip("rapidocr_onnxruntime", reason="OCR extra not installed: pip install 'ragtune[ocr]'")


def font(size_pt: float) -> ImageFont.FreeTypeFont:
    size_px = round(size_pt * IMAGE_DPI / 72)
    for path in FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size_px)
    return ImageFont.load_default(size=size_px)  # scalable since Pillow 10.1


def image_pdf_bytes(pages: list[list[tuple[float, float, str]]], text_page: str | None = None) -> bytes:
    """One page per list of ``(x, y, text)``: x from the left, y the top of the text from the top
    of the page, in points; the text is pixels of an image, not a text layer. ``text_page``: a
    first page with a real text layer."""
    pdf = FPDF(unit="pt", format=(PAGE_W, PAGE_H))
    if text_page is not None:
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.set_xy(72, 72)
        pdf.multi_cell(400, 16, text_page)
    to_px = IMAGE_DPI / 72
    for lines in pages:
        image = Image.new("L", (round(PAGE_W * to_px), round(PAGE_H * to_px)), 255)
        draw = ImageDraw.Draw(image)
        for x, y, text in lines:
            draw.text((x * to_px, y * to_px), text, fill=0, font=font(FONT_PT), anchor="lt")
        png = io.BytesIO()
        image.save(png, "PNG")
        pdf.add_page()
        pdf.image(png, x=0, y=0, w=PAGE_W, h=PAGE_H)
    return bytes(pdf.output())


def image_pdf(pages: list[list[tuple[float, float, str]]]) -> pdfium.PdfDocument:
    return pdfium.PdfDocument(image_pdf_bytes(pages))


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def line_with(lines: list[OcrText], word: str) -> OcrText:
    found = [line for line in lines if word in words(line.text)]
    assert found, f"no recognised line has {word!r}: {[line.text for line in lines]}"
    return found[0]


UPPER_LEFT = (72, 120, "Quarterly revenue increased")
UPPER_RIGHT = (360, 117, "Payment terms")  # 3 pt higher than its left neighbour: the same row
LOWER = (72, 500, "The warehouse budget was approved")


@pytest.fixture(scope="module")
def scanned(engine_installed) -> tuple[pdfium.PdfPage, list[OcrText]]:
    doc = image_pdf([[LOWER, UPPER_RIGHT, UPPER_LEFT]])
    page = doc[0]
    assert page.get_textpage().count_chars() == 0, "the test page must have no text layer"
    return page, recognise_page(page, dpi=200)


def test_words_are_recognised(scanned):
    _, lines = scanned
    expected = words(" ".join(text for _, _, text in (UPPER_LEFT, UPPER_RIGHT, LOWER)))
    got = words(" ".join(line.text for line in lines))
    recall = len(expected & got) / len(expected)
    assert recall >= 0.8, f"recognised {sorted(got)}, missing {sorted(expected - got)}"
    assert all(line.text.strip() and 0.5 <= line.score <= 1 for line in lines)


def test_coordinates_are_pdf_points_from_the_bottom(scanned):
    page, lines = scanned
    assert page.get_size() == (PAGE_W, PAGE_H)
    for (x, y, _), word in ((UPPER_LEFT, "revenue"), (UPPER_RIGHT, "payment"), (LOWER, "warehouse")):
        line = line_with(lines, word)
        assert line.top > line.bottom and line.x1 > line.x0
        # pdfium's page space: y grows upwards, so the text's top is PAGE_H - y
        assert line.top == pytest.approx(PAGE_H - y, abs=FONT_PT * 0.6), line
        assert line.x0 == pytest.approx(x, abs=FONT_PT * 0.6), line
        assert line.top - line.bottom < FONT_PT * 2, line
    assert line_with(lines, "revenue").top > PAGE_H / 2 > line_with(lines, "warehouse").top


def test_reading_order_is_rows_top_down_then_left_to_right(scanned):
    _, lines = scanned
    order = [lines.index(line_with(lines, w)) for w in ("revenue", "payment", "warehouse")]
    # "Payment terms" sits higher than "Quarterly revenue", yet it is on the same row, to the right
    assert order == sorted(order), [line.text for line in lines]


def test_blank_page_gives_no_lines(engine_installed):
    doc = image_pdf([[]])
    assert recognise_page(doc[0]) == []


@pytest.mark.parametrize("change", ["none", "rotated", "cropped"])
def test_boxes_match_the_text_layer(engine_installed, change):
    """On a page that does have a text layer, OCR boxes land on pdfium's own character boxes,
    also when the page is displayed rotated or its crop box does not start at 0, 0."""
    pdf = FPDF(unit="pt", format=(PAGE_W, PAGE_H))
    pdf.add_page()
    pdf.set_font("Helvetica", size=FONT_PT)
    sentences = {(90, 150): "Shipping address confirmed today", (300, 640): "Second invoice overdue notice"}
    for (x, y), text in sentences.items():
        pdf.text(x, y, text)
    page = pdfium.PdfDocument(bytes(pdf.output()))[0]
    if change == "rotated":
        page.set_rotation(90)
    elif change == "cropped":
        page.set_cropbox(40, 30, 560, 760)
    lines = recognise_page(page, dpi=150)
    textpage = page.get_textpage()
    for word in ("address", "invoice"):
        searcher = textpage.search(word, match_case=False)
        start, count = searcher.get_next()
        boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
        left, bottom = min(b[0] for b in boxes), min(b[1] for b in boxes)
        right, top = max(b[2] for b in boxes), max(b[3] for b in boxes)
        line = line_with(lines, word)
        slack = FONT_PT / 2
        assert line.x0 - slack <= left and right <= line.x1 + slack, (line, (left, right))
        assert line.bottom - slack <= bottom and top <= line.top + slack, (line, (bottom, top))
        assert line.top - line.bottom < FONT_PT * 2, line


def test_engine_is_created_once_for_concurrent_callers(monkeypatch):
    created = []

    class FakeRapidOCR:
        def __init__(self, **kwargs):
            time.sleep(0.05)  # a window in which an unguarded second caller would create one too
            created.append(kwargs)

    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", types.SimpleNamespace(RapidOCR=FakeRapidOCR))
    monkeypatch.setattr(pdf_ocr, "_engine", None)
    barrier = threading.Barrier(4)
    engines = []

    def get() -> None:
        barrier.wait()
        engines.append(pdf_ocr._get_engine())

    threads = [threading.Thread(target=get) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(created) == 1 and len({id(e) for e in engines}) == 1 and len(engines) == 4
    assert 1 <= created[0]["intra_op_num_threads"] <= 4
    assert pdf_ocr._get_engine() is engines[0]


def test_missing_engine_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # makes its import fail
    monkeypatch.setattr(pdf_ocr, "_engine", None)
    assert ocr_available() is False
    page = pdfium.PdfDocument.new().new_page(PAGE_W, PAGE_H)
    with pytest.raises(LoadError) as info:
        recognise_page(page)
    assert str(info.value) == (
        "OCR needs rapidocr-onnxruntime: pip install 'ragtune[ocr]' (or set [ingest.pdf] ocr = \"off\")"
    )


def test_broken_engine_install_names_the_cause(monkeypatch):
    broken = types.ModuleType("rapidocr_onnxruntime")

    def fail(name: str):
        raise ImportError("libGL.so.1: cannot open shared object file", name="cv2")

    broken.__getattr__ = fail  # type: ignore[method-assign]
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", broken)
    monkeypatch.setattr(pdf_ocr, "_engine", None)
    with pytest.raises(LoadError, match=r"OCR needs rapidocr-onnxruntime.*importing it failed: libGL\.so\.1"):
        pdf_ocr._get_engine()


def test_ocr_available_when_installed(engine_installed):
    assert ocr_available() is True


# -- through the PDF loader: scanned pages are ingested, not refused ------------------------------

def _load_pdf(tmp_path: Path, data: bytes, ocr: str):
    from ragtune.config import IngestConfig
    from ragtune.ingest.files import SourceFile
    from ragtune.ingest.pdf import PdfLoader

    path = tmp_path / "scan.pdf"
    path.write_bytes(data)
    config = IngestConfig()
    config.pdf.ocr = ocr
    return PdfLoader().load(SourceFile(path), data, config)


def test_scanned_page_is_read_by_ocr_and_recorded(engine_installed, tmp_path):
    data = image_pdf_bytes([[UPPER_LEFT, LOWER]], text_page="A typed cover page about the warehouse.")
    [document] = _load_pdf(tmp_path, data, "auto").documents
    assert document.metadata["ocr_pages"] == [2]  # the typed page had a text layer: not recognised
    assert "typed cover page" in document.text
    expected = words(UPPER_LEFT[2] + " " + LOWER[2])
    found = words(document.text[document.page_starts[1]:])
    assert len(expected & found) >= 0.8 * len(expected), (expected, found)
    assert document.page_at(document.text.lower().index("warehouse budget")) == 2


def test_all_image_pdf_is_refused_only_when_ocr_is_off(engine_installed, tmp_path):
    data = image_pdf_bytes([[LOWER]])
    with pytest.raises(LoadError, match=r'no extractable text in 1 page\(s\).*ocr = "auto"'):
        _load_pdf(tmp_path, data, "off")
    [document] = _load_pdf(tmp_path, data, "auto").documents
    assert document.metadata["ocr_pages"] == [1] and "warehouse" in document.text.lower()
