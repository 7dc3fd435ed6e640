"""Per-variant aggregates of a run's per-query rows: metric means, latency percentiles, cost."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ragtune.evaluate.behaviour.labels import label_scores
from ragtune.evaluate.stats import mean, mean_interval, percentile

INTERVAL_METRICS = ("style", "format_valid", "label_correct")
"""Behaviour metrics whose mean is reported with a bootstrap confidence interval."""


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean of every metric (over the queries where it is defined), p50/p95 latency per stage,
    mean tokens and cost per query and per 1,000 queries."""
    if not rows:
        return {"queries": 0}
    names = list(dict.fromkeys(name for row in rows for name in row["metrics"]))
    summary: dict[str, Any] = {"queries": len(rows)}
    summary["metrics"] = {name: mean([row["metrics"].get(name) for row in rows]) for name in names}
    if "numeric_match" in names:  # defined only where the gold answer is a number: say on how many
        summary["numeric_questions"] = sum(1 for row in rows if row["metrics"].get("numeric_match") is not None)
    stages = list(dict.fromkeys(stage for row in rows for stage in row["timings_ms"]))
    timings = {stage: [r["timings_ms"][stage] for r in rows if stage in r["timings_ms"]] for stage in stages}
    summary["latency_ms"] = {stage: {"p50": percentile(t, 50), "p95": percentile(t, 95)} for stage, t in timings.items()}
    for tokens in ("prompt_tokens", "completion_tokens"):
        if any(tokens in r for r in rows):
            summary[tokens] = mean([r.get(tokens) for r in rows])
    cost = mean([r.get("cost_usd") for r in rows]) or 0.0
    summary["cost_per_1k_queries_usd"] = cost * 1000
    curves = [r["recall_curve"] for r in rows if r.get("recall_curve")]
    if curves:
        summary["recall_curve"] = {k: mean([c[k] for c in curves]) for k in curves[0]}
    intervals = {name: mean_interval([row["metrics"].get(name) for row in rows]) for name in INTERVAL_METRICS}
    if any(intervals.values()):
        summary["intervals"] = {name: ci for name, ci in intervals.items() if ci}
    labelled = [r["label"] for r in rows if r.get("label")]
    if labelled:
        labels = sorted({lab["gold"] for lab in labelled} | {lab["stated"] for lab in labelled if lab["stated"]})
        summary["labels"] = {"questions": len(labelled), **label_scores(
            [lab["gold"] for lab in labelled], [lab["stated"] for lab in labelled], labels)}
    judged = [r["judge_scores"] for r in rows if r.get("judge_scores")]
    if judged:
        summary["judge_spread"] = judge_spread(judged)
    return summary


def judge_spread(per_query: Sequence[Sequence[float | None]]) -> dict[str, float | None]:
    """How much the LLM judge's run-level score moves between repeats: the mean over queries of
    each repeat, then the mean and standard deviation of those repeat means."""
    repeats = max(len(s) for s in per_query)
    means = [mean([s[i] for s in per_query if i < len(s)]) for i in range(repeats)]
    defined = [m for m in means if m is not None]
    if not defined:
        return {"mean": None, "std": None, "repeats": repeats}
    average = sum(defined) / len(defined)
    std = (sum((m - average) ** 2 for m in defined) / max(len(defined) - 1, 1)) ** 0.5
    return {"mean": average, "std": std, "repeats": repeats}
