from __future__ import annotations

import numpy as np
import pytest

from ragtune.index.base import Hit
from ragtune.retrieve.fusion import reciprocal_rank_fusion, weighted_score_fusion
from ragtune.retrieve.mmr import mmr


def hit(chunk_id: str, score: float, signal: str, vector: np.ndarray | None = None) -> Hit:
    return Hit(chunk_id, "d-" + chunk_id, "s", chunk_id, 0, 1, None, None, (), {}, score, {signal: score}, vector)


def test_rrf_sums_reciprocal_ranks_with_weights() -> None:
    dense = [hit("a", 0.9, "dense"), hit("b", 0.8, "dense"), hit("c", 0.1, "dense")]
    bm25 = [hit("c", 12.0, "bm25"), hit("a", 3.0, "bm25")]
    fused = reciprocal_rank_fusion({"dense": dense, "bm25": bm25}, {"dense": 1.0, "bm25": 2.0}, k=10)
    expected = {"a": 1 / 11 + 2 / 12, "b": 1 / 12, "c": 1 / 13 + 2 / 11}
    assert [h.chunk_id for h in fused] == sorted(expected, key=lambda c: -expected[c])
    for h in fused:
        assert h.score == pytest.approx(expected[h.chunk_id])
    both = next(h for h in fused if h.chunk_id == "a")
    assert both.scores["dense"] == 0.9 and both.scores["bm25"] == 3.0


def test_weighted_fusion_normalises_each_signal() -> None:
    dense = [hit("a", 0.9, "dense"), hit("b", 0.5, "dense"), hit("c", 0.1, "dense")]
    bm25 = [hit("c", 30.0, "bm25"), hit("b", 10.0, "bm25")]
    fused = weighted_score_fusion({"dense": dense, "bm25": bm25}, {"dense": 0.7, "bm25": 0.3})
    scores = {h.chunk_id: h.score for h in fused}
    assert scores["a"] == pytest.approx(0.7)
    assert scores["b"] == pytest.approx(0.7 * 0.5 + 0.0)
    assert scores["c"] == pytest.approx(0.3)
    assert [h.chunk_id for h in fused] == ["a", "b", "c"]


def test_weight_zero_turns_a_signal_off() -> None:
    dense = [hit("a", 0.9, "dense"), hit("b", 0.2, "dense")]
    bm25 = [hit("b", 5.0, "bm25"), hit("a", 1.0, "bm25")]
    for fuse in (lambda lists, w: reciprocal_rank_fusion(lists, w, 60), weighted_score_fusion):
        fused = fuse({"dense": dense, "bm25": bm25}, {"dense": 0.0, "bm25": 1.0})
        assert [h.chunk_id for h in fused] == ["b", "a"]


def test_mmr_prefers_a_different_second_result() -> None:
    query = np.array([1.0, 0.0, 0.0], np.float32)
    near = np.array([0.9, 0.43, 0.0], np.float32)
    twin = np.array([0.9, 0.43, 0.01], np.float32)
    other = np.array([0.8, 0.0, 0.6], np.float32)
    hits = [hit("near", 0.9, "dense", near), hit("twin", 0.9, "dense", twin), hit("other", 0.8, "dense", other)]
    assert [h.chunk_id for h in mmr(query, hits, 2, lambda_=1.0)] == ["near", "twin"]
    assert [h.chunk_id for h in mmr(query, hits, 2, lambda_=0.5)] == ["near", "other"]
