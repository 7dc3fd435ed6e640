"""Turning a user's question into keyword-search terms (an FTS5 query for the SQLite store).

Each word becomes a quoted term and the terms are OR-ed, so BM25 ranks by how many (and how rare)
query words a chunk holds, as Lucene-style engines do; quoting keeps FTS5 syntax characters in
user text (``-``, ``:``, ``*``, ``"``, ``AND``) from being read as operators.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 64


def query_terms(text: str) -> list[str]:
    """The question's distinct words, lower-cased, at most ``MAX_TERMS`` (each backend ORs them)."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))[:MAX_TERMS]


def fts_query(text: str) -> str | None:
    terms = query_terms(text)
    if not terms:
        return None
    return " OR ".join(f'"{t}"' for t in terms)
