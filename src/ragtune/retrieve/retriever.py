"""Search as a principal: embed the query, ask the store (ACL and filters applied inside), fuse,
optionally rerank and diversify. Timings per stage are returned with the hits."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ragtune.config import RetrievalConfig
from ragtune.embed.base import Embedder
from ragtune.index.base import Hit, SearchRequest, Store
from ragtune.retrieve.fusion import reciprocal_rank_fusion, weighted_score_fusion
from ragtune.retrieve.mmr import mmr
from ragtune.retrieve.rerank import Reranker
from ragtune.types import Principal

Mode = Literal["hybrid", "dense", "bm25"]


@dataclass(slots=True)
class Retrieval:
    query: str
    mode: str
    hits: list[Hit]
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage: ``embed``, ``search``, ``fuse``, ``rerank``, ``total``."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "mode": self.mode,
            "timings_ms": {k: round(v * 1000, 3) for k, v in self.timings.items()},
            "hits": [h.to_dict() for h in self.hits],
        }


class Retriever:
    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        config: RetrievalConfig | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self.reranker = reranker

    def close(self) -> None:
        """Close the store (the embedder and reranker hold no resources to release)."""
        self.store.close()

    def __enter__(self) -> Retriever:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def search(
        self,
        query: str,
        principal: Principal,
        *,
        k: int | None = None,
        mode: Mode | None = None,
        filters: Mapping[str, Any] | None = None,
        rerank: bool | None = None,
    ) -> Retrieval:
        cfg = self.config
        k = k or cfg.k
        mode = mode or cfg.mode
        timings: dict[str, float] = {}
        started = time.perf_counter()
        vector = None
        if mode in ("hybrid", "dense"):
            if self.embedder is None:
                raise ValueError(f"mode '{mode}' needs an embedder")
            vector = self.embedder.embed_query(query)
        timings["embed"] = time.perf_counter() - started

        use_rerank = self.reranker is not None and (rerank if rerank is not None else True)
        depth = max(k, cfg.candidates if mode == "hybrid" or use_rerank or cfg.mmr else k)
        tick = time.perf_counter()
        found = self.store.search(
            SearchRequest(
                principal=principal,
                vector=vector,
                text=query if mode in ("hybrid", "bm25") else None,
                k=depth,
                filters=filters,
                exact=cfg.exact,
                with_vectors=cfg.mmr,
            )
        )
        timings["search"] = time.perf_counter() - tick

        tick = time.perf_counter()
        if mode == "hybrid":
            lists = {"dense": found.dense, "bm25": found.keyword}
            weights = {"dense": cfg.dense_weight, "bm25": cfg.bm25_weight}
            if cfg.fusion == "rrf":
                hits = reciprocal_rank_fusion(lists, weights, cfg.rrf_k)
            else:
                hits = weighted_score_fusion(lists, weights)
        else:
            hits = found.dense if mode == "dense" else found.keyword
        timings["fuse"] = time.perf_counter() - tick

        if use_rerank and hits:
            tick = time.perf_counter()
            head = hits[: cfg.rerank_top_n]
            scores = self.reranker.score(query, [h.text for h in head])
            for hit, score in zip(head, scores):
                hit.scores["rerank"] = float(score)
                hit.score = float(score)
            hits = sorted(head, key=lambda h: (-h.score, h.chunk_id)) + hits[cfg.rerank_top_n :]
            timings["rerank"] = time.perf_counter() - tick
        if cfg.mmr and vector is not None:
            hits = mmr(vector, hits, k, cfg.mmr_lambda)
        for hit in hits:
            hit.vector = None
        timings["total"] = time.perf_counter() - started
        return Retrieval(query, mode, hits[:k], timings)
