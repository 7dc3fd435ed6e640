"""The shortest span of an answer candidate that answers the question.

Never a rewrite: the span is a slice of the candidate (numbers and units exactly as the source
writes them). The one addition is a table cell's unit taken from its column name
(``price_eur: 899`` answers "899 EUR"), because the cell alone does not say what it counts.

* A table row answers with the cell whose column name the question names (through a few
  everyday words: "cost" names a price column), leaving out the cells that only identify the row
  (the product the question already names). No named column: the whole row.
* A sentence or list item, when the question asks for an amount, count or date and the candidate
  states exactly one number the question does not: that number with the words that say what it
  counts ("up to 40 EUR per day", "27 days of paid annual leave"). Otherwise the candidate
  without the words at its ends that only restate the question ("rVSV vectors can be used to
  study neuronal circuitry" answers "What can be used to study neuronal circuitry?" with "rVSV
  vectors"); nothing inside is cut, since that could drop the condition that makes it true.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragtune.generate.answer_scorer import wants_number
from ragtune.generate.terms import STOP_WORDS, content_terms

# Everyday question words -> words found in column names.
_COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    "cost": ("price", "cost", "fee", "amount"),
    "much": ("price", "cost", "fee", "amount"),
    "pay": ("price", "fee", "salary", "amount"),
    "charge": ("price", "fee"),
    "expensive": ("price", "cost"),
    "cheap": ("price", "cost"),
    "guarantee": ("warranty",),
    "long": ("years", "year", "duration", "days", "months", "warranty"),
    "available": ("stock", "available", "availability"),
    "earn": ("salary", "pay"),
    "salary": ("salary", "pay"),
    "maximum": ("max", "maximum", "highest", "upper"),
    "highest": ("max", "maximum", "highest", "upper"),
    "most": ("max", "maximum"),
    "minimum": ("min", "minimum", "lowest", "lower"),
    "lowest": ("min", "minimum", "lowest", "lower"),
    "least": ("min", "minimum"),
    "bonus": ("bonus",),
    "who": ("name", "owner", "contact"),
    "when": ("date", "time", "day", "year"),
}
_UNITS = {
    "eur": "EUR", "euro": "EUR", "usd": "USD", "gbp": "GBP", "chf": "CHF", "sek": "SEK", "nok": "NOK",
    "years": "years", "year": "years", "months": "months", "weeks": "weeks", "days": "days", "hours": "hours",
    "minutes": "minutes", "kg": "kg", "g": "g", "km": "km", "m": "m", "cm": "cm", "mm": "mm", "pct": "%",
    "percent": "%", "kwh": "kWh", "wh": "Wh", "w": "W", "l": "l",
}
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|twenty|thirty|forty|"
    "fifty|sixty|hundred|thousand|million|billion|half"
)
_MODIFIER = (
    r"(?:(?:up to|at least|at most|no more than|more than|less than|fewer than|over|under|about|around|"
    r"approximately|nearly|almost|within|only|exactly|roughly|between)\s+)?"
)
_MENTION = re.compile(
    rf"(?<![\w.]){_MODIFIER}(?:[€$£]\s?)?(?:\d+(?:[.,:]\d+)*(?:\s?%)?|(?:{_NUMBER_WORDS})\b(?:[- ](?:{_NUMBER_WORDS})\b)*(?!-\w))",
    re.IGNORECASE,
)
_WORD = re.compile(r"(?:\s*|-)([^\W_]+(?:[-'][^\W_]+)*|%)", re.UNICODE)
"""A word after a number: spaced, or hyphenated to it ("10-year warranty", "30-day terms")."""
_KEEP = frozenset({"of", "per", "a", "an"})
_MOST_FOLLOWING = 5


@dataclass(frozen=True, slots=True)
class Cell:
    name: str
    value: str
    start: int
    end: int
    """The value's span in the row."""


def row_cells(row: str) -> list[Cell]:
    cells: list[Cell] = []
    position = 0
    for part in row.split(" | "):
        name, _, value = part.partition(": ")
        offset = position + len(name) + 2
        cells.append(Cell(name.strip(), value, offset, offset + len(value)))
        position += len(part) + 3
    return cells


def _name_terms(name: str) -> set[str]:
    return set(content_terms(name.replace("_", " ")))


def cell_answer(question: str, row: str) -> str | None:
    """The named cell of a table row with its unit, or None when the question names no column,
    or names two equally (a salary question over ``min_eur`` and ``max_eur``: the whole row)."""
    question_terms = set(content_terms(question))
    cells = row_cells(row)
    # Cells that only identify the row the question names ("Commuter 200 Belt") are not the answer,
    # and their words name no column ("Long Range" does not ask how long).
    identifying = [c for c in cells if (v := set(content_terms(c.value))) and len(v & question_terms) / len(v) >= 0.5]
    naming = question_terms - {t for c in identifying for t in content_terms(c.value)}
    wanted = set(naming)
    for word in naming:
        for column_word in _COLUMN_WORDS.get(word, ()):
            wanted.update(content_terms(column_word))
    scored: list[tuple[int, Cell]] = []
    numeric: list[Cell] = []
    for cell in cells:
        if cell in identifying:
            continue
        if any(t[:1].isdigit() for t in content_terms(cell.value)):
            numeric.append(cell)
        score = len(_name_terms(cell.name) & wanted)
        if score:
            scored.append((score, cell))
    top = max((score for score, _ in scored), default=0)
    named = [cell for score, cell in scored if score == top]
    if len(named) == 1:
        chosen: Cell | None = named[0]
    elif not named and len(numeric) == 1 and wants_number(question):
        chosen = numeric[0]
    else:
        chosen = None
    return with_unit(chosen.value, chosen.name) if chosen is not None else None


