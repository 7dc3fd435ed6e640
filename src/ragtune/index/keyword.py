"""Turning a user's question into keyword-search terms (an FTS5 query for the SQLite store).

Each word becomes a quoted term and the terms are OR-ed, so BM25 ranks by how many (and how rare)
query words a chunk holds, as Lucene-style engines do; quoting keeps FTS5 syntax characters in
user text (``-``, ``:``, ``*``, ``"``, ``AND``) from being read as operators.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
_FISCAL_YEAR = re.compile(r"\b(?:fy|cy)'?(\d{4}|\d{2})\b", re.IGNORECASE)
MAX_TERMS = 64


def with_years(text: str) -> str:
    """Analysts write "FY2022" or "FY22"; statements write "2022". The question keeps its words
    and gains the year, so a keyword search finds the column and the filing it names."""
    years = [y if len(y) == 4 else "20" + y for y in _FISCAL_YEAR.findall(text)]
    return f"{text} {' '.join(years)}" if years else text


def query_terms(text: str) -> list[str]:
    """The question's distinct words, lower-cased, at most ``MAX_TERMS`` (each backend ORs them)."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(with_years(text))))[:MAX_TERMS]


def fts_query(text: str) -> str | None:
    terms = query_terms(text)
    if not terms:
        return None
    return " OR ".join(f'"{t}"' for t in terms)
