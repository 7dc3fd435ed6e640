"""Answer metrics: SQuAD exact match and token F1, answer-in-context, citation precision/recall.

Normalisation is the official SQuAD v1.1 script's: lower case, punctuation and the articles
a/an/the removed, whitespace collapsed. Every score is the best over the gold answers.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    normalized = normalize_answer(prediction)
    return float(any(normalized == normalize_answer(g) for g in golds))


def _f1(prediction: str, gold: str) -> float:
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = sum((Counter(predicted) & Counter(expected)).values())
    if not predicted or not expected:
        return float(predicted == expected)
    if common == 0:
        return 0.0
    p, r = common / len(predicted), common / len(expected)
    return 2 * p * r / (p + r)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    return max((_f1(prediction, g) for g in golds), default=0.0)


def answer_in_context(golds: Sequence[str], contexts: Iterable[str]) -> float:
    """1 when some gold answer occurs (normalised) in the text the model was given: the ceiling
    any reader could reach on this retrieval."""
    haystack = " ".join(normalize_answer(c) for c in contexts)
    return float(any(normalize_answer(g) and f" {normalize_answer(g)} " in f" {haystack} " for g in golds))


def citation_precision(cited: Iterable[str], relevant: Iterable[str]) -> float | None:
    """Share of the distinct documents an answer cites that are relevant; None when it cites none."""
    cited_set = set(cited)
    return len(cited_set & set(relevant)) / len(cited_set) if cited_set else None


def citation_recall(cited: Iterable[str], relevant: Iterable[str]) -> float | None:
    """Share of the relevant documents the answer cites; None when nothing is judged relevant."""
    relevant_set = set(relevant)
    return len(set(cited) & relevant_set) / len(relevant_set) if relevant_set else None
