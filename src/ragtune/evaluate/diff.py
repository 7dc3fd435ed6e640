"""Compare two saved runs query by query: per metric, the paired difference with its bootstrap
confidence interval and a randomisation-test p-value."""

from __future__ import annotations

from dataclasses import dataclass

from ragtune.errors import RagtuneError
from ragtune.evaluate.runs import EvalRun
from ragtune.evaluate.stats import PairedDifference, paired_difference


@dataclass(frozen=True, slots=True)
class MetricDiff:
    variant_a: str
    variant_b: str
    metric: str
    result: PairedDifference


def _pairs(a: EvalRun, b: EvalRun, variant_a: str | None, variant_b: str | None) -> list[tuple[str, str]]:
    if variant_a or variant_b:
        va = variant_a or (next(iter(a.variants)) if len(a.variants) == 1 else None)
        vb = variant_b or variant_a or (next(iter(b.variants)) if len(b.variants) == 1 else None)
        for run, name in ((a, va), (b, vb)):
            if name not in run.variants:
                raise RagtuneError(f"run {run.id} has no variant '{name}' (it has: {', '.join(run.variants)})")
        return [(va, vb)]  # type: ignore[list-item]
    if len(a.variants) == 1 and len(b.variants) == 1:
        return [(next(iter(a.variants)), next(iter(b.variants)))]
    common = [v for v in a.variants if v in b.variants]
    if not common:
        raise RagtuneError(
            f"runs {a.id} and {b.id} share no variant name; choose with --variant-a/--variant-b "
            f"(A: {', '.join(a.variants)}; B: {', '.join(b.variants)})"
        )
    return [(v, v) for v in common]


def diff_runs(
    a: EvalRun,
    b: EvalRun,
    *,
    variant_a: str | None = None,
    variant_b: str | None = None,
    resamples: int = 10_000,
    seed: int = 0,
) -> list[MetricDiff]:
    """B minus A, for every metric both runs measured on the same queries, plus total latency."""
    if a.kind != b.kind:
        raise RagtuneError(f"cannot diff a {a.kind} run ({a.id}) with a {b.kind} run ({b.id})")
    diffs = []
    for va, vb in _pairs(a, b, variant_a, variant_b):
        rows_a = {r["query_id"]: r for r in a.rows_of(va)}
        rows_b = {r["query_id"]: r for r in b.rows_of(vb)}
        shared = [q for q in rows_a if q in rows_b]
        if not shared:
            raise RagtuneError(f"variants '{va}' of {a.id} and '{vb}' of {b.id} share no query")
        metrics = list(dict.fromkeys(m for q in shared for m in rows_a[q]["metrics"] if m in rows_b[q]["metrics"]))
        for metric in [*metrics, "latency_ms"]:
            result = paired_metric(rows_a, rows_b, metric, resamples=resamples, seed=seed)
            if result is not None:
                diffs.append(MetricDiff(va, vb, metric, result))
    return diffs


def paired_metric(rows_a: dict[str, dict], rows_b: dict[str, dict], metric: str, *,  # type: ignore[type-arg]
                  resamples: int = 10_000, seed: int = 0) -> PairedDifference | None:
    """B minus A on ``metric`` (or ``latency_ms``) over the queries (id -> row) both define it
    for; None when there is none."""
    pairs = [(_value(rows_a[q], metric), _value(rows_b[q], metric)) for q in rows_a if q in rows_b]
    defined = [(x, y) for x, y in pairs if x is not None and y is not None]
    if not defined:
        return None
    xs, ys = zip(*defined)
    return paired_difference(xs, ys, resamples=resamples, seed=seed)


def _value(row: dict, metric: str) -> float | None:  # type: ignore[type-arg]
    if metric == "latency_ms":
        return row["timings_ms"].get("total")
    return row["metrics"].get(metric)
