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

from ragtune.generate.terms import content_terms


class AnswerScorer(Protocol):
    identity: str

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray: ...


_WANTS_NUMBER = re.compile(
    r"\b(how (many|much|long|old|often|far|big|large|high|fast|soon|early|late)|what (percentage|proportion|share|"
    r"fraction|number|amount|year|time|date|age|size|rate|price|cost|fee|limit)|which (year|date)|when|cost|costs|price|"
    r"percent|percentage|rate|minimum|maximum|allowance|budget|fee|fees|salary|wage|amount|cap|limit|deposit|discount)\b",
    re.IGNORECASE,
)
_HAS_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|"
    r"million|billion|half|twice|once)\b",
    re.IGNORECASE,
)


_NEGATION = re.compile(r"\b(not|no|never|without|none|cannot|can't|don't|doesn't|isn't|aren't|won't)\b", re.IGNORECASE)


_CODE = re.compile(r"(?<![\w-])(?=[\w-]*[^\W\d_])(?=[\w-]*\d)[\w]+(?:-[\w]+)*")


def codes(text: str) -> set[str]:
    """Identifiers that mix letters and digits, lower-cased: "B3", "NC-C200", "HAdV-55"."""
    return {m.group().lower() for m in _CODE.finditer(text)}


def negated_terms(text: str) -> set[str]:
    """Content words within three words after a negation: "bikes not in stock" negates "stock"."""
    negated: set[str] = set()
    for match in _NEGATION.finditer(text):
        negated.update(content_terms(" ".join(text[match.end() :].split()[:3])))
    return negated


def wants_number(question: str) -> bool:
    """The question asks for an amount, a count, a date or a time."""
    return bool(_WANTS_NUMBER.search(question))


def has_number(text: str) -> bool:
    return bool(_HAS_NUMBER.search(text))


@dataclass(frozen=True, slots=True)
class FeatureWeights:
    terms: float = 0.4
    """Share of the question's content words in the candidate, each weighted by its rarity among
    the candidates (a word every candidate has tells nothing)."""
    number: float = 0.15
    """The question asks for an amount, count or date and the candidate states one."""
    negation: float = 0.15
    """Subtracted when the candidate negates a word of the question the question does not negate,
    or the other way round ("bikes not in stock" does not answer "bikes in stock"): content words
    alone cannot tell them apart. A negation of other words ("never overnight") is no mismatch."""
    codes: float = 0.3
    """Times the share of the question's codes (tokens mixing letters and digits: "B3",
    "NC-C200", "COVID-19") the candidate states whole. Content words split "B3" into a letter
    and the number 3, which every row with a 3 in it shares."""
    source: float = 0.6
    """Times the dense cosine of the candidate's chunk with the question, which retrieval has
    already computed. On COVID-QA training questions this beat embedding every candidate
    sentence (span F1 .276 vs .271; both together .272) and costs nothing at question time,
    where embedding 16 sentences took 200–400 ms on 2 cores (bench/RESULTS.md)."""


class FeatureAnswerScorer:
    """The zero-training default: rarity-weighted term overlap + answer type + negation, plus the
    candidate's chunk similarity (``source_scores``). Deterministic, no model call."""

    identity = "features"

    def __init__(self, weights: FeatureWeights | None = None) -> None:
        self.weights = weights or FeatureWeights()

    def score(self, question: str, texts: Sequence[str], source_scores: Sequence[float] | None = None) -> np.ndarray:
        """``source_scores``: each candidate's chunk cosine with the question (0 when unknown)."""
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
        asked_negated = negated_terms(question)
        mismatch = np.array([float(bool((negated_terms(t) ^ asked_negated) & question_terms)) for t in texts])
        scores = w.terms * lexical + w.number * number - w.negation * mismatch
        asked_codes = codes(question)
        if asked_codes:
            scores = scores + w.codes * np.array([len(asked_codes & codes(t)) / len(asked_codes) for t in texts])
        if source_scores is not None:
            scores = scores + w.source * np.asarray(source_scores, dtype=np.float64)
        return scores.astype(np.float32)
