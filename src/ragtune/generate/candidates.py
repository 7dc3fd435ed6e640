"""Answer candidates: the pieces of a source an extractive answer can quote.

A chunk's text is cut into sentences, table rows and list items, each an exact character span of
the text (``text[start:end]`` is the candidate, so a quote can be highlighted in its document):

* a table row is a line of ``column: value | column: value`` pairs, as every table loader renders
  rows (``ingest.base.render_row``), and stays whole: its cells are what a question asks for;
* a list item (``- ``, ``* ``, ``• ``, ``1.``, ``a)``) is one candidate;
* prose is split into sentences at ``.``, ``!`` or ``?`` followed by a capital, digit or quote,
  except after abbreviations and initials; line breaks inside a paragraph (PDF text, wrapped
  Markdown) do not end a sentence, a blank line does;
* Markdown headings, front-matter fences and title lines (a short line without closing
  punctuation followed by a capitalised line, as PDF titles are) are not candidates: they name a
  topic, not a fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

CandidateKind = Literal["sentence", "row", "item"]

_LINE = re.compile(r"[^\n]*(?:\n|$)")
_CELL = re.compile(r"^[^|:\n]{1,80}: \S")
_ITEM = re.compile(r"^\s*(?:[-*•‣▪]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+\S")
_HEADING = re.compile(r"^\s{0,3}(?:#{1,6}\s|---\s*$|===\s*$)")
_END = re.compile(r"[.!?…]+[\"')\]]*(?=\s+[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    "e.g i.e etc vs cf al fig figs eq no nos dr mr mrs ms prof st approx ca resp incl dept inc ltd co corp jr sr"
    " jan feb mar apr jun jul aug sep sept oct nov dec".split()
)


@dataclass(frozen=True, slots=True)
class Candidate:
    start: int
    end: int
    kind: CandidateKind


def is_table_row(line: str) -> bool:
    """A rendered table row: ``name: value`` cells, more than one joined by `` | ``."""
    cells = line.strip().split(" | ")
    return len(cells) >= 2 and all(_CELL.match(cell) for cell in cells)


def split_candidates(text: str) -> list[Candidate]:
    candidates: list[Candidate] = []
    paragraph: tuple[int, int] | None = None

    def close_paragraph() -> None:
        nonlocal paragraph
        if paragraph is not None:
            candidates.extend(_sentences(text, *paragraph))
            paragraph = None

    for match in _LINE.finditer(text):
        start, end = match.start(), match.end()
        if start == end:
            break
        line = text[start:end].rstrip("\n")
        if not line.strip() or _HEADING.match(line):
            close_paragraph()
            continue
        kind: CandidateKind | None = "row" if is_table_row(line) else "item" if _ITEM.match(line) else None
        if kind is not None:
            close_paragraph()
            candidates.append(Candidate(*_strip(text, start, start + len(line)), kind))
            continue
        if paragraph is not None and _is_title(text[paragraph[0] : paragraph[1]]) and line.lstrip()[:1].isupper():
            paragraph = None  # a title line (PDF text has no heading marks) is not part of the sentence
        paragraph = (paragraph[0] if paragraph else start, start + len(line))
    close_paragraph()
    # A sentence-like candidate that is a title (no closing punctuation, a few words) names a topic.
    return [c for c in candidates if c.end > c.start and not (c.kind == "sentence" and _is_title(text[c.start : c.end]))]


def _is_title(line: str) -> bool:
    """A short line without closing punctuation, as PDF page and section titles are."""
    words = line.split()
    return "\n" not in line.strip() and 0 < len(words) <= 8 and len(line.strip()) <= 60 and line.rstrip()[-1] not in ".,;:!?"


def candidate_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every candidate of ``text``, in order."""
    return [(c.start, c.end) for c in split_candidates(text)]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _sentences(text: str, start: int, end: int) -> list[Candidate]:
    pieces: list[Candidate] = []
    cursor = start
    for match in _END.finditer(text, start, end):
        if _is_abbreviation(text, cursor, match.start()):
            continue
        span = _strip(text, cursor, match.end())
        pieces.append(Candidate(*span, "sentence"))
        cursor = match.end()
    span = _strip(text, cursor, end)
    if span[1] > span[0]:
        pieces.append(Candidate(*span, "sentence"))
    return pieces


def _is_abbreviation(text: str, start: int, dot: int) -> bool:
    """True when the ``.`` at ``dot`` ends an abbreviation or an initial, not a sentence."""
    if text[dot] != ".":
        return False
    word = text[start:dot].rsplit(None, 1)[-1] if text[start:dot].strip() else ""
    word = word.lstrip("(\"'[").lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())
