"""Retrieval evaluation: every question through the retriever as its principal, scored per query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ragtune.config import RagtuneConfig
from ragtune.evaluate.cost import local_cores, query_cost
from ragtune.evaluate.data import Track, no_track
from ragtune.evaluate.items import EvalItem, hit_summaries, ranked_documents
from ragtune.evaluate.retrieval_metrics import CURVE_KS, Metric, score
from ragtune.retrieve.retriever import Retriever
from ragtune.types import Principal


def evaluate_retrieval(
    retriever: Retriever,
    items: Sequence[EvalItem],
    variant: str,
    config: RagtuneConfig,
    metrics: Sequence[Metric],
    principal: Principal,
    *,
    track: Track = no_track,
) -> list[dict[str, Any]]:
    depth = max([m.k or 100 for m in metrics] + [max(CURVE_KS)])
    cores = local_cores(config.cost, None)
    rows = []
    for item in track(items, f"retrieval {variant}", len(items)):
        retrieval = retriever.search(item.question, item.principal or principal, k=depth)
        ranked = ranked_documents(retrieval.hits, item.relevant)
        relevant = {d for d, g in item.relevant.items() if g > 0}
        total = retrieval.timings["total"]
        rows.append({
            "variant": variant,
            "query_id": item.id,
            "question": item.question,
            "metrics": score(ranked, item.relevant, metrics),
            "recall_curve": {str(k): len(relevant.intersection(ranked[:k])) / len(relevant) for k in CURVE_KS} if relevant else {},
            "timings_ms": {k: round(v * 1000, 3) for k, v in retrieval.timings.items()},
            "cost_usd": query_cost(config.cost, seconds=total, cores=cores),
            "relevant": sorted(relevant),
            "top": hit_summaries(retrieval.hits, item.relevant),
        })
    return rows
