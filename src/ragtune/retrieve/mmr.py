"""Maximal marginal relevance (Carbonell & Goldstein 1998): trade relevance for diversity.

Picks, one at a time, the candidate maximising ``lambda * relevance - (1 - lambda) * max cosine
to the already picked``, so five near-identical chunks do not crowd out a second source.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ragtune.index.base import Hit


def mmr(query: np.ndarray, hits: Sequence[Hit], k: int, lambda_: float = 0.7) -> list[Hit]:
    candidates = [h for h in hits if h.vector is not None]
    if len(candidates) <= 1 or k <= 0:
        return list(hits)[:k]
    vectors = np.stack([h.vector for h in candidates])
    relevance = vectors @ query
    similarity = vectors @ vectors.T
    chosen: list[int] = []
    remaining = list(range(len(candidates)))
    while remaining and len(chosen) < k:
        if chosen:
            redundancy = similarity[np.ix_(remaining, chosen)].max(axis=1)
        else:
            redundancy = np.zeros(len(remaining))
        gains = lambda_ * relevance[remaining] - (1 - lambda_) * redundancy
        best = remaining[int(np.argmax(gains))]
        chosen.append(best)
        remaining.remove(best)
    return [candidates[i] for i in chosen]
