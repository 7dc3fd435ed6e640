"""Content words for deterministic text comparison (relevance gate, citation support).

Lower-cased word tokens without English stop words, with plural and verb endings folded so that
"bikes"/"bike" and "covered"/"covers" meet. Numbers stay whole ("3.5", "1,200" -> "1200") and
are kept apart: a sentence that states a number its source lacks is not supported by it.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)

STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    according answer based document documents source sources mentioned says said states stated
    given provided following yes ok okay sure""".split()
)


def _fold(word: str) -> str:
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith(("ss", "us", "is")):
            word = word[: len(word) - len(suffix)] + keep
            break
    # "bike", "bikes", "biking" and "biked" all become "bik".
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def content_terms(text: str) -> list[str]:
    """Content words of ``text`` in order (repeats kept)."""
    terms: list[str] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        if word[0].isdigit():
            terms.append(word.replace(",", ""))
        elif word not in STOP_WORDS and len(word) > 1:
            terms.append(_fold(word))
    return terms


def is_number(term: str) -> bool:
    return term[:1].isdigit()


def coverage(terms: list[str] | set[str], against: set[str]) -> float:
    """Share of the distinct ``terms`` found in ``against``; 0 for no terms."""
    unique = set(terms)
    return len(unique & against) / len(unique) if unique else 0.0