def with_unit(value: str, column: str) -> str:
    unit = _UNITS.get(re.split(r"[_\s]+", column.strip().lower())[-1])
    if unit is None or not re.fullmatch(r"[\d.,]+", value.strip()) or unit.lower() in value.lower():
        return value
    if value.strip() == "1" and unit.endswith("s"):
        unit = unit[:-1]  # "1 year", not "1 years"
    return f"{value}{unit}" if unit == "%" else f"{value} {unit}"


def number_phrase(question: str, text: str) -> tuple[int, int] | None:
    """The span of the one number ``text`` states that ``question`` does not, with what it counts."""
    question_terms = set(content_terms(question))
    phrases = [_phrase(text, m) for m in _MENTION.finditer(text) if not set(content_terms(m.group())) & question_terms]
    if len(phrases) > 1:
        # Several numbers: the one whose counted words the question names ("three days per week",
        # not "six months"), when exactly one is named more than the rest.
        shared = [len(set(content_terms(text[start:end])) & question_terms) for start, end in phrases]
        best = max(shared)
        phrases = [p for p, n in zip(phrases, shared) if n == best] if best else phrases
    return phrases[0] if len(phrases) == 1 else None


def _phrase(text: str, mention: re.Match[str]) -> tuple[int, int]:
    end, taken, closed = mention.end(), 0, False
    for word in _WORD.finditer(text, end):
        if word.start() != end:
            break
        token = word.group(1).lower()
        if taken >= _MOST_FOLLOWING or (token in STOP_WORDS and token not in _KEEP) or (closed and token not in _KEEP):
            break
        end, taken = word.end(), taken + 1
        # A unit or a plural noun ends what is counted, unless "of"/"per" goes on: "5 unused days"
        # (not "... days carry"), "40 EUR per day", "27 days of paid annual leave".
        closed = token in _UNITS or token == "%" or (len(token) > 3 and token.endswith("s") and not token.endswith("ss"))
    while text[:end].rsplit(None, 1)[-1].lower() in _KEEP:  # "27 days of" -> "27 days"
        end = text[:end].rstrip().rfind(" ")
    return mention.start(), end


WHEN = re.compile(r"\bwhen\b", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•‣▪]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+")


def shortest_answer(question: str, text: str, kind: str) -> str:
    """The answer to show for a candidate of ``kind`` (``row``, ``sentence`` or ``item``)."""
    if kind == "row":
        return cell_answer(question, text) or text
    body = _BULLET.sub("", text) if kind == "item" else text
    if wants_number(question) and not WHEN.search(question):  # a bare time would drop its day
        span = number_phrase(question, body)
        if span is not None:
            return body[span[0] : span[1]].strip()
    start, end = unrestated(question, body)
    return " ".join(body[start:end].split())


_TOKEN = re.compile(r"\S+")
_EDGE_PUNCT = ".,;:!?()[]\"'“”‘’"


_MIN_RESTATED = 2


def _restated_terms(tokens: list[re.Match[str]]) -> int:
    return len({t for token in tokens for t in content_terms(token.group())})


def unrestated(question: str, text: str) -> tuple[int, int]:
    """The span of ``text`` without the words at its ends that only restate the question (its
    content words and stop words): "rVSV vectors can be used to study the connectivity of
    neuronal circuitry" answers "What viruses can be used to study the connectivity of neuronal
    circuitry?" with "rVSV vectors". The whole text when nothing new would be left."""
    asked = set(content_terms(question))
    tokens = list(_TOKEN.finditer(text))

    def restates(token: re.Match[str]) -> bool:
        terms = content_terms(token.group().strip(_EDGE_PUNCT))
        return all(t in asked for t in terms)  # a stop word or punctuation has no terms: it restates nothing new

    first, last = 0, len(tokens)
    while first < last and restates(tokens[first]):
        first += 1
    while last > first and restates(tokens[last - 1]):
        last -= 1
    if first >= last:
        return 0, len(text)
    # One restated word may be the very condition that picks the answer ("... and at 180 EUR in
    # London"): an end is trimmed only when it restates at least two of the question's words.
    if _restated_terms(tokens[:first]) < _MIN_RESTATED:
        first = 0
    if _restated_terms(tokens[last:]) < _MIN_RESTATED:
        last = len(tokens)
    start, end = tokens[first].start(), tokens[last - 1].end()
    while end > start and text[end - 1] in ".,;:":  # "... bay 3, never unattended." -> no full stop
        end -= 1
    while start < end and text[start] in _EDGE_PUNCT:
        start += 1
    return start, end
