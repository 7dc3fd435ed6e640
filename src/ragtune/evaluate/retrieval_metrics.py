"""Ranking metrics over one query's ranked document ids and its graded judgements.

Definitions follow trec_eval (and so pytrec_eval, BEIR and ranx): a document is relevant when its
grade is > 0; nDCG uses the grade itself as gain (not 2^grade - 1) and the ideal ranking of all
judged relevant documents; MAP divides by every relevant document, retrieved or not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ragtune.errors import ConfigError

Qrels = Mapping[str, int]
"""Document id -> relevance grade for one query (grades <= 0 mean judged not relevant)."""

_NAMES = ("ndcg", "recall", "precision", "mrr", "map", "hit")
_SPEC = re.compile(r"^(?P<name>[a-z]+)(?:@(?P<k>\d+))?$")


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    k: int | None = None

    def __str__(self) -> str:
        return self.name if self.k is None else f"{self.name}@{self.k}"

    def __call__(self, ranked: Sequence[str], qrels: Qrels) -> float:
        return _FUNCTIONS[self.name](ranked, qrels, self.k)


def parse_metric(spec: str) -> Metric:
    """``"ndcg@10"`` -> Metric("ndcg", 10); ``map`` and ``mrr`` may omit the cut-off."""
    match = _SPEC.match(spec.strip().lower())
    if not match or match["name"] not in _NAMES:
        raise ConfigError(f"unknown metric '{spec}': use one of {', '.join(n + '@k' for n in _NAMES)}")
    k = int(match["k"]) if match["k"] else None
    if k is None and match["name"] not in ("map", "mrr"):
        raise ConfigError(f"metric '{spec}' needs a cut-off, e.g. {match['name']}@10")
    if k == 0:
        raise ConfigError(f"metric '{spec}': the cut-off must be at least 1")
    return Metric(match["name"], k)


def _relevant(qrels: Qrels) -> set[str]:
    return {doc for doc, grade in qrels.items() if grade > 0}


def _top(ranked: Sequence[str], k: int | None) -> Sequence[str]:
    return ranked if k is None else ranked[:k]


def ndcg(ranked: Sequence[str], qrels: Qrels, k: int | None) -> float:
    dcg = sum(max(qrels.get(d, 0), 0) / math.log2(i + 2) for i, d in enumerate(_top(ranked, k)))
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(_top(ideal, k)))  # type: ignore[arg-type]
    return dcg / idcg if idcg else 0.0


def recall(ranked: Sequence[str], qrels: Qrels, k: int | None) -> float:
    relevant = _relevant(qrels)
    return len(relevant.intersection(_top(ranked, k))) / len(relevant) if relevant else 0.0


def precision(ranked: Sequence[str], qrels: Qrels, k: int | None) -> float:
    relevant = _relevant(qrels)
    # trec_eval's P@k divides by k even when fewer than k documents were retrieved.
    return sum(1 for d in _top(ranked, k) if d in relevant) / (k or max(len(ranked), 1))


def mrr(ranked: Sequence[str], qrels: Qrels, k: int | None) -> float:
    relevant = _relevant(qrels)
    return next((1.0 / (i + 1) for i, d in enumerate(_top(ranked, k)) if d in relevant), 0.0)


def average_precision(ranked: Sequence[str], qrels: Qrels, k: int | None) -> float:
    relevant = _relevant(qrels)
    if not relevant:
        return 0.0
    found, total = 0, 0.0
    for i, doc in enumerate(_top(ranked, k)):
        if doc in relevant:
            found += 1
            total += found / (i + 1)
    return total / len(relevant)


def hit_rate(ranked: Sequence[str], qrels: Qrels, k: int | None) -> float:
    relevant = _relevant(qrels)
    return 1.0 if relevant.intersection(_top(ranked, k)) else 0.0


_FUNCTIONS = {
    "ndcg": ndcg,
    "recall": recall,
    "precision": precision,
    "mrr": mrr,
    "map": average_precision,
    "hit": hit_rate,
}

DEFAULT_METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10", "map@100", "hit@10")
CURVE_KS = (1, 3, 5, 10, 20, 50, 100)
"""Cut-offs of the recall@k curve drawn in reports."""


def score(ranked: Sequence[str], qrels: Qrels, metrics: Sequence[Metric]) -> dict[str, float]:
    return {str(m): m(ranked, qrels) for m in metrics}


def dedupe(ranked: Sequence[str]) -> list[str]:
    """Documents in order of their best chunk: a document ranks where its first chunk ranks."""
    return list(dict.fromkeys(ranked))
