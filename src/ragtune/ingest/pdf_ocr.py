"""Text recognition for PDF pages that have no text layer (scans, photographed pages).

RapidOCR (PP-OCRv4 models run by ONNX Runtime) recognises the rendered page. Its models ship
inside the ``rapidocr-onnxruntime`` wheel, so nothing is downloaded: ingest works air-gapped.
The result is one :class:`OcrText` per recognised line, in the same coordinates as pdfium's text
layer, so the layout code can treat recognised lines like extracted ones.
"""

from __future__ import annotations

import importlib.util
import math
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragtune.errors import LoadError

if TYPE_CHECKING:
    import pypdfium2

MISSING_MESSAGE = (
    "OCR needs rapidocr-onnxruntime: pip install 'ragtune[ocr]' "
    '(or set [ingest.pdf] ocr = "off")'
)

# Longest side, in pixels, of the rendered page. RapidOCR would otherwise shrink anything over
# 2000 px itself (its max_side_len), silently overriding ocr_dpi (a letter page at 200 dpi is
# 2200 px high). 4000 px honours ocr_dpi up to about 360 on A4/letter and bounds the time and
# memory a huge page (a poster, a drawing) can take.
MAX_SIDE_PX = 4000

# How far detected line boxes are grown before recognition (RapidOCR's default is 1.6). Tighter
# crops make PP-OCRv4's recogniser drop the spaces of Latin text ("Servicedatamodel"): on a
# page of bench/pdf_ocr.py word recall rose from 0.63 (1.6) to 0.88 (2.0) and 0.95 (2.4).
# Boxes then reach about a fifth of the font size beyond the glyphs; at 1.2 line spacing
# neighbouring lines still fall into separate rows.
UNCLIP_RATIO = 2.4

# ONNX Runtime uses every core by default; ingest may run several of these per machine.
_THREADS = max(1, min(4, os.cpu_count() or 1))

_engine: Any = None
_engine_lock = threading.Lock()
# RapidOCR does not say its engine is thread-safe, so calls take turns; each one already uses
# _THREADS cores, so running two at once would gain little.
_call_lock = threading.Lock()


@dataclass(frozen=True)
class OcrText:
    """One recognised line. Coordinates are PDF points in pdfium's page space (origin at the
    bottom left, y growing upwards, so ``top > bottom``), like the text layer's characters. The
    box is the detector's, a little larger than the glyphs (see ``UNCLIP_RATIO``)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    score: float
    """RapidOCR's recognition confidence, 0 to 1 (lines under 0.5 are already dropped)."""


def ocr_available() -> bool:
    """Whether the OCR engine is installed, without importing it (half a second: OpenCV and
    ONNX Runtime). A broken install shows only when :func:`recognise_page` raises."""
    try:
        return importlib.util.find_spec("rapidocr_onnxruntime") is not None
    except ValueError:  # sys.modules holds None for it: imports of it are blocked
        return False


def recognise_page(page: pypdfium2.PdfPage, dpi: int = 200) -> list[OcrText]:
    """Render ``page`` at ``dpi`` (less for pages too large, see ``MAX_SIDE_PX``) and return
    its text lines in reading order: top to bottom, and left to right within a row, as the page
    is displayed (after its /Rotate); the coordinates are in page space all the same.

    Raises :class:`LoadError` when rapidocr-onnxruntime is not installed or cannot load.
    """
    engine = _get_engine()
    width, height = page.get_size()
    scale = min(dpi / 72, MAX_SIDE_PX / max(width, height, 1.0))
    bitmap = page.render(scale=scale)
    # pdfium renders BGR, the channel order RapidOCR expects of a numpy array (it converts
    # to BGR only the images it decodes itself), so the bitmap goes in as is.
    image = bitmap.to_numpy()
    with _call_lock:
        result, _elapsed = engine(image)
    if not result:  # None when nothing was detected
        return []
    to_page = bitmap.get_posconv(page).to_page
    lines = []
    for box, text, score in result:
        text = text.strip()
        if not text:
            continue
        xs = [p[0] for p in box]
        ys = [p[1] for p in box]
        lines.append((min(xs), max(xs), min(ys), max(ys), text, float(score)))
    return [_to_page_space(line, to_page) for line in _reading_order(lines)]


def _reading_order(lines: list[tuple]) -> list[tuple]:
    """Sort ``(x0, x1, y0, y1, ...)`` pixel boxes (y downwards) into rows, then by x.

    A line joins the current row when its vertical centre is within half the height of the row's
    first line from that line's centre; comparing with the first line (not the last added) keeps
    a slightly slanted scan from chaining two rows together.
    """
    rows: list[list[tuple]] = []
    anchor_centre = anchor_height = 0.0
    for line in sorted(lines, key=lambda line: (line[2] + line[3]) / 2):
        centre = (line[2] + line[3]) / 2
        if rows and abs(centre - anchor_centre) <= anchor_height / 2:
            rows[-1].append(line)
        else:
            rows.append([line])
            anchor_centre, anchor_height = centre, line[3] - line[2]
    return [line for row in rows for line in sorted(row, key=lambda line: line[0])]


def _to_page_space(line: tuple, to_page: Any) -> OcrText:
    """Map a pixel box to page space with pdfium's own inverse of the render (FPDF_DeviceToPage):
    it accounts for the page's rotation and for crop and media boxes not starting at 0, 0."""
    x0, x1, y0, y1, text, score = line
    corners = [to_page(math.floor(x0), math.floor(y0)), to_page(math.ceil(x1), math.ceil(y1))]
    xs = [c[0] for c in corners]
    ys = [c[1] for c in corners]
    return OcrText(text, min(xs), max(xs), max(ys), min(ys), score)


def _get_engine() -> Any:
    """The process's one RapidOCR engine: loading its three models takes about half a second,
    so it is created on first use and kept."""
    global _engine
    if _engine is not None:
        return _engine
    with _engine_lock:
        if _engine is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                if exc.name == "rapidocr_onnxruntime":
                    raise LoadError(MISSING_MESSAGE) from None
                # installed but broken, e.g. OpenCV without libGL.so.1
                raise LoadError(f"{MISSING_MESSAGE}; importing it failed: {exc}") from None
            try:
                # Models come from the wheel's models/ folder (the package's default config).
                _engine = RapidOCR(intra_op_num_threads=_THREADS, inter_op_num_threads=1,
                                   max_side_len=MAX_SIDE_PX, det_unclip_ratio=UNCLIP_RATIO)
            except Exception as exc:  # a model file missing from a damaged install, ORT errors
                raise LoadError(f"the OCR engine could not start: {exc}") from None
    return _engine
