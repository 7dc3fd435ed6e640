"""BM25 over PostgreSQL's full-text index, so keyword ranking means the same on both backends.

PostgreSQL's own ``ts_rank_cd`` has no inverse document frequency: a chunk that repeats a common
query word outranks one holding the rare word that matters. On SciFact (bench/RESULTS.md) it
scored nDCG@10 .416 against FTS5 BM25's .676, and pulled hybrid search below dense alone. Here
the candidates still come from the GIN index (``tsv @@ query``, the English stemmer), inside the
statement that applies the access condition; each is scored with Okapi BM25 (k1 1.2, b 0.75), the
term frequency read from the tsvector's positions (heading words count 0.3, as the SQLite store's
FTS5 weights), the length from ``n_terms``.

Document frequencies are counted over the whole index (as FTS5 does), one GIN count per query
word, and cached for ``STATS_SECONDS``: IDF moves slowly, and an exact count per query would cost
more than the search on a large index. Visibility never changes a score, only which chunks compete.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import psycopg

from ragtune.index.keyword import with_years

K1 = 1.2
B = 0.75
HEADING_WEIGHT = 0.3  # the tsvector's weight 'C' (heading); text is weight 'A'
STATS_SECONDS = 60.0

SCORE_SQL = """
SELECT c.chunk, sum(w.idf * u.tf * {k1_plus_1} / (u.tf + {k1} * (1 - {b} + {b} * c.n_terms / %s::float8))) AS score
FROM chunks c
CROSS JOIN LATERAL (
    SELECT x.lexeme, (SELECT sum(CASE wt WHEN 'C' THEN {heading} ELSE 1.0 END) FROM unnest(x.weights) AS wt) AS tf
    FROM unnest(c.tsv) AS x
) AS u
JOIN unnest(%s::text[], %s::float8[]) AS w(lexeme, idf) ON w.lexeme = u.lexeme
WHERE c.tsv @@ %s::tsquery AND {condition}
GROUP BY c.chunk
ORDER BY score DESC, c.chunk
LIMIT %s
"""


class TermStatistics:
    """Chunk count, mean length and per-word document frequency, refreshed every STATS_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._corpus: tuple[float, int, float] | None = None  # (fetched at, chunks, mean n_terms)
        self._df: dict[str, tuple[float, int]] = {}

    def corpus(self, conn: psycopg.Connection) -> tuple[int, float]:
        now = time.monotonic()
        with self._lock:
            if self._corpus is not None and now - self._corpus[0] < STATS_SECONDS:
                return self._corpus[1], self._corpus[2]
        chunks, mean = conn.execute("SELECT count(*), coalesce(avg(n_terms), 1) FROM chunks").fetchone()
        with self._lock:
            self._corpus = (now, int(chunks), max(float(mean), 1.0))
        return int(chunks), max(float(mean), 1.0)

    def idf(self, conn: psycopg.Connection, lexemes: list[str]) -> list[float]:
        chunks, _ = self.corpus(conn)
        now = time.monotonic()
        with self._lock:
            stale = [t for t in lexemes if t not in self._df or now - self._df[t][0] >= STATS_SECONDS]
        for lexeme in stale:
            df = conn.execute("SELECT count(*) FROM chunks WHERE tsv @@ %s::tsquery", (_quoted(lexeme),)).fetchone()[0]
            with self._lock:
                self._df[lexeme] = (now, int(df))
                if len(self._df) > 100_000:  # a long-running server sees many words: forget the oldest
                    for old in sorted(self._df, key=lambda t: self._df[t][0])[:50_000]:
                        del self._df[old]
        with self._lock:
            counts = [self._df[t][1] for t in lexemes]
        # BM25's IDF, kept positive (Lucene's form): a word in most chunks still counts a little.
        return [math.log(1 + (chunks - df + 0.5) / (df + 0.5)) for df in counts]


def _quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def query_lexemes(conn: psycopg.Connection, text: str) -> list[str]:
    """The question's words as the index stores them: English-stemmed, stop words dropped."""
    row = conn.execute("SELECT tsvector_to_array(to_tsvector('english', %s))", (with_years(text),)).fetchone()
    return sorted(row[0] or [])


def bm25_top(
    conn: psycopg.Connection, stats: TermStatistics, text: str, condition: str, params: list[Any], k: int
) -> list[tuple[int, float]]:
    """BM25 top-``k`` (chunk, score) among chunks matching any word of ``text`` and ``condition``."""
    lexemes = query_lexemes(conn, text)
    if not lexemes:
        return []
    _, mean_length = stats.corpus(conn)
    idf = stats.idf(conn, lexemes)
    sql = SCORE_SQL.format(k1_plus_1=K1 + 1, k1=K1, b=B, heading=HEADING_WEIGHT, condition=condition)
    tsquery = " | ".join(_quoted(t) for t in lexemes)
    rows = conn.execute(sql, [mean_length, lexemes, idf, tsquery, *params, k]).fetchall()
    return [(int(chunk), float(score)) for chunk, score in rows]
