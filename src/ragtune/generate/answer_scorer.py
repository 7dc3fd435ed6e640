"""Scoring answer candidates (source sentences, table rows, list items) against a question.

An ``AnswerScorer`` has the same shape as a ``retrieve.rerank.Reranker``: ``score(question,
texts)`` returns one number per text, higher is better. So one trained cross-encoder (``ragtune
tune reader``) serves both reranking chunks and choosing the sentence that answers.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ragtune.embed.base import Embedder
from ragtune.generate.terms import content_terms


class AnswerScorer(Protocol):
    identity: str

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray: ...


_WANTS_NUMBER = re.compile(
    r"\b(how (many|much|long|old|often|far|big|large|high|fast|soon|early|late)|what (percentage|proportion|share|"
    r"fraction|number|amount|year|time|date|age|size|rate|price|cost|fee|limit)|which (year|date)|when|cost|costs|price|"
    r"percent|percentage|rate|minimum|maximum)\b",
    re.IGNORECASE,
)
_HAS_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|"
    r"million|billion|half|twice|once)\b",
    re.IGNORECASE,
)


_NEGATION = re.compile(r"\b(not|no|never|without|none|cannot|can't|don't|doesn't|isn't|aren't|won't)\b", re.IGNORECASE)


def wants_number(question: str) -> bool:
    """The question asks for an amount, a count, a date or a time."""
    return bool(_WANTS_NUMBER.search(question))


def has_number(text: str) -> bool:
    return bool(_HAS_NUMBER.search(text))


@dataclass(frozen=True, slots=True)
class FeatureWeights:
    cosine: float = 0.5
    """Embedding cosine of question and candidate (needs an embedder)."""
    terms: float = 0.4
    """Share of the question's content words in the candidate, each weighted by its rarity among
    the candidates (a word every candidate has tells nothing)."""
    number: float = 0.15
    """The question asks for an amount, count or date and the candidate states one."""
    negation: float = 0.15
    """Subtracted when exactly one of question and candidate is negated ("bikes not in stock"
    does not answer "bikes in stock"): content words alone cannot tell them apart."""
    embed_top: int = 16
    """Only this many candidates, the best by the other features, are embedded: embedding every
    sentence of five chunks costs more than the rest of the answer."""


class FeatureAnswerScorer:
    """The zero-training default: cosine + rarity-weighted term overlap + answer-type match.

    Deterministic for a given embedder; with no embedder it scores by words and type alone."""

    def __init__(self, embedder: Embedder | None = None, weights: FeatureWeights | None = None) -> None:
        self.embedder = embedder
        self.weights = weights or FeatureWeights()
        self.identity = f"features+{embedder.identity}" if embedder is not None else "features"

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        w = self.weights
        if not texts:
            return np.zeros(0, np.float32)
        question_terms = set(content_terms(question))
        text_terms = [set(content_terms(t)) for t in texts]
        document_frequency = Counter(term for terms in text_terms for term in terms & question_terms)
        rarity = {t: math.log(1 + (len(texts) + 1) / (1 + document_frequency[t])) for t in question_terms}
        total = sum(rarity.values()) or 1.0
        lexical = np.array([sum(rarity[t] for t in terms & question_terms) / total for terms in text_terms])
        number = np.zeros(len(texts))
        if wants_number(question):
            number = np.array([float(has_number(t)) for t in texts])
        negated = bool(_NEGATION.search(question))
        mismatch = np.array([float(bool(_NEGATION.search(t)) != negated) for t in texts])
        scores = w.terms * lexical + w.number * number - w.negation * mismatch
        if self.embedder is not None and w.cosine:
            order = np.argsort(-scores, kind="stable")[: w.embed_top]
            vectors = self.embedder.embed([question, *(texts[i] for i in order)])
            cosines = vectors[1:] @ vectors[0]
            floor = float(cosines.min()) if len(cosines) else 0.0
            cosine = np.full(len(texts), min(floor, 0.0))  # not embedded: no better than the worst embedded
            cosine[order] = cosines
            scores = scores + w.cosine * cosine
        return scores.astype(np.float32)
