"""Combining ranked lists from different signals into one.

* Reciprocal-rank fusion (Cormack et al. 2009): score = sum of w / (k + rank). Uses ranks only,
  so BM25's unbounded scores and cosine similarities need no calibration.
* Weighted score fusion: each list's scores min-max normalised to [0, 1], then a weighted sum
  (a chunk absent from a list contributes 0 for it). Keeps score gaps that RRF throws away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ragtune.index.base import Hit


def _merge(lists: Mapping[str, Sequence[Hit]], contributions: Mapping[str, Mapping[str, float]]) -> list[Hit]:
    fused: dict[str, Hit] = {}
    totals: dict[str, float] = {}
    for name, hits in lists.items():
        for hit in hits:
            kept = fused.setdefault(hit.chunk_id, hit)
            if kept is not hit:
                kept.scores.update(hit.scores)
                if kept.vector is None:
                    kept.vector = hit.vector
            totals[hit.chunk_id] = totals.get(hit.chunk_id, 0.0) + contributions[name].get(hit.chunk_id, 0.0)
    for chunk_id, hit in fused.items():
        hit.score = totals[chunk_id]
        hit.scores["fused"] = totals[chunk_id]
    # Ties broken by chunk id so equal inputs always give the same order.
    return sorted(fused.values(), key=lambda h: (-h.score, h.chunk_id))


def reciprocal_rank_fusion(lists: Mapping[str, Sequence[Hit]], weights: Mapping[str, float], k: int = 60) -> list[Hit]:
    contributions = {
        name: {hit.chunk_id: weights.get(name, 1.0) / (k + rank) for rank, hit in enumerate(hits, start=1)}
        for name, hits in lists.items()
    }
    return _merge(lists, contributions)


def weighted_score_fusion(lists: Mapping[str, Sequence[Hit]], weights: Mapping[str, float]) -> list[Hit]:
    contributions: dict[str, dict[str, float]] = {}
    for name, hits in lists.items():
        raw = [hit.scores.get(name, hit.score) for hit in hits]
        low, high = (min(raw), max(raw)) if raw else (0.0, 0.0)
        span = high - low
        weight = weights.get(name, 1.0)
        contributions[name] = {
            hit.chunk_id: weight * ((value - low) / span if span > 0 else 1.0) for hit, value in zip(hits, raw)
        }
    return _merge(lists, contributions)
