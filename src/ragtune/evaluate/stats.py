"""Summaries and paired comparisons of per-query scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linearly interpolated; NaN for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are defined; None when none is."""
    defined = [v for v in values if v is not None]
    return float(np.mean(defined)) if defined else None


@dataclass(frozen=True, slots=True)
class PairedDifference:
    n: int
    mean_a: float
    mean_b: float
    difference: float
    """mean(b - a) over the paired queries."""
    low: float
    high: float
    """Percentile bootstrap confidence interval of the difference."""
    p_value: float
    """Two-sided paired randomisation (sign-flip) test of 'no difference'."""
    confidence: float


def paired_difference(
    a: Sequence[float], b: Sequence[float], *, resamples: int = 10_000, confidence: float = 0.95, seed: int = 0
) -> PairedDifference:
    """Compare two systems on the same queries: the bootstrap resamples queries (keeping each
    query's pair together), the randomisation test flips the sign of each query's difference."""
    if len(a) != len(b) or not len(a):
        raise ValueError(f"paired scores need the same, non-zero number of queries ({len(a)} vs {len(b)})")
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    deltas = y - x
    rng = np.random.default_rng(seed)
    n = len(deltas)
    boot = deltas[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(boot, [tail, 1 - tail])
    observed = abs(deltas.mean())
    signs = rng.choice((-1.0, 1.0), size=(resamples, n))
    flipped = np.abs((signs * deltas).mean(axis=1))
    # +1 in both counts: the observed assignment is one of the permutations (never p = 0).
    p_value = (np.count_nonzero(flipped >= observed - 1e-12) + 1) / (resamples + 1)
    return PairedDifference(
        n, float(x.mean()), float(y.mean()), float(deltas.mean()), float(low), float(high), float(p_value), confidence
    )


def mean_interval(values: Sequence[float | None], *, resamples: int = 10_000, confidence: float = 0.95,
                  seed: int = 0) -> dict[str, float] | None:
    """The mean of the defined values with a percentile-bootstrap confidence interval; None when
    fewer than two values are defined."""
    defined = np.asarray([v for v in values if v is not None], dtype=float)
    if len(defined) < 2:
        return None
    rng = np.random.default_rng(seed)
    boot = defined[rng.integers(0, len(defined), size=(resamples, len(defined)))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(boot, [tail, 1 - tail])
    return {"mean": float(defined.mean()), "low": float(low), "high": float(high), "n": len(defined),
            "confidence": confidence}
