"""Length and reading level of an answer: statistics reported beside the style score (a house style
is often "short and plain"), not pass/fail metrics.

The reading level is the Flesch–Kincaid grade (Kincaid et al., 1975):
``0.39 × words/sentences + 11.8 × syllables/words − 15.59``, with syllables counted by Pyphen's
hyphenation dictionary (no download; textstat, the usual package, now fetches NLTK data at run
time). Grades below 0 are reported as 0.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)*")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)|\n\s*\n")


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


@lru_cache(maxsize=1)
def _hyphenator():  # type: ignore[no-untyped-def]
    import pyphen

    return pyphen.Pyphen(lang="en_US")


def syllables(word: str) -> int:
    if not word[0].isalpha():
        return 1
    return max(1, len(_hyphenator().positions(word.lower())) + 1)


def reading_grade(text: str) -> float | None:
    """Flesch–Kincaid grade level; None for a text without words."""
    words = _WORD.findall(text)
    if not words:
        return None
    sentences = max(1, len([s for s in _SENTENCE_END.split(text.strip()) if _WORD.search(s)]))
    grade = 0.39 * len(words) / sentences + 11.8 * sum(syllables(w) for w in words) / len(words) - 15.59
    return round(max(0.0, grade), 2)
