"""Writes sample_corpus/workshop/safety-handbook.pdf (two pages, fictional) with fpdf2.

The PDF is committed so `make run` needs no PDF writer; run this again after editing the text:
    .venv/bin/python examples/make_workshop_pdf.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fpdf import FPDF

PAGES = [
    (
        "Workshop safety handbook",
        "Everyone who enters the Northwind Cycles workshop in Rotterdam wears safety glasses and "
        "closed shoes. Hearing protection is required while the wheel press or the frame grinder runs. "
        "The first-aid kit and the eye-wash station hang next to the workshop entrance. "
        "Workshop opening hours for staff are 07:30 to 17:00 on weekdays.",
    ),
    (
        "Batteries and fire safety",
        "E-bike batteries are charged only in the fireproof charging cabinet in bay 3, never overnight "
        "and never unattended. A damaged or swollen battery goes into the sand-filled quarantine bin "
        "and is reported to the workshop lead the same day. A fire drill takes place on the first "
        "Monday of every quarter at 11:00.",
    ),
]


def main() -> None:
    pdf = FPDF()
    pdf.set_creation_date(dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc))  # same bytes every run
    pdf.set_title("Workshop safety handbook")
    for title, body in PAGES:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, body, new_x="LMARGIN", new_y="NEXT")
    out = Path(__file__).parent / "sample_corpus" / "workshop" / "safety-handbook.pdf"
    out.parent.mkdir(exist_ok=True)
    pdf.output(str(out))
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
